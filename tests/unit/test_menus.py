"""Voice menus: what the API accepts, the opening hours, and where a caller's key sends it."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

import pytest

from conference.fields import FieldError
from conference.menus import (
    Forward,
    MenuSettings,
    Tick,
    due,
    greeting,
    is_open,
    transition,
    validate_create,
    validate_patch,
)
from conference.room import Arrived, Digit, Effect, Hangup, Left, Play, PromptDone, Room, Stage
from conference.rooms import RoomSettings

MONDAY_NOON_MOSCOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)  # 12:00 in Moscow
SUNDAY_NOON_MOSCOW = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
MENU = MenuSettings("700", greeting_text="For sales press 1, for the weekly meeting press 2.",
                    options={"1": "201", "2": "5000"}, timeout_seconds=5, tries=2)


def refused(payload: Any, current: MenuSettings | None = None) -> tuple[str, str]:
    with pytest.raises(FieldError) as caught:
        validate_create(payload) if current is None else validate_patch(current, payload)
    return caught.value.field, caught.value.error_id


def test_a_menu_needs_its_number_and_keeps_what_it_is_given() -> None:
    menu = validate_create({"number": "700", "options": {"1": "201", "#": "5000", "0": "89001234567"},
                            "hours": ["mon-fri 09:00-18:00", "sat 10:00-24:00"], "time_zone": "Europe/Moscow",
                            "closed_destination": "5000", "owner": "201"})
    assert menu.options == {"1": "201", "#": "5000", "0": "89001234567"}
    assert menu.as_dict()["hours"] == ["mon-fri 09:00-18:00", "sat 10:00-24:00"]
    assert MenuSettings.from_dict({**menu.as_dict(), "from_a_newer_version": 1}) == menu
    assert refused({"options": {}}) == ("number", "missing_field")


@pytest.mark.parametrize("payload, field", [
    ({"number": "7a"}, "number"),
    ({"options": {"12": "201"}}, "options"),  # one key per option
    ({"options": {"a": "201"}}, "options"),
    ({"options": {"1": "2o1"}}, "options"),
    ({"options": {"1": "*8201"}}, "options"),  # a local conference is its owner's to open
    ({"options": {"1": "700"}}, "options"),  # itself: a loop
    ({"hours": ["mon-fri 9:00-18:00"]}, "hours"),
    ({"hours": ["monday 09:00-18:00"]}, "hours"),
    ({"hours": ["mon-fri 18:00-09:00"]}, "hours"),  # closes before it opens
    ({"hours": ["mon-fri 09:00-24:30"]}, "hours"),
    ({"hours": ["mon-fri 09:00-18:00\n"]}, "hours"),
    ({"time_zone": "Mars/Olympus"}, "time_zone"),
    ({"time_zone": "../../etc/passwd"}, "time_zone"),
    ({"timeout_seconds": 1}, "timeout_seconds"),
    ({"tries": 0}, "tries"),
    ({"greeting_text": "x" * 501}, "greeting_text"),
    ({"greeting_text": "bell\x07"}, "greeting_text"),
    ({"menu": 1}, "menu"),
])
def test_what_a_menu_refuses_names_the_field(payload: dict[str, Any], field: str) -> None:
    assert refused({"number": "700", **payload})[0] == field


def test_a_menu_number_never_changes() -> None:
    assert refused({"number": "701"}, MENU) == ("number", "immutable_field")
    assert validate_patch(MENU, {"number": "700", "tries": 4}).tries == 4


@pytest.mark.parametrize("hours, moment, expected", [
    ((), SUNDAY_NOON_MOSCOW, True),  # no hours: always open
    (("mon-fri 09:00-18:00",), MONDAY_NOON_MOSCOW, True),
    (("mon-fri 09:00-18:00",), SUNDAY_NOON_MOSCOW, False),
    (("mon-fri 13:00-18:00",), MONDAY_NOON_MOSCOW, False),  # 12:00 in Moscow is 9:00 UTC
    (("mon 12:00-12:01",), MONDAY_NOON_MOSCOW, True),  # from is in, to is out
    (("mon 11:00-12:00",), MONDAY_NOON_MOSCOW, False),
    (("sat-mon 09:00-18:00",), SUNDAY_NOON_MOSCOW, True),  # a span of days across the week's end
    (("sun 00:00-24:00",), SUNDAY_NOON_MOSCOW, True),
])
def test_opening_hours_are_read_in_the_menus_zone(hours: tuple[str, ...], moment: datetime, expected: bool) -> None:
    assert is_open(MenuSettings("700", time_zone="Europe/Moscow", hours=hours), moment) is expected


def stage(room: Room) -> Stage | None:
    member = room.member("m1")
    return None if member is None else member.stage


def run(menu: MenuSettings, room: Room, event: Any, now: float = 100.0,
        wall: datetime = MONDAY_NOON_MOSCOW) -> tuple[Room, list[Effect | Forward]]:
    return transition(menu, room, event, wall, now)


def arrive(menu: MenuSettings = MENU, wall: datetime = MONDAY_NOON_MOSCOW) -> tuple[Room, list[Effect | Forward]]:
    return run(menu, Room(RoomSettings("menu")), Arrived("m1", "sip:caller@x", extension="201"), wall=wall)


def test_a_caller_hears_the_greeting_and_its_key_forwards_it() -> None:
    room, effects = arrive()
    assert effects == [Play("m1", ("menu:700",))]
    room, effects = run(MENU, room, Digit("m1", "2"))  # while the greeting plays: it stops
    assert effects == [Forward("m1", "5000", "2")]
    assert stage(room) == Stage.ANNOUNCING
    assert run(MENU, room, Digit("m1", "1"))[1] == []  # forwarded already: keys no longer count
    room, _ = run(MENU, room, Left("m1"))
    assert room.members == ()


def test_invalid_keys_replay_the_greeting_until_the_last_try_goes_to_the_invalid_destination() -> None:
    room, _ = arrive()
    room, effects = run(MENU, room, Digit("m1", "9"))
    assert effects == [Play("m1", ("menu_invalid", "menu:700"))]
    room, effects = run(MENU, room, Digit("m1", "7"))
    assert effects == [Play("m1", ("goodbye",))]  # no invalid destination
    room, effects = run(MENU, room, PromptDone("m1"))
    assert effects == [Hangup("m1")]
    to_operator = MenuSettings("700", options={"1": "201"}, invalid_destination="0", tries=1)
    room, _ = arrive(to_operator)
    assert run(to_operator, room, Digit("m1", "5"))[1] == [Forward("m1", "0", "invalid")]


def test_silence_after_the_greeting_times_out_to_its_destination_or_replays_as_a_try() -> None:
    room, _ = arrive()
    assert not due(room, 10_000.0)  # the greeting still plays: no clock runs
    room, _ = run(MENU, room, PromptDone("m1"), now=100.0)
    assert not due(room, 104.9) and due(room, 105.0)
    room, effects = run(MENU, room, Tick(), now=105.0)
    assert effects == [Play("m1", ("menu:700",))]  # no timeout destination: once more
    assert not due(room, 1000.0)
    room, _ = run(MENU, room, PromptDone("m1"), now=200.0)
    room, effects = run(MENU, room, Tick(), now=205.0)
    assert effects == [Play("m1", ("goodbye",))]

    waits = MenuSettings("700", options={"1": "201"}, timeout_destination="5000")
    room, _ = arrive(waits)
    room, _ = run(waits, room, PromptDone("m1"), now=100.0)
    assert run(waits, room, Tick(), now=107.9)[1] == []
    assert run(waits, room, Tick(), now=108.0)[1] == [Forward("m1", "5000", "timeout")]


def test_outside_the_opening_hours_the_caller_goes_to_the_closed_destination_or_hears_so() -> None:
    hours = MenuSettings("700", options={"1": "201"}, time_zone="Europe/Moscow", hours=("mon-fri 09:00-18:00",))
    closed_to = dataclasses.replace(hours, closed_destination="5000")
    assert arrive(closed_to, SUNDAY_NOON_MOSCOW)[1] == [Forward("m1", "5000", "closed")]
    assert arrive(closed_to, MONDAY_NOON_MOSCOW)[1] == [Play("m1", ("menu_choose",))]
    room, effects = arrive(hours, SUNDAY_NOON_MOSCOW)
    assert effects == [Play("m1", ("menu_closed",))] and stage(room) == Stage.LEAVING


def test_the_greeting_is_the_library_sound_else_the_spoken_text_else_a_plain_prompt() -> None:
    assert greeting(MenuSettings("700", greeting_sound_id=4, greeting_text="x")) == ("sound:4",)
    assert greeting(MenuSettings("700", greeting_text="x")) == ("menu:700",)
    assert greeting(MenuSettings("700")) == ("menu_choose",)
