"""Talking or not, from a participant's received audio level, with hysteresis.

Levels are PJSIP's 0-100 signal levels, sampled a few times a second (conference.gain.level_db
reads them in dBFS: TALK_ON is a tone at about -34 dBFS, TALK_OFF about -43 dBFS). A participant
starts talking when the level reaches TALK_ON and stops after it stayed below TALK_OFF for HOLD
seconds, so pauses between words do not flap.
"""

from __future__ import annotations

from dataclasses import dataclass

TALK_ON = 12
TALK_OFF = 6
HOLD = 0.8


@dataclass(frozen=True)
class Talk:
    talking: bool = False
    quiet_since: float | None = None  # when the level last fell below TALK_OFF while talking


def observe_level(talk: Talk, level: int, now: float) -> tuple[Talk, bool]:
    """The new state and whether talking/not talking changed."""
    if not talk.talking:
        if level >= TALK_ON:
            return Talk(talking=True), True
        return talk, False
    if level >= TALK_OFF:
        return Talk(talking=True), False
    quiet_since = talk.quiet_since if talk.quiet_since is not None else now
    if now - quiet_since >= HOLD:
        return Talk(), True
    return Talk(talking=True, quiet_since=quiet_since), False
