"""conference.keypad: every transition of both digit maps, timeouts included."""

from __future__ import annotations

import pytest

from conference.keypad import (
    DIAL_TIMEOUT,
    FIRST_DIGIT_TIMEOUT,
    PREFIX_TIMEOUT,
    Abandon,
    Command,
    Consult,
    DropLast,
    Hold,
    Invite,
    KeyMap,
    Keypad,
    Merge,
    Moderator,
    Own,
    OwnKey,
    consult_over,
    expire,
    press,
)

CONSULT = Keypad(KeyMap.CONSULT)


def keys(pad: Keypad, digits: str, start: float = 0.0, step: float = 0.1) -> tuple[Keypad, list[Command]]:
    commands: list[Command] = []
    for index, digit in enumerate(digits):
        pad, got = press(pad, digit, start + index * step)
        commands += got
    return pad, commands


@pytest.mark.parametrize("digits, expected", [
    ("*8100#", [Invite("100")]),
    ("*889161234567#", [Invite("89161234567")]),
    ("##", [DropLast()]),
    ("*92", [Moderator("92")]),
    ("*95", [Moderator("95")]),
    ("*91", []),
    ("*96", [Moderator("96")]),
    ("*97", [Moderator("97")]),
    ("*98", [Moderator("98")]),
    ("*99", []),
    ("*1", [Own(OwnKey.MUTE)]),
    ("*2*3", [Own(OwnKey.TALK_QUIETER), Own(OwnKey.TALK_LOUDER)]),
    ("*4*6", [Own(OwnKey.HEAR_QUIETER), Own(OwnKey.HEAR_LOUDER)]),
    ("*5", [Own(OwnKey.HAND)]),
    ("*0", [Own(OwnKey.COUNT)]),
    ("**", [Own(OwnKey.HELP)]),
    ("1*1", [Own(OwnKey.MUTE)]),  # a stray digit before does not spoil it
    ("*8#", []),  # no number: nothing to invite
    ("*7", []),
    ("#1", []),
    ("1234", []),
    ("*8100##", [Invite("100")]),  # the trailing # starts a new code
    ("*8100###", [Invite("100"), DropLast()]),
    ("*81*", []),  # * inside a number drops the code
])
def test_conference_codes(digits: str, expected: list[Command]) -> None:
    _pad, commands = keys(Keypad(), digits)
    assert commands == expected


def test_conference_number_ends_after_silence() -> None:
    pad, commands = keys(Keypad(), "*8100")
    assert commands == [] and pad.deadline == pytest.approx(0.4 + DIAL_TIMEOUT)
    assert expire(pad, 0.4 + DIAL_TIMEOUT - 0.01) == (pad, None)
    assert expire(pad, 0.4 + DIAL_TIMEOUT) == (Keypad(), Invite("100"))


def test_a_digit_after_the_timeout_gets_both_the_invite_and_its_own_meaning() -> None:
    pad, _ = keys(Keypad(), "*8100")
    pad, commands = press(pad, "#", 10.0)
    assert commands == [Invite("100")] and pad.typed == "#"
    assert press(pad, "#", 10.1)[1] == [DropLast()]


def test_a_lone_prefix_is_forgotten() -> None:
    pad, _ = keys(Keypad(), "*")
    assert expire(pad, PREFIX_TIMEOUT) == (Keypad(), None)
    pad, _ = keys(Keypad(), "#")
    pad, commands = press(pad, "#", PREFIX_TIMEOUT + 1)
    assert commands == [] and pad.typed == "#"  # the first # had lapsed


def test_an_overlong_number_is_dropped() -> None:
    pad, commands = keys(Keypad(), "*8" + "1" * 33 + "#")
    assert commands == [] and pad.typed == "#"


def test_consult_hold_dial_and_merge() -> None:
    pad, commands = press(CONSULT, "#", 0.0)
    assert commands == [Hold()] and pad.dialling and pad.deadline == FIRST_DIGIT_TIMEOUT
    pad, commands = keys(pad, "101#", start=1.0)
    assert commands == [Consult("101")] and pad.consulting and not pad.dialling
    assert press(pad, "5", 2.0) == (pad, [])  # digits while consulting are the conversation's
    pad, commands = press(pad, "#", 3.0)
    assert commands == [Merge()] and pad == CONSULT


def test_consult_number_ends_after_silence() -> None:
    pad, _ = keys(CONSULT, "#89161234567")
    assert expire(pad, 1.1 + DIAL_TIMEOUT) == (Keypad(KeyMap.CONSULT, consulting=True), Consult("89161234567"))


def test_consult_abandoned_by_star_or_by_an_empty_number() -> None:
    pad, commands = keys(CONSULT, "#101#*")
    assert commands == [Hold(), Consult("101"), Abandon()] and pad == CONSULT
    assert keys(CONSULT, "##")[1] == [Hold(), Abandon()]
    assert keys(CONSULT, "#*")[1] == [Hold(), Abandon()]
    pad, _ = press(CONSULT, "#", 0.0)
    assert expire(pad, FIRST_DIGIT_TIMEOUT) == (CONSULT, Abandon())


def test_consult_ignores_other_keys_and_overlong_numbers() -> None:
    assert keys(CONSULT, "123*")[1] == []
    pad, commands = keys(CONSULT, "#" + "9" * 40)
    assert commands == [Hold()] and len(pad.typed) == 32
    assert press(pad, "A", 5.0)[1] == []


def test_when_a_consult_ends_hash_holds_again() -> None:
    pad, _ = keys(CONSULT, "#101#")
    pad = consult_over(pad)
    assert press(pad, "#", 9.0)[1] == [Hold()]
