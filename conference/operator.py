"""What an operator's live actions on a room carry (the panel and the API alike): the number to
invite, the library sound to play, the moderator who whispers. Pure: whether the number may be
called is the number plan's (conference.numberplan.operator), whether the sound exists the
library's, whether the whisperer is a moderator in the room the roster's."""

from __future__ import annotations

from typing import Any

from conference.fields import Rule, clean, integer, matching, require
from conference.keypad import MAX_NUMBER
from conference.rooms import MAX_SOUND_ID

# Digits (ASCII), optionally after one "+", as long as a phone's *8 may type them.
INVITE: dict[str, Rule] = {"number": matching(f"\\+?[0-9]{{1,{MAX_NUMBER}}}", f"1-{MAX_NUMBER} digits, optionally "
                                              "after a +").means("The number to call: digits, optionally after a +")}
PLAY: dict[str, Rule] = {"sound_id": integer(1, MAX_SOUND_ID).means("A sound's id, as GET /sounds lists it")}
# A participant id as the bridge makes them (16 hex digits); anything else names nobody.
PARTICIPANT_ID = "[0-9a-f]{16}"
WHISPER: dict[str, Rule] = {"from": matching(PARTICIPANT_ID, "a participant id (16 hex digits)").means(
    "The moderator who whispers: a participant id of the room's roster whose role is admin")}


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


def validate_whisper(payload: Any) -> str:
    """The participant id of the moderator who whispers."""
    found = clean(payload, WHISPER)
    require(found, "from")
    moderator: str = found["from"]
    return moderator
