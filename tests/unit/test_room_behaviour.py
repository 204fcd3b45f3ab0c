"""Every room option of seed 000 through the pure room state machine."""

from __future__ import annotations

import dataclasses
from typing import Any

from conference.keypad import DropLast, Invite, Moderator
from conference.mixing import MUSIC, music
from conference.room import (
    MAX_RINGING,
    SILENCE,
    Arrived,
    Connected,
    Dial,
    Digit,
    Drop,
    Effect,
    Event,
    Hangup,
    Invited,
    Kind,
    Left,
    Notify,
    PinFailed,
    Play,
    Pressed,
    PromptDone,
    Role,
    Room,
    SetMuted,
    Stage,
    links,
    transition,
)
from conference.rooms import RoomSettings, hash_pin, validate_create


def settings(number: str, **fields: Any) -> RoomSettings:
    """Room settings as stored; PINs of any length (the rules do not care what the API allows)."""
    user_pin, admin_pin = fields.pop("user_pin", None), fields.pop("admin_pin", None)
    return dataclasses.replace(validate_create({"number": number, **fields}),
                               user_pin=hash_pin(user_pin) if user_pin else None,
                               admin_pin=hash_pin(admin_pin) if admin_pin else None)


def room(**fields: Any) -> Room:
    return Room(settings("100", **fields))


def run(start: Room, *events: Event) -> tuple[Room, list[Effect]]:
    effects: list[Effect] = []
    for event in events:
        start, new = transition(start, event)
        effects += new
    return start, effects


def join(start: Room, member: str, pin: str | None = None) -> tuple[Room, list[Effect]]:
    """Arrive, hear the greeting, type the PIN if given, hear the announcements."""
    events: list[Event] = [Arrived(member, f"sip:{member}@x"), PromptDone(member)]
    if pin is not None:
        events += [*(Digit(member, d) for d in pin), Digit(member, "#")]
    after, effects = run(start, *events)
    if after.member(member) and after.member(member).stage == Stage.ANNOUNCING:  # type: ignore[union-attr]
        after, more = transition(after, PromptDone(member))
        effects += more
    return after, effects


def stage(r: Room, member: str) -> Stage | None:
    found = r.member(member)
    return None if found is None else found.stage


def test_open_room_greets_then_admits_as_user_and_says_alone() -> None:
    r, effects = run(room(), Arrived("a", "sip:a@x"))
    assert effects == [Play("a", ("welcome",))]
    r, effects = transition(r, PromptDone("a"))
    assert effects == [Play("a", ("only_participant",))]
    r, effects = transition(r, PromptDone("a"))
    assert stage(r, "a") == Stage.IN_CONFERENCE and r.member("a").role == Role.USER  # type: ignore[union-attr]
    assert links(r) == {(MUSIC, "a")}


def test_greeting_sound_replaces_the_welcome() -> None:
    _, effects = run(room(greeting_sound_id=7), Arrived("a", "c"))
    assert effects == [Play("a", ("sound:7",))]


def test_second_member_hears_the_count_and_everyone_hears_everyone() -> None:
    r, _ = join(room(), "a")
    r, effects = join(r, "b")
    assert Play("b", ("only_one_other",)) in effects
    assert Notify(("a",), ("participant_joined",)) in effects
    assert links(r) == {("a", "b"), ("b", "a")}


def test_russian_count_uses_plural_forms() -> None:
    r = room(language="ru")
    for name in "abc":
        r, _ = join(r, name)
    _, effects = join(r, "d")
    assert Play("d", ("count_intro", "number_3", "noun_few")) in effects


def test_announce_count_off_and_mute_notifications() -> None:
    r, _ = join(room(announce_count=False, mute_notifications=True), "a")
    r, effects = join(r, "b")
    assert not any(isinstance(e, Notify) for e in effects)
    assert [e for e in effects if isinstance(e, Play)] == [Play("b", ("welcome",))]
    _, effects = transition(r, Left("a"))
    assert effects == []


def test_leaving_is_announced_to_those_still_in() -> None:
    r, _ = join(room(), "a")
    r, _ = join(r, "b")
    r, effects = transition(r, Left("a"))
    assert effects == [Notify(("b",), ("participant_left",))]
    assert links(r) == {(MUSIC, "b")}


def test_pin_gives_the_role() -> None:
    r = room(user_pin="1111", admin_pin="2222")
    r, effects = run(r, Arrived("a", "c"), PromptDone("a"))
    assert effects[-1] == Play("a", ("enter_pin",))
    r, _ = join(r, "b", pin="2222")
    r, _ = run(r, Digit("a", "1"), Digit("a", "1"), Digit("a", "1"), Digit("a", "1"), Digit("a", "#"))
    r, _ = transition(r, PromptDone("a"))
    assert (r.member("a").role, r.member("b").role) == (Role.USER, Role.ADMIN)  # type: ignore[union-attr]


def test_digits_outside_pin_entry_do_nothing() -> None:
    r, _ = join(room(), "a")
    assert transition(r, Digit("a", "5")) == (r, [])


def test_wrong_pin_three_times_hangs_up() -> None:
    r = room(user_pin="1234")
    r, _ = run(r, Arrived("a", "sip:a@x"), PromptDone("a"))
    wrong = [Digit("a", "9"), Digit("a", "#")]
    r, effects = run(r, *wrong)
    assert effects == [PinFailed("a"), Play("a", ("wrong_pin", "enter_pin"))]
    r, _ = run(r, *wrong, *wrong)
    assert stage(r, "a") == Stage.LEAVING
    r, effects = transition(r, PromptDone("a"))
    assert effects == [Hangup("a")]


def test_a_wrong_pin_then_the_right_one_gets_in() -> None:
    r = room(user_pin="1234")
    r, _ = run(r, Arrived("a", "c"), PromptDone("a"), Digit("a", "5"), Digit("a", "#"),
               *(Digit("a", d) for d in "1234#"))
    assert stage(r, "a") == Stage.ANNOUNCING


def test_locked_out_caller_is_sent_away() -> None:
    r, effects = run(room(user_pin="1"), Arrived("a", "c", locked_out=True))
    assert effects == [Play("a", ("too_many_attempts",))] and stage(r, "a") == Stage.LEAVING


def test_room_full() -> None:
    r = room(max_participants=2)
    r, _ = join(r, "a")
    r, _ = join(r, "b")
    r, effects = transition(r, Arrived("c", "x"))
    assert effects == [Play("c", ("conference_full",))]
    r, effects = transition(r, PromptDone("c"))
    assert effects == [Hangup("c")]


def test_waiting_for_the_admin_with_music_and_without() -> None:
    r = room(wait_for_admin=True, user_pin="1", admin_pin="2")
    r, effects = join(r, "u1", pin="1")
    assert Play("u1", ("only_participant", "waiting_for_admin")) in effects
    r, _ = join(r, "u2", pin="1")
    assert stage(r, "u1") == stage(r, "u2") == Stage.WAITING
    assert links(r) == {(MUSIC, "u1"), (MUSIC, "u2")}  # music, and not each other
    silent = dataclasses.replace(r, settings=dataclasses.replace(r.settings, music_on_hold=False))
    assert links(silent) == {(SILENCE, "u1"), (SILENCE, "u2")}
    picked = dataclasses.replace(r, settings=dataclasses.replace(r.settings, music_sound_id=4))
    assert links(picked) == {(music(4), "u1"), (music(4), "u2")}  # the room's own track
    picked_silent = dataclasses.replace(picked, settings=dataclasses.replace(picked.settings, music_on_hold=False))
    assert links(picked_silent) == {(SILENCE, "u1"), (SILENCE, "u2")}  # music_on_hold off still means silence
    r, _ = join(r, "boss", pin="2")
    assert {stage(r, m) for m in ("u1", "u2", "boss")} == {Stage.IN_CONFERENCE}
    assert ("u1", "u2") in links(r) and ("boss", "u1") in links(r)


def test_admin_leaving_sends_users_back_to_waiting() -> None:
    r = room(wait_for_admin=True, user_pin="1", admin_pin="2")
    r, _ = join(r, "boss", pin="2")
    r, _ = join(r, "u1", pin="1")
    r, _ = transition(r, Left("boss"))
    assert stage(r, "u1") == Stage.WAITING


def test_end_on_admin_exit() -> None:
    r = room(end_on_admin_exit=True, user_pin="1", admin_pin="2")
    r, _ = join(r, "boss", pin="2")
    r, _ = join(r, "u1", pin="1")
    r, _ = run(r, Arrived("u2", "c"), PromptDone("u2"))  # still typing the PIN
    r, effects = transition(r, Left("boss"))
    assert effects == [Play("u1", ("ended_by_admin",)), Play("u2", ("ended_by_admin",))]
    r, effects = run(r, PromptDone("u1"), PromptDone("u2"))
    assert effects == [Hangup("u1"), Hangup("u2")]


def test_a_user_leaving_does_not_end_the_conference() -> None:
    r = room(end_on_admin_exit=True, user_pin="1", admin_pin="2")
    r, _ = join(r, "boss", pin="2")
    r, _ = join(r, "u1", pin="1")
    r, _ = join(r, "u2", pin="1")
    r, effects = transition(r, Left("u1"))
    assert effects == [Notify(("boss", "u2"), ("participant_left",))]


def test_recording_notice_comes_first() -> None:
    _, effects = join(room(record=True), "a")
    assert Play("a", ("recording_notice", "only_participant")) in effects


def test_events_for_unknown_members_are_ignored() -> None:
    r = room()
    assert transition(r, PromptDone("ghost")) == (r, [])
    assert transition(r, Left("ghost")) == (r, [])


def test_pin_typed_during_the_greeting_counts() -> None:
    r = room(user_pin="42")
    r, effects = run(r, Arrived("a", "c"), Digit("a", "4"), Digit("a", "2"), Digit("a", "#"))
    assert stage(r, "a") == Stage.ANNOUNCING and effects[-1] == Play("a", ("only_participant",))


def test_a_partial_pin_typed_ahead_goes_on_without_asking_again() -> None:
    r = room(user_pin="42")
    r, effects = run(r, Arrived("a", "c"), Digit("a", "4"), PromptDone("a"))
    assert stage(r, "a") == Stage.PIN and effects == [Play("a", ("welcome",))]
    r, _ = run(r, Digit("a", "2"), Digit("a", "#"))
    assert stage(r, "a") == Stage.ANNOUNCING


def test_a_wrong_pin_typed_ahead_is_refused_and_asked_again() -> None:
    r = room(user_pin="42")
    r, effects = run(r, Arrived("a", "c"), Digit("a", "1"), Digit("a", "#"))
    assert effects[-1] == Play("a", ("wrong_pin", "enter_pin"))
    r, effects = transition(r, PromptDone("a"))
    assert stage(r, "a") == Stage.PIN and effects == []


def test_the_mix_is_mix_minus() -> None:
    r = room()
    for name in "abc":
        r, _ = join(r, name)
    assert links(r) == {(s, d) for s in "abc" for d in "abc" if s != d}


# Local conferences, invites and moderator codes (seed 003) ------------------------------------

def local(owner: str = "100", **fields: Any) -> Room:
    return Room(settings("1", **fields), kind=Kind.LOCAL, owner=owner)


def arrive_as(start: Room, member: str, extension: str | None, pin: str | None = None) -> tuple[Room, list[Effect]]:
    events: list[Event] = [Arrived(member, f"sip:{member}@x", extension=extension), PromptDone(member)]
    if pin is not None:
        events += [*(Digit(member, d) for d in pin), Digit(member, "#")]
    after, effects = run(start, *events)
    if stage(after, member) == Stage.ANNOUNCING:
        after, more = transition(after, PromptDone(member))
        effects += more
    return after, effects


def test_the_owner_enters_its_local_conference_without_the_pin_and_moderates() -> None:
    r, effects = arrive_as(local(user_pin="42"), "own", "100")
    assert stage(r, "own") == Stage.IN_CONFERENCE and r.member("own").role == Role.ADMIN  # type: ignore[union-attr]
    assert Play("own", ("enter_pin",)) not in effects
    r, effects = arrive_as(r, "guest", "101", pin="42")
    assert stage(r, "guest") == Stage.IN_CONFERENCE and r.member("guest").role == Role.USER  # type: ignore[union-attr]


def test_owner_invites_and_everyone_hears_the_early_media_then_the_answer() -> None:
    r, _ = arrive_as(local(mute_notifications=False, announce_count=False), "own", "100")
    r, _ = arrive_as(r, "guest", "101")
    r, effects = transition(r, Pressed("own", Invite("89001")))
    assert effects == [Dial("89001", "own"), Notify(("own",), ("trying_to_get_through",))]
    r, effects = run(r, Invited("leg", "89001", "own"))
    assert stage(r, "leg") == Stage.RINGING and not any("leg" in link for link in links(r))
    r, effects = transition(r, Connected("leg", answered=False))
    assert {("leg", "own"), ("leg", "guest"), ("own", "leg")} <= links(r) and effects == []
    r, effects = transition(r, Connected("leg", answered=True))
    assert effects == [Notify(("own", "guest"), ("participant_joined",))]


def test_no_more_than_max_ringing_invitations_at_once() -> None:
    r, _ = arrive_as(local(), "own", "100")
    for n in range(MAX_RINGING):
        r, _ = run(r, Invited(f"leg{n}", f"8900{n}", "own"))
    r, effects = transition(r, Pressed("own", Invite("89999")))
    assert effects == [Notify(("own",), ("number_unavailable",))]  # not dialled
    r, _ = transition(r, Connected("leg0", answered=True))  # one answered: room for another
    assert transition(r, Pressed("own", Invite("89999")))[1][0] == Dial("89999", "own")


def test_only_the_owner_invites_in_a_local_conference_and_any_extension_in_a_room() -> None:
    r, _ = arrive_as(local(), "own", "100")
    r, _ = arrive_as(r, "guest", "101")
    assert transition(r, Pressed("guest", Invite("5")))[1] == []
    r2, _ = arrive_as(room(), "ext", "101")
    r2, _ = arrive_as(r2, "outsider", None)
    assert transition(r2, Pressed("ext", Invite("5")))[1][0] == Dial("5", "ext")
    assert transition(r2, Pressed("outsider", Invite("5")))[1] == []


def test_hash_hash_drops_the_last_invited_leg_at_any_stage() -> None:
    r, _ = arrive_as(local(), "own", "100")
    r, _ = run(r, Invited("one", "1", "own"), Connected("one", True), Invited("two", "2", "own"))
    r, effects = transition(r, Pressed("own", DropLast()))
    assert effects == [Hangup("two")] and stage(r, "two") == Stage.LEAVING
    r, effects = transition(r, Left("two", 487))
    assert effects == []  # we cancelled it: no failure prompt
    r, effects = transition(r, Pressed("own", DropLast()))
    assert effects == [Hangup("one")]


def test_a_failed_invite_tells_the_inviter_why() -> None:
    r, _ = arrive_as(local(), "own", "100")
    for status, prompt in ((486, "number_busy"), (480, "no_answer"), (404, "number_unavailable")):
        _, effects = run(r, Invited("leg", "1", "own"), Left("leg", status))
        assert effects == [Notify(("own",), (prompt,))]


def test_moderator_mutes_locks_drops_and_ends() -> None:
    r, _ = arrive_as(room(admin_pin="9", user_pin="1", announce_count=False), "mod", None, pin="9")
    r, _ = arrive_as(r, "a", None, pin="1")
    r, _ = arrive_as(r, "b", None, pin="1")
    assert transition(r, Pressed("a", Moderator("92")))[1] == []  # users cannot
    r, effects = transition(r, Pressed("mod", Moderator("92")))
    assert effects == [Notify(("mod",), ("all_muted",))]
    assert r.member("a").muted and ("a", "mod") not in links(r) and ("mod", "a") in links(r)  # type: ignore[union-attr]
    r, effects = transition(r, Pressed("mod", Moderator("92")))
    assert effects == [Notify(("mod",), ("all_unmuted",))] and ("a", "mod") in links(r)
    r, effects = transition(r, Pressed("mod", Moderator("93")))
    assert r.locked and effects == [Notify(("mod",), ("entry_locked",))]
    r, effects = transition(r, Arrived("late", "sip:late@x"))
    assert effects == [Play("late", ("conference_locked",))] and stage(r, "late") == Stage.LEAVING
    r, effects = transition(r, Pressed("mod", Moderator("94")))
    assert Hangup("b") in effects
    r, effects = transition(r, Pressed("mod", Moderator("95")))
    assert Play("mod", ("ended_by_admin",)) in effects and Play("a", ("ended_by_admin",)) in effects


def test_an_operator_mutes_unmutes_and_drops_one_participant() -> None:
    r, _ = arrive_as(room(announce_count=False), "a", None)
    r, _ = arrive_as(r, "b", None)
    r, effects = transition(r, SetMuted("a", True))
    assert effects == [] and ("a", "b") not in links(r) and ("b", "a") in links(r)  # a still hears b
    r, _ = transition(r, SetMuted("a", False))
    assert ("a", "b") in links(r)
    r, effects = transition(r, Drop("b"))
    assert effects == [Hangup("b")] and stage(r, "b") == Stage.LEAVING
    assert transition(r, Drop("b"))[1] == [] and transition(r, SetMuted("nobody", True))[1] == []


def test_a_local_conference_that_announces_names_says_the_joining_extension() -> None:
    r = dataclasses.replace(local(announce_count=False), announce_names=True)
    r, _ = arrive_as(r, "own", "100")
    r, effects = arrive_as(r, "guest", "101")
    assert Notify(("own",), ("name:101", "participant_joined")) in effects


# Scheduled conferences (seed 001) ----------------------------------------------------------------

def scheduled() -> Room:
    settings = validate_create({"number": "1", "wait_for_admin": True, "announce_count": False,
                                "mute_notifications": True})
    return Room(settings, kind=Kind.SCHEDULED, owner="100")


def test_called_participants_hear_the_greeting_then_music_until_the_owner_is_in() -> None:
    r, effects = run(scheduled(), Invited("p", "101", "schedule"), Connected("p", False))
    assert effects == [] and stage(r, "p") == Stage.RINGING  # early media is not a person
    r, effects = transition(r, Connected("p", True))
    assert effects == [Play("p", ("welcome",))] and stage(r, "p") == Stage.GREETING
    r, effects = run(r, PromptDone("p"), PromptDone("p"))
    assert stage(r, "p") == Stage.WAITING and (MUSIC, "p") in links(r)
    r, _ = run(r, Invited("o", "100", "schedule"), Connected("o", True), PromptDone("o"))
    assert r.member("o").role == Role.ADMIN and stage(r, "p") == Stage.IN_CONFERENCE  # type: ignore[union-attr]
    assert ("o", "p") in links(r)
    r, _ = transition(r, Left("o", 200))  # the owner leaves: music again until it is back
    assert stage(r, "p") == Stage.WAITING


def test_a_dial_in_callers_role_comes_with_it() -> None:
    r, _ = run(scheduled(), Arrived("c", "sip:c@x", role=Role.ADMIN), PromptDone("c"))
    assert r.member("c").role == Role.ADMIN  # type: ignore[union-attr]
    r, _ = run(r, Arrived("g", "sip:g@x", role=Role.USER), PromptDone("g"))
    assert stage(r, "g") == Stage.IN_CONFERENCE  # the chair is in


def test_the_owner_is_recognised_by_its_vouched_extension_not_only_when_called() -> None:
    r, _ = run(scheduled(), Invited("p", "101", "schedule"), Connected("p", True), PromptDone("p"), PromptDone("p"))
    assert stage(r, "p") == Stage.WAITING
    r, _ = run(r, Arrived("o", "sip:100@pbx", extension="100"), PromptDone("o"))  # dialled in itself
    assert r.member("o").role == Role.ADMIN and stage(r, "p") == Stage.IN_CONFERENCE  # type: ignore[union-attr]
    r, _ = run(r, Arrived("x", "sip:100@evil", extension=None, role=Role.USER), PromptDone("x"))
    assert r.member("x").role == Role.USER  # type: ignore[union-attr]  # a From that says 100 is not enough
