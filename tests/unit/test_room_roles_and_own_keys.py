"""conference.room: listener PINs and listen-only rooms, joining muted, and a participant's own keys
(*1 *2 *3 *4 *5 *6 *0 **, the moderator's *96)."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from conference.keypad import Moderator, Own, OwnKey
from conference.mixing import MUSIC
from conference.room import (
    LEVEL_STEP,
    LEVELS,
    Admit,
    Digit,
    Drop,
    Effect,
    Member,
    Notify,
    Play,
    Pressed,
    Role,
    Room,
    SetMuted,
    Stage,
    links,
    transition,
)
from conference.rooms import hash_pin
from tests.unit.test_room_behaviour import join, room, run


def member(r: Room, member_id: str) -> Member:
    found = r.member(member_id)
    assert found is not None
    return found


def press(r: Room, member_id: str, key: OwnKey) -> tuple[Room, list[Effect]]:
    return transition(r, Pressed(member_id, Own(key)))


def with_pins(r: Room, **lists: tuple[str, ...]) -> Room:
    hashed: dict[str, Any] = {name: tuple(hash_pin(pin) for pin in pins) for name, pins in lists.items()}
    return dataclasses.replace(r, settings=dataclasses.replace(r.settings, **hashed))


def test_each_listed_pin_gives_its_role() -> None:
    r = with_pins(room(user_pin="1111", admin_pin="9999"), user_pins=("2222", "3333"), admin_pins=("8888",),
                  listener_pins=("5555",))
    for who, pin, role in (("a", "3333", Role.USER), ("b", "8888", Role.ADMIN), ("c", "5555", Role.LISTENER),
                           ("d", "1111", Role.USER), ("e", "9999", Role.ADMIN)):
        r, _ = join(r, who, pin)
        assert (member(r, who).role, member(r, who).stage) == (role, Stage.IN_CONFERENCE)


def test_a_room_with_only_listener_pins_asks_for_a_pin() -> None:
    r = with_pins(room(), listener_pins=("5555",))
    r, _ = join(r, "a")
    assert member(r, "a").stage == Stage.PIN
    r, _ = join(r, "b", "5555")
    assert member(r, "b").role == Role.LISTENER


def test_a_listener_hears_everyone_and_is_never_heard_even_unmuted() -> None:
    r = with_pins(room(user_pin="1111"), listener_pins=("5555",))
    r, _ = join(r, "a", "1111")
    r, _ = join(r, "b", "1111")
    r, _ = join(r, "l", "5555")
    assert {("a", "l"), ("b", "l"), ("a", "b"), ("b", "a")} <= links(r)
    assert not any(src == "l" for src, _ in links(r))
    r, effects = press(r, "l", OwnKey.MUTE)
    assert effects == [Notify(("l",), ("listen_only",))]
    r, _ = run(r, SetMuted("l", False))
    assert not any(src == "l" for src, _ in links(r))


def test_a_listen_only_room_makes_every_non_moderator_a_listener() -> None:
    r = room(listen_only=True, user_pin="1111", admin_pin="9999")
    r, _ = join(r, "u", "1111")
    r, _ = join(r, "m", "9999")
    assert (member(r, "u").role, member(r, "m").role) == (Role.LISTENER, Role.ADMIN)
    assert links(r) == {("m", "u")}


@pytest.mark.parametrize(("option", "muted_role"), [("users_join_muted", Role.USER),
                                                    ("admins_join_muted", Role.ADMIN)])
def test_join_muted_per_role_then_unmute_by_key(option: str, muted_role: Role) -> None:
    r = room(user_pin="1111", admin_pin="9999", **{option: True})
    r, _ = join(r, "u", "1111")
    r, _ = join(r, "m", "9999")
    muted = "u" if muted_role == Role.USER else "m"
    other = "m" if muted == "u" else "u"
    assert member(r, muted).muted and not member(r, other).muted
    assert (muted, other) not in links(r) and (other, muted) in links(r)
    r, effects = press(r, muted, OwnKey.MUTE)
    assert effects == [Notify((muted,), ("unmuted",))] and (muted, other) in links(r)
    r, effects = press(r, muted, OwnKey.MUTE)
    assert effects == [Notify((muted,), ("muted",))] and (muted, other) not in links(r)


def test_users_join_muted_once_the_room_is_large() -> None:
    r = room(start_muted_at=2, admin_pin="9999", user_pin="1111")
    r, _ = join(r, "a", "1111")
    r, _ = join(r, "b", "1111")
    r, _ = join(r, "c", "1111")  # two are in already
    r, _ = join(r, "m", "9999")  # moderators are never muted by size
    assert [member(r, x).muted for x in "abcm"] == [False, False, True, False]


def test_muted_by_a_moderator_only_a_moderator_unmutes_then_a_raised_hand() -> None:
    r = room(user_pin="1111", admin_pin="9999")
    r, _ = join(r, "m", "9999")
    r, _ = join(r, "a", "1111")
    r, _ = join(r, "b", "1111")
    r, _ = transition(r, Pressed("m", Moderator("92")))
    r, effects = press(r, "a", OwnKey.MUTE)
    assert effects == [Notify(("a",), ("muted_by_moderator",))] and member(r, "a").muted
    r, effects = press(r, "b", OwnKey.HAND)
    assert effects == [Notify(("m",), ("hand_raised_notice",)), Notify(("b",), ("hand_raised",))]
    r, _ = press(r, "a", OwnKey.HAND)
    assert [m.id for m in r.raised()] == ["b", "a"]
    r, effects = transition(r, Pressed("m", Moderator("96")))  # the longest-raised hand first
    assert effects == [Notify(("b",), ("unmuted",)), Notify(("m",), ("hand_unmuted",))]
    assert not member(r, "b").muted and member(r, "b").hand == 0 and ("b", "m") in links(r)
    r, _ = run(r, SetMuted("a", False))  # an operator's unmute lowers the hand too
    assert r.raised() == []
    r, effects = transition(r, Pressed("m", Moderator("96")))
    assert effects == [Notify(("m",), ("no_raised_hands",))]


def test_a_second_press_lowers_the_hand() -> None:
    r, _ = join(room(), "a")
    r, _ = press(r, "a", OwnKey.HAND)
    r, effects = press(r, "a", OwnKey.HAND)
    assert effects == [Notify(("a",), ("hand_lowered",))] and member(r, "a").hand == 0


def test_volume_keys_step_and_stop_at_their_bounds() -> None:
    r, _ = join(room(), "a")
    r, effects = press(r, "a", OwnKey.HEAR_LOUDER)
    assert member(r, "a").hear_db == LEVEL_STEP and effects == [Notify(("a",), ("hear_louder",))]
    for _ in range(10):
        r, _ = press(r, "a", OwnKey.HEAR_LOUDER)
        r, _ = press(r, "a", OwnKey.TALK_QUIETER)
    assert (member(r, "a").hear_db, member(r, "a").talk_db) == (LEVELS[1], LEVELS[0])
    r, effects = press(r, "a", OwnKey.TALK_LOUDER)
    assert member(r, "a").talk_db == LEVELS[0] + LEVEL_STEP and effects == [Notify(("a",), ("talk_louder",))]
    r, effects = press(r, "a", OwnKey.HEAR_QUIETER)
    assert member(r, "a").hear_db == LEVELS[1] - LEVEL_STEP and effects == [Notify(("a",), ("hear_quieter",))]


def test_the_count_key_says_how_many_others_are_in() -> None:
    r, _ = join(room(), "a")
    r, effects = press(r, "a", OwnKey.COUNT)
    assert effects == [Notify(("a",), ("only_participant",))]
    for other in "bcd":
        r, _ = join(r, other)
    r, effects = press(r, "a", OwnKey.COUNT)
    assert effects == [Notify(("a",), ("count_intro", "number_3", "noun_many"))]
    r = dataclasses.replace(r, settings=dataclasses.replace(r.settings, language="ru"))
    r, effects = press(r, "a", OwnKey.COUNT)
    assert effects == [Notify(("a",), ("count_intro", "number_3", "noun_few"))]


def test_help_says_the_keys_and_to_a_moderator_its_own_too() -> None:
    r = room(admin_pin="9999", user_pin="1111")
    r, _ = join(r, "u", "1111")
    r, _ = join(r, "m", "9999")
    assert press(r, "u", OwnKey.HELP)[1] == [Notify(("u",), ("help_keys",))]
    assert press(r, "m", OwnKey.HELP)[1] == [Notify(("m",), ("help_keys", "help_moderator"))]


def test_own_keys_work_only_inside_the_conference() -> None:
    r = room(wait_for_admin=True)
    r, _ = join(r, "a")
    assert member(r, "a").stage == Stage.WAITING
    after, effects = press(r, "a", OwnKey.MUTE)
    assert (after, effects) == (r, [])


def test_the_lobby_holds_callers_until_a_moderator_lets_them_in_one_by_one() -> None:
    r = room(lobby=True, user_pin="1111", admin_pin="9999")
    r, _ = join(r, "m", "9999")  # moderators never wait there
    r, effects = join(r, "a", "1111")
    assert Play("a", ("only_one_other", "lobby_wait")) in effects and member(r, "a").stage == Stage.LOBBY
    assert effects[-1] == Notify(("m",), ("lobby_knock",))
    r, _ = join(r, "b", "1111")
    assert links(r) == {(MUSIC, "a"), (MUSIC, "b"), (MUSIC, "m")}  # heard by nobody, hearing nobody
    # Nothing typed leads out: not the moderator's codes, not a PIN again, not the own keys.
    for keys in ("*97", "9999#", "*1", "##"):
        r, effects = run(r, *(Digit("a", d) for d in keys))
        after, more = transition(r, Pressed("a", Moderator("97")))
        assert member(after, "a").stage == Stage.LOBBY and effects == more == []
    r, effects = transition(r, Pressed("m", Moderator("97")))  # the longest waiting first
    assert member(r, "a").stage == Stage.IN_CONFERENCE and member(r, "b").stage == Stage.LOBBY
    assert Notify(("m",), ("lobby_admitted",)) in effects and ("a", "m") in links(r)
    r, _ = run(r, Admit("b"))  # an operator lets in a given one
    assert member(r, "b").stage == Stage.IN_CONFERENCE
    r, effects = transition(r, Pressed("m", Moderator("97")))
    assert effects == [Notify(("m",), ("lobby_empty",))]


def test_an_operator_admits_the_next_or_drops_from_the_lobby_and_wait_for_admin_still_applies() -> None:
    r = room(lobby=True, wait_for_admin=True)
    r, _ = join(r, "a")
    r, _ = join(r, "b")
    assert [member(r, x).stage for x in "ab"] == [Stage.LOBBY, Stage.LOBBY]
    r, _ = run(r, Admit(), Drop("b"), Admit("nobody"))
    assert member(r, "a").stage == Stage.WAITING and member(r, "b").stage == Stage.LEAVING
