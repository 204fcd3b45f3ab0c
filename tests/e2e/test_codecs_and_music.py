"""Codecs the bridge offers, and what a lone participant hears."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from stack.sounds import MUSIC_DBFS, MUSIC_FOLDER, ensure_music
from store.audio import LEVEL_DBFS
from tests.support.audio import last_seconds, levels, music_windows, rms_db, write_tone
from tests.support.phone import TestPhone
from tests.support.stack import Stack

TONES = (700.0, 1300.0)


@pytest.mark.parametrize("codecs", [("G722/16000", "PCMA/8000"), ("PCMU/8000", "G722/16000")])
def test_phones_with_different_codecs_hear_each_other(
    stack: Stack, audio_dir: Path, codecs: tuple[str, str], phones: Callable[..., TestPhone]
) -> None:
    room = "3700" if codecs[0].startswith("G722") else "3701"
    stack.create_room(room, mute_notifications=True)  # join notices would mask the tones
    legs = []
    for index, (codec, tone) in enumerate(zip(codecs, TONES, strict=True)):
        phone = phones(f"{codec}-phone", codec=codec)
        heard = audio_dir / f"heard{index}.wav"
        phone.call(stack.room_uri(room), play=write_tone(audio_dir / f"t{index}.wav", tone, 20), record=heard)
        phone.wait_state("CONFIRMED")
        legs.append((phone, heard))
    stack.wait_in_conference(room, 2)
    time.sleep(3)  # the length of the two-way conversation each phone records
    for phone, _ in legs:
        phone.hangup()
        phone.wait_for("recorded", timeout=15)
    for index, (_, heard) in enumerate(legs):
        other, own = TONES[1 - index], TONES[index]
        heard_levels = levels(heard, list(TONES), *last_seconds(heard, 2.0))
        assert heard_levels[other] > -25.0, (codecs, index, heard_levels)
        assert heard_levels[other] - heard_levels[own] > 30.0, (codecs, index, heard_levels)


def alone_in(stack: Stack, room: str, phone: TestPhone, heard: Path) -> Path:
    """What a phone records alone in `room` for 8 s: the welcome and "you are the only person"
    (about 3.5 s), then the room's music."""
    phone.call(stack.room_uri(room), record=heard)
    phone.wait_state("CONFIRMED")
    stack.wait_in_conference(room, 1)
    time.sleep(8)
    phone.hangup()
    phone.wait_for("recorded", timeout=15)
    return heard


def test_a_lone_participant_hears_the_music(stack: Stack, audio_dir: Path, phones: Callable[..., TestPhone]) -> None:
    stack.create_room("3800")
    heard = alone_in(stack, "3800", phones("alone"), audio_dir / "alone.wav")
    scores = [score for score, _ in music_windows(heard, ensure_music(audio_dir, 8000), *last_seconds(heard, 3.0))]
    assert statistics.median(scores) > 0.75, scores


def test_a_room_plays_the_music_an_operator_picked_from_the_library(
    stack: Stack, audio_dir: Path, phones: Callable[..., TestPhone]
) -> None:
    # Another opsound track, uploaded as an operator would any sound: not the standard one.
    sound = stack.upload_sound(MUSIC_FOLDER / "manolo_camp-morning_coffee.wav", "Morning coffee")
    stack.create_room("3801", music_sound_id=sound["id"])
    heard = alone_in(stack, "3801", phones("alone-with-own-music"), audio_dir / "own-music.wav")
    excerpt = last_seconds(heard, 3.0)
    # The library keeps the upload levelled and at the bridge's rates; the call ran at 8 kHz.
    upload = stack.config.var_path / "sounds" / "library" / f"{sound['id']}-8000.wav"
    picked = music_windows(heard, upload, *excerpt)
    standard = [score for score, _ in music_windows(heard, ensure_music(audio_dir, 8000), *excerpt)]
    assert statistics.median(score for score, _ in picked) > 0.75 and max(standard) < 0.5, (picked, standard)
    # Under the prompts as the standard track is: the library keeps it at their level, the bridge 6 dB lower.
    best = max(range(len(picked)), key=lambda i: picked[i][0])
    where, at = picked[best][1], excerpt[0] + best
    quieter = rms_db(upload, where, where + 1.0) - rms_db(heard, at, at + 1.0)
    assert abs(quieter - (LEVEL_DBFS - MUSIC_DBFS)) < 1.5, quieter
