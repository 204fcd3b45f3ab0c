"""conference.webhooks: the signature, the pauses between tries, which URLs and addresses are allowed,
and the body made from a stream entry."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import pytest

from conference.fields import FieldError, clean
from conference.webhooks import RULES, Event, RetryPolicy, UrlRefusedError, address_allowed, signature, target, verify

SECRET = "whsec_test-secret"
BODY = b'{"id":"1-0","type":"joined"}'


def test_the_signature_is_hmac_sha256_of_timestamp_dot_body() -> None:
    header = signature(SECRET, 1_800_000_000, BODY)
    expected = hmac.new(SECRET.encode(), b"1800000000." + BODY, hashlib.sha256).hexdigest()
    assert header == f"t=1800000000,v1={expected}"


def test_a_receiver_accepts_only_the_right_secret_body_and_a_fresh_timestamp() -> None:
    header = signature(SECRET, 1_800_000_000, BODY)
    assert verify(header, SECRET, BODY, now=1_800_000_010)
    assert not verify(header, "whsec_other", BODY, now=1_800_000_010)
    assert not verify(header, SECRET, BODY + b" ", now=1_800_000_010)
    assert not verify(header, SECRET, BODY, now=1_800_000_000 + 301)  # outside the replay window
    assert not verify(header.replace("t=1800000000", "t=1800000100"), SECRET, BODY, now=1_800_000_100)
    for broken in ("", "t=,v1=", "v1=abc", f"t=x{1_800_000_000},v1=00", "t=99999999999999999999,v1=00"):
        assert not verify(broken, SECRET, BODY, now=1_800_000_000)


def test_pauses_double_up_to_the_longest_and_the_tries_end() -> None:
    policy = RetryPolicy(attempts=10, first=1.0, longest=60.0)
    assert policy.schedule() == [1, 2, 4, 8, 16, 32, 60, 60, 60]
    assert policy.pause(9) == 60 and policy.pause(10) is None
    assert RetryPolicy(attempts=1, first=1.0, longest=1.0).schedule() == []
    assert sum(RetryPolicy(10, 1.0, 600.0).schedule()) == 511  # the default: about 8.5 minutes


@pytest.mark.parametrize("url", [
    "ftp://hooks.example.com/x", "file:///etc/passwd", "gopher://example.com/", "javascript:alert(1)",
    "https://user:pass@hooks.example.com/", "https:///nohost", "https://hooks.example.com:0/",
    "https://hooks.example.com:99999/", "https://hooks.example.com/a b", "https://hooks.example.com/\n",
    "http://127.0.0.1/", "http://127.1.2.3:8080/x", "http://localhost/", "http://api.localhost/",
    "http://10.0.0.5/", "http://192.168.1.1/", "http://172.16.0.1/", "http://169.254.169.254/latest/meta-data",
    "http://[::1]/", "http://[fe80::1]/", "http://[::ffff:127.0.0.1]/", "http://0.0.0.0/", "http://100.64.0.1/",
    "http://224.0.0.1/", "http://[fd00::1]/",
])
def test_urls_that_are_refused(url: str) -> None:
    with pytest.raises(UrlRefusedError):
        target(url, allow_private=False)


def test_allowed_urls_and_their_parts() -> None:
    where = target("https://hooks.example.com/in?a=1", allow_private=False)
    assert (where.scheme, where.host, where.port, where.path, where.host_header) == (
        "https", "hooks.example.com", 443, "/in?a=1", "hooks.example.com")
    inside = target("http://127.0.0.1:8081", allow_private=True)
    assert (inside.port, inside.path, inside.host_header) == (8081, "/", "127.0.0.1:8081")
    assert target("http://[2001:4860::8888]:80/", allow_private=False).host_header == "[2001:4860::8888]"
    assert target("http://8.8.8.8/", allow_private=False).host == "8.8.8.8"
    with pytest.raises(UrlRefusedError):  # allow_private lets inside addresses through, never other schemes
        target("file:///etc/passwd", allow_private=True)


def test_resolved_addresses_are_judged_the_same_way() -> None:
    assert address_allowed("93.184.216.34", allow_private=False)
    assert address_allowed("2606:2800:220:1::1", allow_private=False)
    for inside in ("127.0.0.1", "10.1.2.3", "::1", "fe80::1%eth0", "::ffff:10.0.0.1", "169.254.169.254"):
        assert not address_allowed(inside, allow_private=False)
        assert address_allowed(inside, allow_private=True)
    assert not address_allowed("not-an-address", allow_private=True)


def test_the_rules_of_an_endpoint() -> None:
    clean({"url": "https://hooks.example.com/x", "events": ["joined", "left"], "enabled": True}, RULES)
    refused: list[dict[str, Any]] = [{"events": []}, {"events": ["joined", "joined"]}, {"events": ["exploded"]},
                                     {"url": "short"}, {"enabled": 1}, {"description": "a\x00b"}]
    for bad in refused:
        with pytest.raises(FieldError):
            clean(bad, RULES)


def test_an_event_from_the_stream_becomes_a_stable_json_body() -> None:
    entry = {"type": "call_failed", "room": "conf-123456", "number": "5551234", "status": "486", "attempt": "2"}
    event = Event.from_stream("1800000000123-0", entry)
    assert (event.kind, event.room, event.time) == ("call_failed", "conf-123456", 1_800_000_000.123)
    body = event.body()
    assert body == event.body()  # the same bytes every time: retries send what was signed
    assert json.loads(body) == {"id": "1800000000123-0", "type": "call_failed", "room": "conf-123456",
                                "time": 1_800_000_000.123,
                                "data": {"number": "5551234", "status": 486, "attempt": 2}}
    joined = Event.from_stream("1-0", {"type": "joined", "room": "100", "caller": "sip:007@x", "present": "x"})
    assert dict(joined.fields) == {"caller": "sip:007@x", "present": "x"}  # only known numbers become numbers
