"""conference.room: the end-time warning ("five minutes left") with an injected clock, and a
moderator's *98 extension; bridge.rooms carrying them out (a scheduled conference files the
extension with the worker)."""

from __future__ import annotations

import dataclasses

from bridge.templates import scheduled_conference
from conference import address
from conference.keypad import Moderator
from conference.room import (
    END_WARNING_LATE,
    END_WARNING_SECONDS,
    EXTEND_MINUTES,
    Clock,
    Extended,
    ExtendEnd,
    Notify,
    Pressed,
    Room,
    end_check_due,
    transition,
)
from conference.schedule import LiveMeeting
from tests.unit.fake_edge import Bridge
from tests.unit.test_bridge_rooms import arrive, finish_prompt
from tests.unit.test_moderator_actions import meeting

END = 1_800_000_000.0
WARN_AT = END - END_WARNING_SECONDS


def ending(at: float | None = END, step: int = 30) -> Room:
    return dataclasses.replace(meeting(), ends_at=at, extend_minutes=step)


def test_everyone_is_warned_once_five_minutes_before_the_end() -> None:
    r = ending()
    assert not end_check_due(r, WARN_AT - 1)
    assert transition(r, Clock(WARN_AT - 1)) == (r, [])
    assert end_check_due(r, WARN_AT)
    r, effects = transition(r, Clock(WARN_AT))
    assert effects == [Notify(("m1", "m2", "a", "b"), ("end_warning",))]
    assert not end_check_due(r, WARN_AT + 10) and transition(r, Clock(WARN_AT + 10))[1] == []


def test_a_warning_too_late_to_be_true_is_skipped() -> None:
    r, effects = transition(ending(), Clock(WARN_AT + END_WARNING_LATE))
    assert effects == [] and r.end_warned


def test_a_room_without_an_end_time_is_never_warned_and_star_98_says_so() -> None:
    r = ending(at=None)
    assert not end_check_due(r, END)
    r, effects = transition(r, Pressed("m1", Moderator("98")))
    assert effects == [Notify(("m1",), ("no_end_time",))] and r.ends_at is None


def test_star_98_extends_by_the_conferences_step_and_rearms_the_warning() -> None:
    r, _ = transition(ending(), Clock(WARN_AT))
    r, effects = transition(r, Pressed("m1", Moderator("98")))
    assert effects == [ExtendEnd(30), Notify(("m1", "m2", "a", "b"), ("conference_extended",))]
    assert r.ends_at == END + 30 * 60 and not r.end_warned
    assert not end_check_due(r, WARN_AT + 60)
    assert transition(r, Clock(WARN_AT + 30 * 60))[1] == [Notify(("m1", "m2", "a", "b"), ("end_warning",))]
    assert transition(r, Pressed("a", Moderator("98")))[0] == r  # a participant cannot


def test_an_extension_made_elsewhere_moves_the_end_and_is_announced() -> None:
    r, effects = transition(ending(), Extended(15))
    assert r.ends_at == END + 15 * 60 and effects == [Notify(("m1", "m2", "a", "b"), ("conference_extended",))]
    assert transition(r, Extended(0)) == (r, [])


def test_a_scheduled_conference_takes_its_end_and_step_from_the_live_meeting() -> None:
    room = scheduled_conference(LiveMeeting("123456", END - 3600, END, auto_extend=45), "en")
    assert (room.ends_at, room.extend_minutes) == (END, 45)
    room = scheduled_conference(LiveMeeting("123456", END - 3600, END), "en")
    assert room.extend_minutes == EXTEND_MINUTES


def test_the_bridge_warns_on_its_tick_and_files_a_moderators_extension() -> None:
    bridge = Bridge()
    meeting_ = LiveMeeting("123456", END - 3600, END, owner="201", auto_extend=15)
    room = bridge.rooms.open(address.scheduled("123456"), scheduled_conference(meeting_, "en"))
    chair = arrive(bridge, room, "sip:201@example.com", extension="201")  # the owner chairs
    finish_prompt(bridge, room, chair)
    assert room.state.admin_in
    bridge.live.clock = WARN_AT - 5
    room.tick(0.0)
    assert bridge.mixer.heard(chair.participant_id)[-1] != ("end_warning",)
    bridge.live.clock = WARN_AT
    room.tick(0.0)
    assert bridge.mixer.heard(chair.participant_id)[-1] == ("end_warning",)
    for digit in "*98":
        room.digit(chair, digit, "rfc2833", 1.0)
    assert bridge.live.extensions == [("123456", 15)]
    assert bridge.mixer.heard(chair.participant_id)[-1] == ("conference_extended",)
