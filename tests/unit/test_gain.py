"""The automatic gain controller (conference.gain), fed PJSIP levels the way the bridge samples them."""

from __future__ import annotations

from itertools import pairwise

import pytest

from conference.gain import (
    ATTACK,
    MAX_GAIN_DB,
    MIN_GAIN_DB,
    RELEASE,
    SPEECH_FLOOR_DB,
    TARGET_DB,
    Gain,
    before_gain,
    level_db,
    observe,
    worth_applying,
)
from conference.talking import TALK_ON

EVERY = 0.2  # seconds between samples, as the bridge takes them


def code_of(db: float) -> int:
    """The PJSIP level PJSIP reports for a tone at `db` (its mean magnitude, mu-law coded)."""
    return min(range(50), key=lambda code: abs((level_db(code) or -200.0) - db))


def phone(tone_db: float, seconds: float, start: Gain | None = None, talking: bool = True, t0: float = 0.0,
          talk_db: float = 0.0) -> tuple[Gain, list[float]]:
    """A phone sending a steady tone at `tone_db` through the mixer for `seconds`: the controller
    and, sample by sample, the level the mix got (what PJSIP measures after the gain)."""
    agc, heard = start or Gain(), []
    for n in range(round(seconds / EVERY)):
        applied = agc.gain_db + talk_db
        level = code_of(tone_db + applied)
        heard.append(level_db(level) or -200.0)
        agc = observe(agc, level, applied, talking, t0 + n * EVERY)
    return agc, heard


# What the bridge's PJSIP reported for tones of these dBFS (file players into the mixer, 2026-11-29).
MEASURED = {0: 45, -6: 39, -12: 33, -18: 27, -24: 21, -30: 15, -36: 10, -45: 5}


def test_levels_read_as_the_dbfs_of_the_tones_that_made_them() -> None:
    assert level_db(0) is None
    for db, level in MEASURED.items():
        assert abs((level_db(level) or -200) - db) <= (0.7 if db >= -30 else 1.5), (db, level)
    assert level_db(TALK_ON) == pytest.approx(SPEECH_FLOOR_DB)


def test_a_quiet_and_a_loud_phone_meet_at_the_target() -> None:
    quiet, heard_quiet = phone(-30, 10)
    loud, heard_loud = phone(-6, 10)
    assert quiet.gain_db == pytest.approx(TARGET_DB + 30, abs=0.6)
    assert loud.gain_db == pytest.approx(TARGET_DB + 6, abs=0.6)
    assert abs(heard_quiet[-1] - heard_loud[-1]) < 1.5
    assert abs(heard_loud[-1] - TARGET_DB) < 1.5


def test_the_gain_moves_at_most_its_rates() -> None:
    _, heard_quiet = phone(-30, 3)
    _, heard_loud = phone(-6, 3)
    # One sample's step at most (the PJSIP level's coding adds up to ~0.5 dB either way).
    assert all(b - a <= RELEASE * EVERY + 1.0 for a, b in pairwise(heard_quiet))
    assert all(a - b <= ATTACK * EVERY + 1.0 for a, b in pairwise(heard_loud))
    assert heard_quiet[-1] < TARGET_DB - 2  # 3 s is not enough to raise 12 dB at RELEASE dB/s
    assert heard_loud[-1] > TARGET_DB - 1.5  # but enough to lower 12 dB at ATTACK dB/s


def test_the_gain_stays_within_its_bounds() -> None:
    shout, _ = phone(0, 30)
    assert shout.gain_db == MIN_GAIN_DB
    whisper = Gain(MAX_GAIN_DB - 0.2, voice_db=-40.0, at=0.0)  # learnt from a quieter voice before
    whisper = observe(whisper, code_of(-33 + whisper.gain_db), whisper.gain_db, True, EVERY)
    assert whisper.voice_db is not None and TARGET_DB - whisper.voice_db > MAX_GAIN_DB  # it would want more
    assert whisper.gain_db == MAX_GAIN_DB


def test_silence_and_noise_never_raise_the_gain() -> None:
    settled, _ = phone(-30, 10)
    held, _ = phone(-80, 10, settled, t0=10)  # a pause: below the speech floor
    assert held == settled
    noise, _ = phone(-40, 10, settled, talking=False, t0=20)  # loud enough, but not talking
    assert noise == settled
    assert observe(settled, 0, settled.gain_db, True, 30.0) == settled  # digital silence


def test_a_word_after_a_long_silence_starts_at_the_settled_gain_and_moves_one_step() -> None:
    settled, _ = phone(-30, 10)
    _, heard = phone(-30, 0.2, settled, t0=100)
    assert abs(heard[0] - TARGET_DB) < 1.0  # the onset is heard at the level it settled at
    louder = observe(settled, code_of(-20 + settled.gain_db), settled.gain_db, True, 100.0)
    assert settled.gain_db - louder.gain_db <= ATTACK * 0.5 + 1e-9  # no more than MAX_GAP's worth


def test_the_participants_own_offset_adds_to_the_gain() -> None:
    plain, heard_plain = phone(-30, 10)
    quieter, heard_quieter = phone(-30, 10, talk_db=-3)
    assert quieter.gain_db == pytest.approx(plain.gain_db, abs=0.6)  # AGC does not undo the key
    assert heard_plain[-1] - heard_quieter[-1] == pytest.approx(3, abs=1.0)


def test_before_gain_recovers_the_phones_own_level() -> None:
    for db in (-30, -20, -10):  # where a level is a dB (quieter ones are coarser)
        for gain_db in (-12.0, 0.0, 12.0):
            heard = code_of(db + gain_db)
            assert abs((level_db(before_gain(heard, gain_db)) or -200) - db) < 1.0, (db, gain_db)
    assert before_gain(0, 12.0) == 0
    assert before_gain(45, -12.0) == 49  # a clipped voice reads as the loudest level there is


def test_small_changes_are_not_worth_telling_the_mixer() -> None:
    assert not worth_applying(3.2, 3.0)
    assert worth_applying(3.5, 3.0)
    assert worth_applying(MAX_GAIN_DB, MAX_GAIN_DB - 0.2)
    assert not worth_applying(MAX_GAIN_DB, MAX_GAIN_DB)
