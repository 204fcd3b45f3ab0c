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


OWNER_RELAYED = vouch.Vouched("extension", "201", source="192.0.2.7", role="admin", caller="sip:201@h;x=1")
GUEST_RELAYED = vouch.Vouched(role="user", caller='"Guest" <sip:+7495;a=b@h>')
CONFERENCE = "conf-123456"


@pytest.mark.parametrize("who", [OWNER_RELAYED, GUEST_RELAYED])
def test_a_relay_ticket_carries_the_callers_identity_role_and_uri_to_its_conference(who: vouch.Vouched) -> None:
    ticket = vouch.sign_relay(SECRET, CONFERENCE, who, NOW)
    assert vouch.verify_relay(SECRET, ticket, CONFERENCE, NOW + 3) == who
    # What Kamailio then vouches for, for the relay leg's own Call-ID, reads back the same.
    assert vouch.verify(SECRET, vouch.sign(SECRET, "c-9", CONFERENCE, who, NOW), "c-9", CONFERENCE, NOW) == who


def test_a_relay_ticket_is_for_one_conference_and_is_no_calls_vouching() -> None:
    ticket = vouch.sign_relay(SECRET, CONFERENCE, OWNER_RELAYED, NOW)
    assert vouch.verify_relay(SECRET, ticket, "conf-654321", NOW) is None
    assert vouch.verify_relay(b"t" * 32, ticket, CONFERENCE, NOW) is None
    assert vouch.verify_relay(SECRET, ticket, CONFERENCE, NOW + vouch.MAX_AGE + 1) is None
    assert vouch.verify(SECRET, ticket, "c-1", CONFERENCE, NOW) is None
    # A call's vouching without a role is no ticket, even signed over the relay context.
    assert vouch.verify_relay(SECRET, vouch.sign(SECRET, vouch.RELAY_CONTEXT, CONFERENCE, ALICE, NOW),
                              CONFERENCE, NOW) is None
    forged = ticket.replace("as=admin", "as=user")
    assert forged != ticket and vouch.verify_relay(SECRET, forged, CONFERENCE, NOW) is None


def test_only_a_role_and_a_caller_make_a_ticket() -> None:
    for who in (ALICE, vouch.Vouched(role="chair", caller="sip:a@h"), vouch.Vouched(role="user")):
        with pytest.raises(ValueError):
            vouch.sign_relay(SECRET, CONFERENCE, who, NOW)


@pytest.mark.parametrize("field", ["as=chair/sip%3Aa", "as=admin/", "as=admin/%0d%0aVia%3A%20x",
                                   "as=admin/" + "a" * 800, "to=admin/sip%3Aa"])
def test_a_malformed_relay_field_does_not_verify_even_when_signed(field: str) -> None:
    fields = f"{vouch.VERSION};ts={int(NOW)};who=anonymous:-;anchor=-;src=-;{field}"
    mac = vouch._mac(SECRET, vouch.RELAY_CONTEXT, CONFERENCE, fields)
    assert vouch.verify(SECRET, f"{fields};sig={mac}", vouch.RELAY_CONTEXT, CONFERENCE, NOW) is None
