"""In-call feature codes: the digit map, one keypad per caller.

Pure: digits and the clock come in as arguments, commands come out. Two maps:

Conference map (local *8 conferences and rooms, seed 003):
  *8NUMBER then # or DIAL_TIMEOUT of silence   Invite(NUMBER)
  ##                                            DropLast()
  *92 .. *98                                    Moderator(92..98)
  *1 *2 *3 *4 *5 *6 *0 **                       Own(key): a participant's own keys (OwnKey)
Consult map (a call anchored for "#", seed 002):
  # while talking                               Hold()      the other side hears music
  NUMBER then # or DIAL_TIMEOUT of silence      Consult(NUMBER)
  # while consulting                            Merge()
  * while consulting                            Abandon()   back to the held side

A code that does not match is dropped whole; a half-typed one is dropped after
PREFIX_TIMEOUT. Digits typed while a room prompt asks for a PIN never get here.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

DIAL_TIMEOUT = 3.0  # silence that ends a number (seed 002: "3 s")
FIRST_DIGIT_TIMEOUT = 10.0  # after "#", no number at all: back to the held call
PREFIX_TIMEOUT = 3.0  # a lone * or # is forgotten after this
MAX_NUMBER = 32
MODERATOR_CODES = ("92", "93", "94", "95", "96", "97", "98")


class KeyMap(StrEnum):
    CONFERENCE = "conference"
    CONSULT = "consult"


@dataclass(frozen=True)
class Invite:
    number: str


@dataclass(frozen=True)
class DropLast:
    pass


@dataclass(frozen=True)
class Moderator:
    code: str  # "92".."98"


class OwnKey(StrEnum):
    """A participant's own keys, after *: the top row is one's voice, the middle row what one hears
    (ConfBridge's user menu has them on 1/4/6/7/9, but *8 invites and *9x are the moderator's)."""

    MUTE = "1"
    TALK_QUIETER = "2"
    TALK_LOUDER = "3"
    HEAR_QUIETER = "4"
    HAND = "5"
    HEAR_LOUDER = "6"
    COUNT = "0"
    HELP = "*"


OWN_KEYS = frozenset(key.value for key in OwnKey)


@dataclass(frozen=True)
class Own:
    key: OwnKey


@dataclass(frozen=True)
class Hold:
    pass


@dataclass(frozen=True)
class Consult:
    number: str


@dataclass(frozen=True)
class Merge:
    pass


@dataclass(frozen=True)
class Abandon:
    pass


Command = Invite | DropLast | Moderator | Own | Hold | Consult | Merge | Abandon


@dataclass(frozen=True)
class Keypad:
    keys: KeyMap = KeyMap.CONFERENCE
    typed: str = ""  # the code so far: "", "*", "#", "*8123", "*9", or (consult) the number being dialled
    dialling: bool = False  # consult map: the number after # is being typed
    consulting: bool = False  # consult map: a consulted party is ringing or talking
    deadline: float | None = None  # when what is typed so far ends by itself

    def idle(self) -> Keypad:
        return Keypad(self.keys, consulting=self.consulting)


def press(pad: Keypad, digit: str, now: float) -> tuple[Keypad, list[Command]]:
    """One key; a timeout that fell due before it is applied first (see `expire`)."""
    pad, expired = expire(pad, now)
    pad, command = _consult(pad, digit, now) if pad.keys == KeyMap.CONSULT else _conference(pad, digit, now)
    return pad, [c for c in (expired, command) if c is not None]


def expire(pad: Keypad, now: float) -> tuple[Keypad, Command | None]:
    """What silence until `now` does: a number being dialled is complete, a prefix is dropped."""
    if pad.deadline is None or now < pad.deadline:
        return pad, None
    if pad.keys == KeyMap.CONSULT and pad.dialling:
        if not pad.typed:
            return Keypad(pad.keys), Abandon()
        return Keypad(pad.keys, consulting=True), Consult(pad.typed)
    if pad.typed.startswith("*8") and len(pad.typed) > 2:
        return pad.idle(), Invite(pad.typed[2:])
    return pad.idle(), None


def _conference(pad: Keypad, digit: str, now: float) -> tuple[Keypad, Command | None]:
    typed = pad.typed + digit
    if typed == "##":
        return pad.idle(), DropLast()
    if typed.startswith("*8") and len(typed) > 2:
        if digit == "#":
            return pad.idle(), (Invite(pad.typed[2:]) if len(pad.typed) > 2 else None)
        if not digit.isdigit() or len(typed) - 2 > MAX_NUMBER:
            return pad.idle(), None
        return _typing(pad, typed, now, DIAL_TIMEOUT), None
    if len(typed) == 2 and typed[0] == "*" and typed[1] in OWN_KEYS:
        return pad.idle(), Own(OwnKey(typed[1]))
    if typed.startswith("*9") and len(typed) == 3:
        code = typed[1:]
        return pad.idle(), (Moderator(code) if code in MODERATOR_CODES else None)
    if typed in ("*", "#", "*8", "*9"):
        return _typing(pad, typed, now, PREFIX_TIMEOUT), None
    return pad.idle(), None


def _consult(pad: Keypad, digit: str, now: float) -> tuple[Keypad, Command | None]:
    if pad.consulting:
        if digit == "#":
            return Keypad(pad.keys), Merge()
        if digit == "*":
            return Keypad(pad.keys), Abandon()
        return pad, None
    if not pad.dialling:
        if digit == "#":
            return Keypad(pad.keys, dialling=True, deadline=now + FIRST_DIGIT_TIMEOUT), Hold()
        return pad, None
    if digit == "#":
        if not pad.typed:
            return Keypad(pad.keys), Abandon()  # "##": nothing dialled, back to the call
        return Keypad(pad.keys, consulting=True), Consult(pad.typed)
    if digit == "*" and not pad.typed:
        return Keypad(pad.keys), Abandon()
    if not digit.isdigit() or len(pad.typed) >= MAX_NUMBER:
        return pad, None
    return _typing(pad, pad.typed + digit, now, DIAL_TIMEOUT), None


def _typing(pad: Keypad, typed: str, now: float, timeout: float) -> Keypad:
    return Keypad(pad.keys, typed, pad.dialling, pad.consulting, now + timeout)


def consult_over(pad: Keypad) -> Keypad:
    """The consulted party hung up, failed, or was merged: # holds again from now on."""
    return Keypad(pad.keys)
