from __future__ import annotations

import pytest

from conference import vouch

SECRET = b"s" * 32
NOW = 1_800_000_000.0
ALICE = vouch.Vouched("extension", "201")
ANCHORED = vouch.Vouched("extension", "102", "84951234567", controller_is_caller=True)


@pytest.mark.parametrize("who", [vouch.ANONYMOUS, ALICE, ANCHORED, vouch.Vouched("trunk", "carrier-a"),
                                 vouch.Vouched("bridge"), vouch.Vouched("anonymous", "", "+100", False),
                                 vouch.Vouched("anonymous", source="192.0.2.7"), vouch.Vouched(source="2001:db8::1")])
def test_what_kamailio_signs_the_bridge_verifies(who: vouch.Vouched) -> None:
    value = vouch.sign(SECRET, "call-1@host", "1000", who, NOW)
    assert vouch.verify(SECRET, value, "call-1@host", "1000", NOW + 3) == who


def test_an_anchored_call_says_what_to_dial_and_whose_hash_it_is() -> None:
    assert ANCHORED.anchored == ("84951234567", True) and ANCHORED.extension == "102"
    assert vouch.ANONYMOUS.anchored is None and vouch.ANONYMOUS.extension is None
    assert vouch.Vouched("trunk", "carrier").extension is None


def test_another_call_room_key_or_time_does_not_verify() -> None:
    value = vouch.sign(SECRET, "call-1", "1000", ALICE, NOW)
    assert vouch.verify(SECRET, value, "call-2", "1000", NOW) is None
    assert vouch.verify(SECRET, value, "call-1", "1001", NOW) is None
    assert vouch.verify(b"t" * 32, value, "call-1", "1000", NOW) is None
    assert vouch.verify(SECRET, value, "call-1", "1000", NOW + vouch.MAX_AGE + 1) is None
    assert vouch.verify(SECRET, value, "call-1", "1000", NOW - vouch.MAX_AGE - 1) is None


def test_a_changed_field_breaks_the_signature() -> None:
    value = vouch.sign(SECRET, "call-1", "1000", vouch.ANONYMOUS, NOW)
    forged = value.replace("who=anonymous:-", "who=extension:201")
    assert vouch.verify(SECRET, value.replace("src=-", "src=10.0.0.1"), "call-1", "1000", NOW) is None
    assert forged != value and vouch.verify(SECRET, forged, "call-1", "1000", NOW) is None


def test_wrong_pins_count_against_the_extension_the_trunks_caller_or_else_the_address() -> None:
    assert ALICE.lockout_key("sip:x@h") == "extension:201"
    assert vouch.Vouched("trunk", "carrier", source="10.0.0.1").lockout_key("sip:+7495@h") == "caller:sip:+7495@h"
    assert vouch.Vouched(source="192.0.2.7").lockout_key("sip:anything@h") == "address:192.0.2.7"
    assert vouch.ANONYMOUS.lockout_key("sip:a@h") == "caller:sip:a@h"


@pytest.mark.parametrize("value", ["", "extension 201", ";sig=", "v1;sig=00", "x" * 100_000 + ";sig=ab",
                                   "v1;ts=1;who=extension:201;anchor=-;sig=" + "0" * 64])
def test_garbage_is_not_believed(value: str) -> None:
    assert vouch.verify(SECRET, value, "call-1", "1000", NOW) is None


def test_malformed_fields_are_refused_even_when_signed() -> None:
    # A key compromise aside, only Kamailio signs; still, what it signs is checked for shape.
    for fields in ("v2;ts=1800000000;who=anonymous:-;anchor=-;src=-", "v1;ts=x;who=anonymous:-;anchor=-;src=-",
                   "v1;ts=1800000000;who=admin:1;anchor=-;src=-", "v1;ts=1800000000;who=extension:2 1;anchor=-;src=-",
                   "v1;ts=1800000000;who=anonymous:-;anchor=12a/caller;src=-",
                   "v1;ts=1800000000;who=anonymous:-;anchor=12/both;src=-",
                   "v1;ts=1800000000;who=anonymous:-;anchor=-;src=1.2.3.4/x",
                   "v1;ts=1800000000;who=anonymous:-;anchor=-"):
        value = f"{fields};sig={vouch._mac(SECRET, 'c', 'r', fields)}"
        assert vouch.verify(SECRET, value, "c", "r", NOW) is None, fields
