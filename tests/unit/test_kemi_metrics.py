"""kemi.metrics: bounded labels, the metrics port kept apart from SIP, the relay latency."""

from __future__ import annotations

from kemi import metrics
from tests.unit.fake_ksr import FakeKSR


def test_labels_are_bounded_whatever_a_caller_writes() -> None:
    assert metrics.method_label("INVITE") == "INVITE"
    assert metrics.method_label("X-ATTACK-" + "A" * 100) == "OTHER"
    assert metrics.method_label(None) == "OTHER"
    assert [metrics.status_class(code) for code in (100, 183, 200, 486, 503, 699, 99, 700, None)] == \
        ["1xx", "1xx", "2xx", "4xx", "5xx", "6xx", None, None, None]


def test_requests_and_replies_are_counted_by_method_and_class() -> None:
    ksr = FakeKSR({"$rm": "FOO", "$rs": 503})
    metrics.request(ksr)
    metrics.reply(ksr)
    assert ksr.called("xhttp_prom.counter_inc_l1") == [(metrics.REQUESTS, 1, "OTHER")]
    assert ksr.called("xhttp_prom.counter_inc_l2") == [(metrics.REPLIES, 1, "OTHER", "5xx")]
    local = FakeKSR({"$rm": "OPTIONS", "$snd(buf)": "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP x\r\n"})
    metrics.local_reply(local)
    assert local.called("xhttp_prom.counter_inc_l2") == [(metrics.REPLIES, 1, "OPTIONS", "2xx")]
    http_answer = FakeKSR({"$rm": "GET", "$snd(buf)": "HTTP/1.1 404 Not Found\r\n"})
    metrics.local_reply(http_answer)
    assert http_answer.called("xhttp_prom.counter_inc_l2") == []
    assert [metrics.sent_status(s) for s in ("SIP/2.0 486 Busy", "SIP/2.0 4x6", "SIP/2.0", "")] == \
        [486, None, None, None]


def test_metrics_only_on_the_metrics_port() -> None:
    on_sip = FakeKSR({"$Rp": 5060})
    metrics.http(on_sip, 9183)
    assert on_sip.called("xhttp.xhttp_reply")[0][0] == 403
    assert not on_sip.called("xhttp_prom.dispatch")
    other_path = FakeKSR({"$Rp": 9183, "$hu": "/admin"})
    metrics.http(other_path, 9183)
    assert other_path.called("xhttp.xhttp_reply")[0][0] == 404
    scrape = FakeKSR({"$Rp": 9183, "$hu": "/metrics"})
    metrics.http(scrape, 9183)
    assert scrape.called("xhttp_prom.dispatch") == [()] and not scrape.called("xhttp.xhttp_reply")
    # Every counter's usual series exist from 0 (an increment by nothing), before the metrics are written.
    made = [args for func, args in scrape.calls if func.startswith("xhttp_prom.counter_inc")]
    assert all(args[1] == 0 for args in made)
    assert (metrics.BANS, 0, metrics.AUTH) in made and (metrics.REPLIES, 0, "INVITE", "5xx") in made
    assert scrape.calls[-1] == ("xhttp_prom.dispatch", ())
    assert metrics.on_metrics_port(scrape, 9183) and not metrics.on_metrics_port(on_sip, 9183)


def test_relay_latency_is_observed_once_per_relayed_invite() -> None:
    ksr = FakeKSR()
    metrics.first_reply(ksr)  # a reply to nothing relayed here: nothing observed
    metrics.relaying(ksr)
    metrics.first_reply(ksr)
    metrics.first_reply(ksr)  # a later reply of the same transaction
    observed = ksr.called("xhttp_prom.histogram_observe_l1")
    assert len(observed) == 1 and observed[0][0] == metrics.RELAY and observed[0][2] == "INVITE"
    assert 0 <= float(observed[0][1]) < 60
