"""Automatic gain control ([bridge] agc, on by default) with real phones, judged by what a third phone
hears: a quiet (-30 dBFS) and a loud (-6 dBFS) phone meet within 6 dB, and a word after a silence
starts at the level the voice settled at (its first 250 ms are neither clipped nor loud)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from conference.gain import RELEASE, TARGET_DB
from tests.e2e.test_participant_keys import Party, wait_joined
from tests.support.audio import levels, read_wav, write_samples, write_tone
from tests.support.phone import TestPhone
from tests.support.stack import Stack

QUIET, LOUD = 633.0, 1459.0  # Hz: not multiples of 50, as elsewhere
QUIET_DB, LOUD_DB = -30.0, -6.0
MET = 6.0  # dB: the "within 6 dB of each other"
SETTLE = 12 / RELEASE + 3  # seconds of talking for the quiet phone's +12 dB, and a margin
ONSET = 0.25  # the start of a word judged, in seconds
ONSET_TOLERANCE = 3.0  # dB


def dial(stack: Stack, phones: Callable[..., TestPhone], room: str, name: str, play: Path | None,
         audio_dir: Path) -> Party:
    phone = phones(name)
    recording = audio_dir / f"{name}-heard.wav"
    phone.call(stack.room_uri(room), play=play, record=recording)
    phone.wait_for("media")
    return Party(phone, recording, time.monotonic())


def amplitude(db: float) -> float:
    return float(10 ** (db / 20))


def test_a_quiet_and_a_loud_phone_meet_at_one_level_at_a_third(
    stack: Stack, phones: Callable[..., TestPhone], audio_dir: Path
) -> None:
    room = "5960"
    stack.create_room(room, announce_count=False, mute_notifications=True)
    hearer = dial(stack, phones, room, "agc-hearer", None, audio_dir)
    quiet = dial(stack, phones, room, "agc-quiet", write_tone(audio_dir / "quiet.wav", QUIET, 90,
                                                                 level=amplitude(QUIET_DB)), audio_dir)
    loud = dial(stack, phones, room, "agc-loud", write_tone(audio_dir / "loud.wav", LOUD, 90,
                                                              level=amplitude(LOUD_DB)), audio_dir)
    wait_joined(stack, room, hearer, quiet, loud)
    time.sleep(SETTLE + 3)
    end = hearer.at()
    recording = hearer.finish()
    quiet.finish()
    loud.finish()
    heard = levels(recording, [QUIET, LOUD], end - 3, end)
    assert abs(heard[LOUD] - heard[QUIET]) <= MET, heard  # 24 dB apart as the phones send them
    assert all(abs(level - TARGET_DB) <= MET for level in heard.values()), heard


def test_a_word_after_a_silence_starts_at_the_settled_level(
    stack: Stack, phones: Callable[..., TestPhone], audio_dir: Path
) -> None:
    room = "5961"
    stack.create_room(room, announce_count=False, mute_notifications=True)
    rate = 8000
    # A quiet voice: a long first word (AGC settles once the talker is in), then words of 3 s after
    # silences of 3 s.
    first, silence, word = SETTLE + 6, 3.0, 3.0
    t = np.arange(int((first + 4 * (silence + word)) * rate)) / rate
    speaking = (t < first) | (((t - first) % (silence + word)) >= silence)
    samples = np.where(speaking, amplitude(QUIET_DB) * np.sin(2 * np.pi * QUIET * t), 0.0)
    talker = dial(stack, phones, room, "onset-talker", write_samples(audio_dir / "words.wav", samples), audio_dir)
    hearer = dial(stack, phones, room, "onset-hearer", None, audio_dir)
    wait_joined(stack, room, talker, hearer)
    joined = hearer.at()
    time.sleep(max(0.0, first + 3 * (silence + word) + 1 - talker.at()))
    recording = hearer.finish()
    talker.finish()
    # Where each word ends in the recording (an end is never clipped); the next starts `silence` later.
    heard, _ = read_wav(recording)
    frame = rate // 100
    on = np.array([levels_of(heard[i:i + frame]) > TARGET_DB - 20 for i in range(0, len(heard) - frame, frame)])
    ends = [i / 100 for i in range(1, len(on)) if on[i - 1] and not on[i] and i / 100 > joined]
    starts = [end + silence for end in ends if end + silence + word <= len(heard) / rate]
    assert len(starts) >= 2, ends
    for start in starts[-2:]:  # after the first word and one more: AGC has settled
        onset = levels(recording, [QUIET], start, start + ONSET)[QUIET]
        steady = levels(recording, [QUIET], start + 1.0, start + word - 0.5)[QUIET]
        assert abs(steady - TARGET_DB) <= MET, steady
        assert abs(onset - steady) <= ONSET_TOLERANCE, (start, onset, steady)


def levels_of(chunk: np.ndarray) -> float:
    """RMS of a chunk as the dBFS of a sine (what write_tone's level means)."""
    return float(20 * np.log10(max(float(np.sqrt(np.mean(chunk**2))) * np.sqrt(2), 1e-10)))
