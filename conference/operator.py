"""What an operator's live actions on a room carry (the panel and the API alike): the number to
invite, the library sound to play. Pure: whether the number may be called is the number plan's
(conference.numberplan.operator), whether the sound exists the library's."""

from __future__ import annotations

from typing import Any

from conference.fields import Rule, clean, integer, require
from conference.keypad import MAX_NUMBER

MAX_SOUND_ID = 2**63 - 1


def dialable(value: Any) -> bool:
    """Digits (ASCII), optionally after one "+", as long as a phone's *8 may type them."""
    if not isinstance(value, str):
        return False
    digits = value[1:] if value.startswith("+") else value
    return digits.isascii() and digits.isdigit() and 1 <= len(digits) <= MAX_NUMBER


INVITE: dict[str, Rule] = {"number": (dialable, f"1-{MAX_NUMBER} digits, optionally after a +")}
PLAY: dict[str, Rule] = {"sound_id": (integer(1, MAX_SOUND_ID), "the id of a sound in the library")}


def validate_invite(payload: Any) -> str:
    """The number an invitation calls."""
    found = clean(payload, INVITE)
    require(found, "number")
    number: str = found["number"]
    return number


def validate_play(payload: Any) -> int:
    """The library sound to play to the room."""
    found = clean(payload, PLAY)
    require(found, "sound_id")
    sound_id: int = found["sound_id"]
    return sound_id
