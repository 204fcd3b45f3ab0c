"""conference.room: a moderator's and an operator's actions beyond one participant (issue 14, item 3):
mute all but the moderators (*92 and mute_all), a library sound to one participant, whisper,
and pausing the recording."""

from __future__ import annotations

import pytest

from conference.fields import FieldError
from conference.keypad import Moderator
from conference.operator import validate_whisper
from conference.room import (
    Drop,
    Left,
    Member,
    MuteAll,
    Notify,
    PauseRecording,
    PlaySound,
    Pressed,
    Room,
    SetMuted,
    SetRecording,
    StopWhisper,
    Whisper,
    links,
    transition,
)
from tests.unit.test_room_behaviour import arrive_as, room, run
from tests.unit.test_room_roles_and_own_keys import with_pins


def meeting(record: bool = False) -> Room:
    """Two moderators (m1, m2), two participants (a, b), all in."""
    r, _ = arrive_as(room(admin_pin="9", user_pin="1", announce_count=False, mute_notifications=True, record=record),
                     "m1", None, pin="9")
    r, _ = arrive_as(r, "m2", None, pin="9")
    r, _ = arrive_as(r, "a", None, pin="1")
    r, _ = arrive_as(r, "b", None, pin="1")
    return r


def member(r: Room, member_id: str) -> Member:
    found = r.member(member_id)
    assert found is not None
    return found


def heard_by(r: Room, source: str) -> set[str]:
    return {dst for src, dst in links(r) if src == source}


def test_star_92_mutes_every_participant_but_leaves_the_other_moderators_heard() -> None:
    r, effects = transition(meeting(), Pressed("m1", Moderator("92")))
    assert effects == [Notify(("m1",), ("all_muted",))]
    assert member(r, "a").muted and member(r, "b").muted and member(r, "a").forced
    assert not member(r, "m2").muted and heard_by(r, "m2") == {"m1", "a", "b"}
    assert heard_by(r, "a") == set()
    r, effects = transition(r, Pressed("m1", Moderator("92")))  # all muted: *92 unmutes them
    assert effects == [Notify(("m1",), ("all_unmuted",))] and heard_by(r, "a") == {"m1", "m2", "b"}


def test_star_92_toggles_by_the_participants_alone() -> None:
    r, _ = run(meeting(), SetMuted("m2", True))  # a muted moderator does not make *92 unmute
    r, effects = transition(r, Pressed("m1", Moderator("92")))
    assert effects == [Notify(("m1",), ("all_muted",))] and member(r, "m2").muted
    r, _ = arrive_as(with_pins(r, listener_pins=("5",)), "l", None, pin="5")  # never muted, never heard
    r, effects = transition(r, Pressed("m1", Moderator("92")))
    assert effects == [Notify(("m1",), ("all_unmuted",))]


def test_an_operator_mutes_and_unmutes_all_but_the_moderators() -> None:
    r, effects = run(meeting(), MuteAll(True))
    assert effects == []
    assert [m.id for m in r.members if m.muted] == ["a", "b"]
    r, _ = run(r, MuteAll(True))  # again: the same, no toggle
    assert [m.id for m in r.members if m.muted] == ["a", "b"]
    r, _ = run(r, MuteAll(False))
    assert not any(m.muted for m in r.members)


def test_a_sound_played_to_one_participant_is_played_to_it_alone() -> None:
    r, effects = run(meeting(), PlaySound(7, "a"))
    assert effects == [Notify(("a",), ("sound:7",))]
    assert run(r, PlaySound(7))[1] == [Notify(("m1", "m2", "a", "b"), ("sound:7",))]
    assert run(r, PlaySound(7, "nobody"))[1] == []


def test_a_whispering_moderator_is_heard_by_its_target_alone_and_still_hears_the_room() -> None:
    r, effects = run(meeting(), Whisper("a", by="m1"))
    assert effects == [] and member(r, "m1").whispering == "a"
    assert heard_by(r, "m1") == {"a"}
    assert {src for src, dst in links(r) if dst == "m1"} == {"m2", "a", "b"}
    assert heard_by(r, "m2") == {"m1", "a", "b"}  # the other moderator is unaffected
    r, _ = run(r, StopWhisper("a"))
    assert heard_by(r, "m1") == {"m2", "a", "b"}


def test_a_whisper_reaches_its_target_even_while_the_moderator_is_muted() -> None:
    r, _ = run(meeting(), SetMuted("m1", True), Whisper("b", by="m1"))
    assert heard_by(r, "m1") == {"b"}
    r, _ = run(r, StopWhisper("m1"))  # stopped by the moderator's id too
    assert heard_by(r, "m1") == set()


def test_only_a_moderator_in_the_conference_whispers_to_another_member() -> None:
    r = meeting()
    for whisper in (Whisper("b", by="a"), Whisper("m1", by="m1"), Whisper("ghost", by="m1"), Whisper("a", by="ghost")):
        assert run(r, whisper)[0] == r


def test_a_whisper_ends_when_its_target_leaves() -> None:
    r, _ = run(meeting(), Whisper("a", by="m1"), Drop("a"))
    assert heard_by(r, "m1") == set()  # a is leaving: nobody hears m1 until a is gone
    r, _ = run(r, Left("a"))
    assert member(r, "m1").whispering == "" and heard_by(r, "m1") == {"m2", "b"}


def test_mute_all_leaves_a_whisper_alone() -> None:
    r, _ = run(meeting(), Whisper("a", by="m1"), MuteAll(True))
    assert heard_by(r, "m1") == {"a"} and heard_by(r, "a") == set()


def test_a_paused_recording_is_still_the_session_and_resumes() -> None:
    r, _ = run(meeting(record=True), PauseRecording(True))
    assert r.records and r.recording_paused
    r, _ = run(r, PauseRecording(False))
    assert r.records and not r.recording_paused


def test_pausing_a_room_not_recorded_does_nothing_and_a_stop_forgets_the_pause() -> None:
    r, _ = run(meeting(), PauseRecording(True))
    assert not r.recording_paused
    r, _ = run(r, SetRecording(True), PauseRecording(True), SetRecording(False))
    assert not r.recording_paused and not r.records
    r, effects = run(r, SetRecording(True))
    assert not r.recording_paused and effects == [Notify(("m1", "m2", "a", "b"), ("recording_notice",))]


def test_a_whisper_names_its_moderator_by_participant_id() -> None:
    assert validate_whisper({"from": "0123456789abcdef"}) == "0123456789abcdef"
    payload: object
    for payload in ({}, {"from": ""}, {"from": "0123456789ABCDEF"}, {"from": "0123456789abcdef0"},
                    {"from": "../../etc/passwd"}, {"from": 5}, {"from": "0123456789abcdef", "to": "x"}, []):
        with pytest.raises(FieldError):
            validate_whisper(payload)
