"""Automatic gain control of a participant's voice: quiet and loud phones meet at one level in the mix.

The bridge samples each leg's signal level a few times a second (PJSIP's 0-100 level of what the
caller sends into the mix, *after* the gain PJSIP applies to it). The controller works on the level
*before* that gain (what the phone sends), so it never chases its own output and the participant's
own talk-volume keys (*2/*3, `talk_db`) stay a plain offset added to its gain.

It learns only while the participant talks (conference.talking) and from frames at speech level:
silence and pauses never raise the gain, so background noise is not pumped up between words, and
the gain held through a silence is the one the next word starts with (no clipped or loud onset).
The gain moves slowly (ATTACK down, RELEASE up, in dB a second) and stays within MIN..MAX_GAIN_DB.

Levels in dB here are "dBFS of the sine with the same mean magnitude": a full-scale sine is 0 dB,
and a test tone of amplitude a reads 20*log10(a).
"""

from __future__ import annotations

import math
from bisect import bisect_left
from dataclasses import dataclass

from conference.talking import TALK_ON

TARGET_DB = -18.0  # the level voices meet at: headroom for a few talking at once before the mix clips
MIN_GAIN_DB = -12.0
MAX_GAIN_DB = 18.0  # a phone 18 dB too quiet is still brought up; beyond that it is mostly noise
ATTACK = 6.0  # dB a second the gain falls when a voice is too loud (faster: loud hurts)
RELEASE = 3.0  # dB a second it rises when a voice is too quiet
# How fast the voice's level estimate follows a frame above / below it: it leans towards the loud
# frames (the voice's peaks, not the ends of words), so a voice is not raised into clipping.
FOLLOW_UP, FOLLOW_DOWN = 0.3, 0.1
MAX_GAP = 0.5  # seconds: a late sample (a busy loop) moves the gain no more than this much time would
APPLY_STEP_DB = 0.5  # a change smaller than this is not worth telling the mixer

_FULL_SCALE = 32768.0
# PJSIP's levels: 0..100 in name, but the loudest mean magnitude there is reads 49 (a full-scale
# tone reads 45, a clipped one a little more).
TOP_LEVEL = 49


def _level_db(level: int) -> float | None:
    """PJSIP's level of a frame is the G.711 mu-law code of the frame's mean magnitude, scaled from
    0..255 to 0..100 (measured on the bridge's build: tones from 0 to -30 dBFS read 45 down to 15, a
    level a dB; quieter ones are coarser, -45 dBFS reads 5). Undone: the code's mu-law decoding."""
    code = round((level + 0.5) * 255 / 100)  # the middle of the codes scaled down to `level`
    mantissa, segment = code & 0x0F, (code & 0x70) >> 4
    magnitude = (((mantissa << 3) + 0x84) << segment) - 0x84
    return None if level <= 0 or magnitude <= 0 else 20 * math.log10(magnitude * math.pi / 2 / _FULL_SCALE)


_LEVELS_DB = [_level_db(level) for level in range(TOP_LEVEL + 1)]
_SOUNDS = [(db, level) for level, db in enumerate(_LEVELS_DB) if db is not None]


def level_db(level: int) -> float | None:
    """A PJSIP signal level in dB; None for silence."""
    return _LEVELS_DB[min(max(level, 0), TOP_LEVEL)]


# Frames below the level that starts talking are pauses or noise, even while talking: not learnt from.
SPEECH_FLOOR_DB: float = _LEVELS_DB[TALK_ON] or 0.0


def before_gain(level: int, gain_db: float) -> int:
    """The PJSIP level the signal had before a gain of `gain_db` made it `level` (the nearest),
    so a decision on the phone's own level (talking or not) does not move with the gain."""
    heard = level_db(level)
    if heard is None:
        return 0
    db = heard - gain_db
    index = bisect_left(_SOUNDS, (db, -1))
    near = [_SOUNDS[i] for i in (index - 1, index) if 0 <= i < len(_SOUNDS)]
    return min(near, key=lambda sound: abs(sound[0] - db))[1]


@dataclass(frozen=True)
class Gain:
    """One leg's controller: its gain now, its voice's estimated level, when it last learnt."""

    gain_db: float = 0.0
    voice_db: float | None = None  # before any gain; None until it first talked
    at: float | None = None  # when it last learnt


def observe(gain: Gain, level: int, applied_db: float, talking: bool, now: float) -> Gain:
    """The controller after a level sample: `level` as PJSIP measured it with `applied_db` applied
    (this controller's gain plus the participant's own offset), `talking` as conference.talking
    judged it. Silence, pauses and a participant not talking leave the gain as it is."""
    measured = level_db(level)
    if not talking or measured is None or measured - applied_db < SPEECH_FLOOR_DB:
        return gain
    voice = measured - applied_db
    if gain.voice_db is not None:
        follow = FOLLOW_UP if voice > gain.voice_db else FOLLOW_DOWN
        voice = gain.voice_db + follow * (voice - gain.voice_db)
    # Time since it last learnt, at most MAX_GAP: after a silence the next word moves the gain no
    # more than one sample of it would.
    elapsed = 0.0 if gain.at is None else min(max(now - gain.at, 0.0), MAX_GAP)
    wanted = min(max(TARGET_DB - voice, MIN_GAIN_DB), MAX_GAIN_DB)
    step = wanted - gain.gain_db
    step = max(step, -ATTACK * elapsed) if step < 0 else min(step, RELEASE * elapsed)
    return Gain(gain.gain_db + step, voice, now)


def worth_applying(new_db: float, applied_db: float) -> bool:
    """Whether the mixer should be told a gain: a change of at least APPLY_STEP_DB, or reaching a bound."""
    at_bound = new_db in (MIN_GAIN_DB, MAX_GAIN_DB)
    return abs(new_db - applied_db) >= APPLY_STEP_DB or (at_bound and new_db != applied_db)
