"""conference.address: a room's name on the wire, formatted and parsed in one place."""

from __future__ import annotations

import hashlib

import pytest

from conference import address
from conference.address import DIAL_IN, Kind, RoomAddress


@pytest.mark.parametrize(("made", "wire"), [
    (address.room("1000"), "1000"),
    (address.local("201"), "*8201"),
    (address.scheduled("123456"), "conf-123456"),
    (DIAL_IN, "dial-in"),
])
def test_each_kind_keeps_its_wire_form_and_reads_back(made: RoomAddress, wire: str) -> None:
    assert str(made) == wire
    assert RoomAddress.parse(wire) == made


def test_a_calls_room_is_named_after_its_call_id_as_kemi_always_did() -> None:
    made = address.call("abc@10.0.0.1")
    assert made.kind == Kind.CALL
    assert str(made) == "call-" + hashlib.sha1(b"abc@10.0.0.1").hexdigest()[:16]
    assert RoomAddress.parse(str(made)) == made
    assert address.call("abc@10.0.0.1") == made and address.call("abd@10.0.0.1") != made


def test_parse_gives_kind_and_id() -> None:
    assert RoomAddress.parse("*8201") == RoomAddress(Kind.LOCAL, "201")
    assert RoomAddress.parse("conf-42") == RoomAddress(Kind.SCHEDULED, "42")
    assert RoomAddress.parse("dial-in") == RoomAddress(Kind.DIAL_IN, "")
    assert RoomAddress.parse("0" * 32) == RoomAddress(Kind.ROOM, "0" * 32)


@pytest.mark.parametrize("user", [
    "", "call-", "conf-", "*8", "dial-in-", "dial-in1", "dial_in",  # empty and bare prefixes
    "1" * 33, "*8" + "1" * 33, "conf-" + "1" * 17, "call-" + "a" * 17, "call-" + "a" * 15,  # lengths
    "1000a", "+1000", " 1000", "1000\n", "١٢٣", "²", "*8abc", "*8*8201", "conf-12a", "conf-+1",  # characters
    "call-ABCDEF0123456789", "call-g123456789abcdef", "call-1", "CONF-1", "Dial-In",
    "x" * 100_000,
])
def test_parse_rejects_what_we_never_make(user: str) -> None:
    assert RoomAddress.parse(user) is None


@pytest.mark.parametrize(("kind", "id"), [
    (Kind.ROOM, ""), (Kind.ROOM, "12a"), (Kind.LOCAL, ""), (Kind.SCHEDULED, "1" * 17),
    (Kind.CALL, "xyz"), (Kind.DIAL_IN, "1"),
])
def test_an_address_that_could_not_be_read_back_cannot_be_made(kind: Kind, id: str) -> None:
    with pytest.raises(ValueError):
        RoomAddress(kind, id)


def test_kind_is_still_the_room_rules_kind() -> None:
    from conference import room as rules
    assert rules.Kind is Kind
