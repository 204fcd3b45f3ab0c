"""conference.numberplan: where each caller's dialled number goes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pytest

from conference import address
from conference.extensions import ExtensionSettings, TrunkSettings
from conference.numberplan import (
    FORBIDDEN,
    NOT_FOUND,
    Caller,
    CallerKind,
    Refuse,
    ToExtension,
    ToLocalConference,
    ToMenu,
    ToRoom,
    ToTrunk,
    decide,
    operator,
    trunk_for,
    trunk_from,
)

CARRIER = TrunkSettings("carrier", "10.0.0.1:5060", ("10.0.0.1",), ("8", "+7"), {"74950000000": "100"})
MOBILE = TrunkSettings("mobile", "10.0.0.2", ("10.0.0.2:5070",), ("89",))


@dataclass
class Plan:
    rooms: set[str] = field(default_factory=lambda: {"5000"})
    extensions: dict[str, ExtensionSettings] = field(default_factory=dict)
    trunk_list: tuple[TrunkSettings, ...] = (CARRIER, MOBILE)
    menus: set[str] = field(default_factory=lambda: {"700"})

    def is_room(self, number: str) -> bool:
        return number in self.rooms

    def is_menu(self, number: str) -> bool:
        return number in self.menus

    def extension(self, number: str) -> ExtensionSettings | None:
        return self.extensions.get(number)

    def trunks(self) -> Sequence[TrunkSettings]:
        return self.trunk_list


def ext(number: str, **options: object) -> ExtensionSettings:
    return ExtensionSettings(number, "0" * 32, **options)  # type: ignore[arg-type]


PLAN = Plan(extensions={"100": ext("100"), "101": ext("101", external_calls=False),
                        "102": ext("102", forward_to="5000"), "103": ext("103", forward_to="89001"),
                        "104": ext("104", forward_to="105"), "105": ext("105", forward_to="104")})
EXT_100 = Caller(CallerKind.EXTENSION, PLAN.extensions["100"])
EXT_101 = Caller(CallerKind.EXTENSION, PLAN.extensions["101"])
FROM_CARRIER = Caller(CallerKind.TRUNK, trunk=CARRIER)
BRIDGE = Caller(CallerKind.BRIDGE)
STRANGER = Caller(CallerKind.ANONYMOUS)


@pytest.mark.parametrize("caller", [EXT_100, FROM_CARRIER, BRIDGE, STRANGER])
def test_rooms_are_open_to_everyone(caller: Caller) -> None:
    assert decide(caller, "5000", PLAN) == ToRoom("5000")


@pytest.mark.parametrize("caller", [EXT_100, FROM_CARRIER, BRIDGE, STRANGER])
def test_voice_menus_are_open_to_everyone(caller: Caller) -> None:
    assert decide(caller, "700", PLAN) == ToMenu("700")


@pytest.mark.parametrize("caller", [EXT_100, FROM_CARRIER, BRIDGE])
def test_extensions_are_reached_by_known_callers(caller: Caller) -> None:
    assert decide(caller, "101", PLAN) == ToExtension("101")


def test_a_stranger_cannot_reach_an_extension_or_the_outside() -> None:
    assert decide(STRANGER, "101", PLAN) == FORBIDDEN
    assert decide(STRANGER, "89001112233", PLAN) == FORBIDDEN


def test_external_numbers_go_to_the_longest_matching_prefix() -> None:
    assert decide(EXT_100, "89001112233", PLAN) == ToTrunk(MOBILE, "89001112233")
    assert decide(EXT_100, "84951112233", PLAN) == ToTrunk(CARRIER, "84951112233")
    assert decide(BRIDGE, "+74951112233", PLAN) == ToTrunk(CARRIER, "+74951112233")


def test_no_relay_for_trunks_or_extensions_without_external_calls() -> None:
    assert decide(FROM_CARRIER, "89001112233", PLAN) == FORBIDDEN
    assert decide(EXT_101, "89001112233", PLAN) == FORBIDDEN


def test_unknown_numbers_are_not_found() -> None:
    assert decide(EXT_100, "777", PLAN) == NOT_FOUND
    assert decide(FROM_CARRIER, "74951111111", PLAN) == NOT_FOUND


def test_a_trunks_inbound_number_maps_to_a_local_one() -> None:
    assert decide(FROM_CARRIER, "74950000000", PLAN) == ToExtension("100")


def test_forwarding_is_followed_to_rooms_and_out_but_not_in_a_loop() -> None:
    assert decide(STRANGER, "102", PLAN) == ToRoom("5000")
    assert decide(EXT_101, "103", PLAN) == ToTrunk(MOBILE, "89001")  # the forwarding owner's choice
    assert decide(FROM_CARRIER, "103", PLAN) == ToTrunk(MOBILE, "89001")
    assert decide(STRANGER, "103", PLAN) == FORBIDDEN
    assert decide(EXT_100, "104", PLAN) == Refuse(482, "Loop Detected")


def test_local_conferences_are_for_extensions_of_existing_owners() -> None:
    assert decide(EXT_101, "*8100", PLAN) == ToLocalConference("100")
    assert ToLocalConference("100").room == str(address.local("100"))  # the room the bridge knows
    assert decide(EXT_100, "*8999", PLAN) == NOT_FOUND
    for caller in (FROM_CARRIER, BRIDGE, STRANGER):
        assert decide(caller, "*8100", PLAN) == FORBIDDEN


def test_trunk_lookup_by_source_prefers_the_exact_port() -> None:
    other = TrunkSettings("other", "10.0.0.2", ("10.0.0.2",))
    trunks = (other, MOBILE)
    assert trunk_from("10.0.0.2", 5070, trunks) == MOBILE
    assert trunk_from("10.0.0.2", 5060, trunks) == other
    assert trunk_from("10.0.0.3", 5060, trunks) is None
    assert trunk_for("123", trunks) is None


def test_an_operator_invites_rooms_and_extensions_but_outside_numbers_only_where_allowed() -> None:
    restricted, trusted = operator(outside=False), operator(outside=True)
    assert decide(restricted, "5000", PLAN) == ToRoom("5000")
    assert decide(restricted, "100", PLAN) == ToExtension("100")
    assert decide(restricted, "103", PLAN) == ToTrunk(MOBILE, "89001")  # the extension's own forwarding
    assert decide(restricted, "89001", PLAN) == FORBIDDEN
    assert decide(restricted, "*8100", PLAN) == FORBIDDEN  # local conferences are their owners'
    assert decide(restricted, "999", PLAN) == NOT_FOUND
    assert decide(trusted, "89001", PLAN) == ToTrunk(MOBILE, "89001")
