"""The SIP edge's walls against the fake KSR: bans, floods, scanners, sizes, Contacts, dialogs."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from conference.placement import NodeStatus, Run
from kemi import dialogs, edge, routes
from tests.unit.fake_ksr import FakeKSR
from tests.unit.test_kemi_routes import CARRIER, EXT_100, REALM, SECRET, SITE, Live, initial, route

LIMITS = edge.Limits(max_message_bytes=1000, max_uri_chars=100, auth_failures=3, auth_ban_seconds=60)


def table(entries: dict[tuple[str, str], Any]) -> Any:
    """An htable sht_get backed by a dict of (table, key) -> value."""
    return lambda name, key: entries.get((name, key))


@pytest.mark.parametrize("agent", ["friendly-scanner", "SIPVicious 0.3", "sipcli/v1.8", "VaxSIPUserAgent/3.1",
                                   "Friendly-Scanner", "x sipvicious y"])
def test_scanners_are_recognised_whatever_their_case(agent: str) -> None:
    assert edge.is_scanner(agent)


@pytest.mark.parametrize("agent", [None, "", "Linphone/5.2", "PJSUA v2.12 Linux", "Yealink SIP-T46S", "sipp"])
def test_phones_are_not_scanners(agent: str | None) -> None:
    assert not edge.is_scanner(agent)


def test_scanner_check_is_linear_on_long_hostile_input() -> None:
    hostile = "sipv" * 50_000 + "!"
    started = time.perf_counter()
    assert not edge.is_scanner(hostile)
    assert time.perf_counter() - started < 0.5


def test_size_limits() -> None:
    assert edge.size_refusal(1000, 100, LIMITS) is None
    assert edge.size_refusal(1001, 10, LIMITS) == (513, "Message Too Large")
    assert edge.size_refusal(500, 101, LIMITS) == (414, "Request-URI Too Long")


def test_contact_hosts_of_every_uri() -> None:
    text = ('"Sip Phone" <sip:100@10.0.0.1:5090;transport=udp>;expires=60, <sips:a@[2001:db8::1]:7000>,'
            ' sip:b@Host.Example, <sip:10.0.0.9>')
    assert edge.contact_hosts(text) == [("10.0.0.1", 5090), ("2001:db8::1", 7000), ("host.example", 5060),
                                        ("10.0.0.9", 5060)]
    assert edge.contact_hosts("*") == []


def test_contact_hosts_refuses_what_is_too_much_to_read() -> None:
    assert edge.contact_hosts("<sip:a@h>," * 21) is None
    assert edge.contact_hosts("x" * (edge.MAX_CONTACT_CHARS + 1)) is None


def test_forbidden_contacts() -> None:
    forbidden = ["10.0.0.1:5090", "gw.example", "127.0.0.1:5060"]
    assert edge.forbidden_contact([("10.0.0.1", 5090)], forbidden) == "10.0.0.1:5090"
    assert edge.forbidden_contact([("10.0.0.1", 5091)], forbidden) is None  # another port of that host
    assert edge.forbidden_contact([("gw.example", 7000)], forbidden) == "gw.example:7000"  # a host alone: any port
    assert edge.forbidden_contact([("127.0.0.1", 5060)], forbidden) == "127.0.0.1:5060"
    assert edge.forbidden_contact([("192.0.2.7", 5060)], forbidden) is None


def test_a_banned_source_is_dropped_unanswered() -> None:
    ksr = initial({"$si": "192.0.2.9"}, {"htable.sht_get": table({("ipban", "192.0.2.9"): 1})})
    route(ksr)
    # nothing else read, nothing answered; only counted (kemi.metrics)
    assert ksr.calls == [("htable.sht_get", ("ipban", "192.0.2.9")),
                         ("xhttp_prom.counter_inc_l1", ("sip_dropped_total", 1, "banned"))]


def test_a_flooding_stranger_is_banned() -> None:
    ksr = initial({"$si": "192.0.2.9"}, {"pike.pike_check_req": -2})
    route(ksr, Live())
    assert ksr.called("htable.sht_seti") == [("trusted", "192.0.2.9", edge.UNTRUSTED), ("ipban", "192.0.2.9", 1)]
    assert ksr.replies() == [] and not ksr.called("tm.t_relay")


@pytest.mark.parametrize("source", ["127.0.0.1", "10.0.0.1"])  # a bridge node's address, a trunk's
def test_bridge_nodes_and_trunks_are_never_banned(source: str) -> None:
    ksr = initial({"$si": source, "$sp": 5090, "$fU": "x", "$rU": "1000"}, {"pike.pike_check_req": -1})
    route(ksr, Live())
    assert not ksr.called("htable.sht_seti") or ksr.called("htable.sht_seti")[0][0] == "trusted"
    assert ksr.called("tm.t_relay") == [()]


def test_trust_is_remembered_and_not_read_again() -> None:
    ksr = initial({"$si": "192.0.2.9"}, {"pike.pike_check_req": -1,
                                         "htable.sht_get": table({("trusted", "192.0.2.9"): edge.TRUSTED})})
    route(ksr, Live(down=True))  # Redis is not asked (it would fail the decision)
    assert not ksr.called("htable.sht_seti") and ksr.called("sanity.sanity_check")


def test_our_own_address_is_trusted_without_reading_redis() -> None:
    site = routes.Site(REALM, SECRET, trusted_hosts=frozenset({"192.0.2.1"}))
    ksr = initial({"$si": "192.0.2.1"}, {"pike.pike_check_req": -1})
    routes.request_route(ksr, Live(down=True), site)
    assert not ksr.called("htable.sht_seti")


def test_scanners_are_dropped_unanswered() -> None:
    ksr = initial({"$ua": "friendly-scanner"})
    route(ksr)
    assert ksr.replies() == [] and not ksr.called("tm.t_relay")


def test_oversized_requests_are_refused() -> None:
    ksr = initial({"$ml": 70_000})
    route(ksr)
    assert ksr.replies() == [513]
    ksr = initial({"$ru": "sip:" + "1" * 600 + "@kamconf"})
    route(ksr)
    assert ksr.replies() == [414]


def test_sanity_runs_every_check() -> None:
    ksr = initial()
    route(ksr)
    # 512 Proxy-Require and 2048 digest credentials on top of the earlier 1511.
    assert ksr.called("sanity.sanity_check") == [(4071, 7)]


def test_wrong_passwords_are_counted_and_the_last_one_bans() -> None:
    failures = iter([1, 2, 3])
    results = {"auth.pv_auth_check": -2, "htable.sht_inc": lambda name, key: next(failures)}
    site = routes.Site(REALM, SECRET, limits=LIMITS)
    for expected_challenges in (1, 1, 0):
        ksr = initial({"$rm": "REGISTER", "$tU": "100", "$si": "192.0.2.9"}, results)
        routes.request_route(ksr, Live(), site)
        assert len(ksr.called("auth.auth_challenge")) == expected_challenges
    assert ksr.called("htable.sht_setxi") == [("ipban", "192.0.2.9", 1, 60)]


def test_missing_or_stale_credentials_are_no_failure() -> None:
    for result in (-5, -4, -6):
        ksr = initial({"$rm": "REGISTER", "$tU": "100"}, {"auth.pv_auth_check": result})
        route(ksr)
        assert not ksr.called("htable.sht_inc") and ksr.called("auth.auth_challenge")


def contacts_register(contact: str, site: routes.Site = SITE) -> FakeKSR:
    ksr = initial({"$rm": "REGISTER", "$tU": "100", "$(hdr(Contact)[*])": contact})
    routes.request_route(ksr, Live(), site)
    return ksr


def test_register_with_a_contact_at_a_gateway_or_at_kamconf_is_forbidden() -> None:
    assert contacts_register(f"<sip:100@{CARRIER.gateway}>").replies() == [403]
    assert contacts_register("<sip:100@127.0.0.1:5080>").replies() == [403]  # a bridge node
    site = routes.Site(REALM, SECRET, own_addresses=frozenset({"192.0.2.1:5060"}))
    assert contacts_register("<sip:100@192.0.2.1>", site).replies() == [403]  # Kamailio, port implied
    ksr = contacts_register("<sip:100@192.0.2.50:5062>;expires=60")
    assert ksr.replies() == [] and ksr.called("registrar.save") == [("location", 0)]
    assert not contacts_register("<sip:a@h>," * 21).called("registrar.save")


def test_an_initial_invite_becomes_a_dialog_with_a_signed_record_route() -> None:
    ksr = initial({"$ci": "abc"})
    route(ksr)
    assert ksr.called("dialog.dlg_manage") == [()]
    assert ksr.pv.get(dialogs.CALLER) == "127.0.0.1"
    assert ksr.called("rr.add_rr_param") == [(f";kc={dialogs.cookie(SECRET, 'abc')}",)]
    order = [name for name, _ in ksr.calls]
    assert order.index("dialog.dlg_manage") < order.index("rr.record_route") < order.index("tm.t_relay")


def test_the_first_answer_names_the_callee() -> None:
    ksr = FakeKSR({"$rs": 200, "$si": "192.0.2.5"})
    routes.reply_with_media(ksr)
    ksr.pv.values["$si"] = "192.0.2.6"  # a later re-INVITE's answer, from the other side
    routes.reply_with_media(ksr)
    assert ksr.pv.get(dialogs.CALLEE) == "192.0.2.5"


def in_dialog(method: str, source: str, known: bool = True, from_tag: str = "caller-tag",
              cookie: bool = False, extra: dict[str, str] | None = None) -> FakeKSR:
    to_caller = from_tag != "caller-tag"
    pv = {"$rm": method, "$si": source, "$ft": from_tag, "$dlg(from_tag)": "caller-tag",
          dialogs.CALLER: "192.0.2.1", dialogs.CALLEE: "127.0.0.1",
          dialogs.REQUEST_URI[0]: "192.0.2.1" if to_caller else "127.0.0.1", dialogs.REQUEST_URI[1]: "5080",
          dialogs.CALLER_HOSTS: "192.0.2.1:5080,10.1.1.1:5060", dialogs.CALLEE_HOSTS: "127.0.0.1:5080",
          **(extra or {})}
    ksr = FakeKSR(pv, {"siputils.has_totag": 1, "rr.loose_route": 1, "dialog.is_known_dlg": 1 if known else -1,
                       "rr.check_route_param": 1 if cookie else -1})
    route(ksr)
    return ksr


def test_both_parties_of_a_known_dialog_are_relayed() -> None:
    assert in_dialog("BYE", "192.0.2.1").called("tm.t_relay") == [()]
    assert in_dialog("INFO", "127.0.0.1", from_tag="callee-tag").called("tm.t_relay") == [()]


def test_a_party_s_in_dialog_request_goes_only_to_the_other_party() -> None:
    host, port = dialogs.REQUEST_URI
    # The caller writes the Request-URI: a carrier's gateway there is refused, not relayed.
    gateway_host, gateway_port = CARRIER.gateway.split(":")
    ksr = in_dialog("INVITE", "192.0.2.1", extra={host: gateway_host, port: gateway_port})
    assert ksr.replies() == [403] and not ksr.called("tm.t_relay") and not ksr.called("rtpengine.rtpengine_offer")
    # Another port of the other party's host is another party (a gateway beside a bridge node).
    assert in_dialog("INVITE", "192.0.2.1", extra={port: "5090"}).replies() == [403]
    assert in_dialog("INFO", "127.0.0.1", from_tag="callee-tag", extra={host: "127.0.0.1"}).replies() == [403]
    # A destination URI (a Route after ours) counts rather than the Request-URI.
    assert in_dialog("BYE", "192.0.2.1", extra={host: "198.51.100.1", "$du": "sip:127.0.0.1:5080;lr",
                                                dialogs.DESTINATION[0]: "127.0.0.1",
                                                dialogs.DESTINATION[1]: "5080"}).called("tm.t_relay")
    # A URI without a port is at 5060.
    assert in_dialog("BYE", "127.0.0.1", from_tag="callee-tag", extra={host: "10.1.1.1", port: ""}).called("tm.t_relay")


def test_a_re_invite_moves_its_sender_where_the_other_party_s_requests_may_go() -> None:
    ksr = in_dialog("INVITE", "192.0.2.1", extra={dialogs.CONTACT[0]: "192.0.2.77", dialogs.CONTACT[1]: "5090"})
    assert ksr.called("tm.t_relay") == [()]
    assert ksr.pv.get(dialogs.CALLER_HOSTS) == "192.0.2.1:5080,10.1.1.1:5060,192.0.2.77:5090"
    ksr = in_dialog("INFO", "192.0.2.1", extra={dialogs.CONTACT[0]: "192.0.2.77"})  # no target refresh
    assert ksr.pv.get(dialogs.CALLER_HOSTS) == "192.0.2.1:5080,10.1.1.1:5060"


def test_a_dialog_knows_where_each_party_may_be_reached() -> None:
    ksr = initial({"$ci": "abc", "$si": "192.0.2.1", "$sp": 5062, dialogs.CONTACT[0]: "10.1.1.1",
                   dialogs.REQUEST_URI[0]: "127.0.0.1", dialogs.REQUEST_URI[1]: "5090"})
    route(ksr)
    assert ksr.pv.get(dialogs.CALLER_HOSTS) == "192.0.2.1:5062,10.1.1.1:5060"
    assert ksr.pv.get(dialogs.CALLEE_HOSTS) == "127.0.0.1:5090"  # where it was sent (the fake keeps no $du)
    ksr = FakeKSR({"$rs": 200, "$si": "192.0.2.5", "$sp": 5070, dialogs.CONTACT[0]: "192.0.2.55",
                   dialogs.CONTACT[1]: "5071", dialogs.CALLEE_HOSTS: "192.0.2.9:5060"})
    routes.reply_with_media(ksr)
    assert ksr.pv.get(dialogs.CALLEE_HOSTS) == "192.0.2.9:5060,192.0.2.5:5070,192.0.2.55:5071"


def test_a_stranger_with_a_dialog_s_tags_is_refused_before_loose_route() -> None:
    for from_tag in ("caller-tag", "callee-tag"):
        ksr = in_dialog("BYE", "198.51.100.7", from_tag=from_tag)
        assert ksr.replies() == [403]
        assert not ksr.called("rr.loose_route") and not ksr.called("rtpengine.rtpengine_delete0")


def test_a_trunk_or_bridge_address_may_speak_for_a_dialog_party() -> None:
    # CARRIER's source 10.0.0.1 hangs up a call whose 200 came from another of the carrier's nodes.
    assert in_dialog("BYE", "10.0.0.1", from_tag="callee-tag").called("tm.t_relay") == [()]


def test_an_unknown_dialog_is_never_relayed_nor_offered_to_rtpengine() -> None:
    ksr = in_dialog("INVITE", "192.0.2.1", known=False)
    assert ksr.replies() == [404]
    assert not ksr.called("tm.t_relay") and not ksr.called("rtpengine.rtpengine_offer")
    ack = in_dialog("ACK", "192.0.2.1", known=False)
    assert ack.replies() == [] and not ack.called("tm.t_relay")


def test_after_a_restart_only_a_bye_with_our_cookie_passes() -> None:
    assert in_dialog("BYE", "192.0.2.1", known=False, cookie=True).called("tm.t_relay") == [()]
    assert in_dialog("INFO", "192.0.2.1", known=False, cookie=True).replies() == [404]
    assert in_dialog("BYE", "192.0.2.1", known=False, cookie=False).replies() == [404]


def test_an_ended_dialog_is_unknown() -> None:
    pv = {"$rm": "INFO", "$si": "192.0.2.1", "$dlg(state)": dialogs.DELETED}
    ksr = FakeKSR(pv, {"siputils.has_totag": 1, "rr.loose_route": 1, "rr.check_route_param": -1})
    route(ksr)
    assert ksr.replies() == [404]


def test_the_unknown_user_s_password_is_stable_and_secret() -> None:
    assert routes.unusable_ha1(SECRET, "555") == routes.unusable_ha1(SECRET, "555")
    assert routes.unusable_ha1(SECRET, "555") != routes.unusable_ha1(SECRET, "556")
    assert routes.unusable_ha1(SECRET, "100") != EXT_100.ha1


def test_keepalives_are_asked_of_both_sides_when_configured() -> None:
    ksr = initial()
    routes.request_route(ksr, Live(), routes.Site(REALM, SECRET, keepalive=True))
    assert ksr.called("dialog.dlg_set_property") == [("ka-src",), ("ka-dst",)]
    ksr = initial()
    route(ksr)
    assert not ksr.called("dialog.dlg_set_property")


def test_a_call_to_a_bridge_is_tied_to_the_run_of_its_node_and_its_answer_recorded() -> None:
    ksr = initial({"$ci": "abc"})
    route(ksr)
    (target,) = ksr.called("setdsturi")
    (node,) = [node for node in Live().live_nodes() if node.sip_uri == target[0]]
    assert ksr.pv.get(dialogs.RUNS_VAR) == node.run
    assert (dialogs.RUNS, node.run, 0) in ksr.called("htable.sht_seti")
    ksr.pv.values.update({"$dlg(h_entry)": 7, "$dlg(h_id)": 42, "$si": "127.0.0.1"})
    dialogs.note_answer(ksr)  # its 2xx: the dialog has its id now
    assert (dialogs.CALLS, f"{node.run} 7 42", 1) in ksr.called("htable.sht_seti")
    dialogs.forget(ksr)  # its BYE
    assert ksr.called("htable.sht_rm") == [(dialogs.CALLS, f"{node.run} 7 42")]


def sweeping(tables: dict[str, dict[str, int]]) -> FakeKSR:
    """A KSR whose htables hold `tables` (name -> key -> value), walked by the htable iterator, and
    whose dialog RPC ends any dialog."""
    walks: dict[str, Any] = {}
    pv: dict[str, Any] = {}

    def start(iterator: str, table: str) -> int:
        walks[iterator] = iter(list(tables[table].items()))
        return 1

    def next_entry(iterator: str) -> int:
        entry = next(walks[iterator], None)
        if entry is None:
            return -1
        pv.update({f"$shtitkey({iterator})": entry[0], f"$shtitval({iterator})": entry[1]})
        return 1

    def rpc(document: str) -> int:
        call = json.loads(document)
        pv["$jsonrpl(body)"] = json.dumps({"jsonrpc": "2.0", "id": call["id"], "result": "ok"})
        return 1

    ksr = FakeKSR(results={"htable.sht_iterator_start": start, "htable.sht_iterator_next": next_entry,
                           "jsonrpcs.exec": rpc})
    ksr.pv.values = pv  # the iterators' keys and values, the RPC's reply, as they change
    return ksr


def test_the_sweep_ends_a_replaced_run_at_once_and_an_absent_one_on_its_second_absence() -> None:
    alive = NodeStatus("a", "127.0.0.1", 5080, 10, 0, instance="now")
    other = NodeStatus("b", "127.0.0.1", 5081, 10, 0, instance="x")
    ksr = sweeping({
        dialogs.RUNS: {"a/now": 1, "a/before": 0, "c/gone": 0, "d/gone": 1, "b/x": 0, "e/lost": 1},
        dialogs.CALLS: {"a/before 7 1": 1, "a/now 7 2": 1, "d/gone 8 3": 1, "a/before 9 4": 1},
    })
    ended = dialogs.sweep(ksr, [alive, other], {"a", "b", "c", "d"})
    assert ended == [("a/before", Run.REPLACED, 2), ("d/gone", Run.ABSENT, 1)]
    rpcs = [(call["method"], call["params"]) for (document,) in ksr.called("jsonrpcs.exec")
            for call in [json.loads(document)]]
    assert rpcs == [("dlg.end_dlg", [7, 1]), ("dlg.end_dlg", [9, 4]), ("dlg.end_dlg", [8, 3])]
    assert ksr.called("htable.sht_rm") == [(dialogs.RUNS, "a/before"), (dialogs.CALLS, "a/before 7 1"),
                                           (dialogs.CALLS, "a/before 9 4"), (dialogs.RUNS, "d/gone"),
                                           (dialogs.CALLS, "d/gone 8 3")]
    # Seen alive again: its count of absences starts over; absent once: counted, not ended; a node
    # Redis does not even know (it lost its data): never judged.
    assert ksr.called("htable.sht_seti") == [(dialogs.RUNS, "a/now", 0), (dialogs.RUNS, "c/gone", 1),
                                             (dialogs.RUNS, "e/lost", 0)]


@pytest.mark.parametrize("accept", [None, "", "application/sdp", "text/plain, application/SDP;level=1",
                                    "*/*", "application/*;q=0.5"])
def test_an_sdp_answer_is_acceptable(accept: str | None) -> None:
    assert edge.accepts_sdp(accept)


@pytest.mark.parametrize("accept", ["text/nobodyknowsthis", "application/sdp;q=0", "application/sdpx",
                                    "text/plain;q=1, image/png", "application/sdp;q=0.0, text/plain"])
def test_no_sdp_answer_is_acceptable(accept: str) -> None:
    assert not edge.accepts_sdp(accept)
