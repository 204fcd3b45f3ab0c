"""The noise gate ([bridge] noise_gate) with real phones: in a room where three phones send low-level
noise and a fourth, as noisy, speaks in bursts, a listener hears the noise floor between the bursts drop
by what taking the four noises out of the mix should give (the speaker's too: its gate closed before
each burst), and each burst after a silence still starts at its steady level (its first 100 ms are not
clipped). The same room on the session stack (gate off, the default) is the reference, in the same run."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from conference.gate import HANGOVER
from stack.sounds import comfort_noise_samples
from tests.e2e.test_agc import amplitude, dial, levels_of
from tests.e2e.test_participant_keys import Party, wait_joined
from tests.support.audio import read_wav, rms_db, write_samples
from tests.support.phone import TestPhone
from tests.support.stack import Stack, running_stack

RATE = 8000
TONE, TONE_DB = 1123.0, -18.0  # Hz (not a multiple of 50), dBFS peak: the speaker's bursts, at AGC's target
NOISE_DB = -50.0  # dBFS RMS of each noisy phone: a quiet office heard through a headset
BURST, GAP = 1.0, 2.5  # seconds: bursts after silences longer than the gate's hangover
ONSET = 0.1  # the start of a burst judged, in seconds
ONSET_TOLERANCE = 3.0  # dB: "within a few dB" of the steady level
FLOOR_TOLERANCE = 3.0  # dB around the expected drop of the noise floor
LISTEN = 14.0  # seconds heard once everyone is in: four bursts
FOUR_NOISES = 10 * math.log10(4 * 10 ** (NOISE_DB / 10))  # dB: what the listener hears between bursts, gate off


@pytest.fixture(scope="module")
def gated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(tmp_path_factory.mktemp("gate"), noise_gate=True) as running:
        yield running


def noise_db(samples: np.ndarray) -> float:
    """RMS in dB of full scale, as tests.support.audio.rms_db reads a recording."""
    return float(10 * np.log10(np.mean(samples**2)))


def expected_drop() -> float:
    """Four noises summed (gate off) against the comfort noise everyone hears while all are out (on)."""
    comfort = np.array(comfort_noise_samples(RATE)) / 32768.0
    return FOUR_NOISES - noise_db(comfort)


def noise(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).normal(0.0, 10 ** (NOISE_DB / 20), 60 * RATE)


def bursts(folder: Path) -> Path:
    """The speaker: its phone's noise, and a tone burst every BURST + GAP seconds."""
    t = np.arange(int(60 * RATE)) / RATE
    on = (t % (BURST + GAP)) >= GAP
    tone = np.where(on, amplitude(TONE_DB) * np.sin(2 * np.pi * TONE * t), 0.0)
    return write_samples(folder / "bursts.wav", tone + noise(3))


def listen(stack: Stack, phones: Callable[..., TestPhone], room: str, audio_dir: Path) -> tuple[float, list[float]]:
    """(noise floor between bursts in dB, onset loss of each burst in dB) as a listener in `room` hears."""
    audio_dir.mkdir()
    stack.create_room(room, announce_count=False, mute_notifications=True)
    listener = dial(stack, phones, room, f"listener-{room}", None, audio_dir)
    noisy = [dial(stack, phones, room, f"noisy-{room}-{i}", write_samples(audio_dir / f"noise-{i}.wav", noise(i)),
                   audio_dir) for i in range(3)]
    speaker = dial(stack, phones, room, f"speaker-{room}", bursts(audio_dir), audio_dir)
    parties: list[Party] = [listener, *noisy, speaker]
    wait_joined(stack, room, *parties)
    settled = listener.at() + 2 * HANGOVER  # every noisy phone's gate has had time to close
    time.sleep(LISTEN + 2 * HANGOVER)
    recording = listener.finish()
    for party in (*noisy, speaker):
        party.finish()
    # Where each burst ends (an end is never clipped), to the sample; it began BURST earlier.
    heard, _ = read_wav(recording)
    frame = RATE // 100
    on = [levels_of(heard[i:i + frame]) > TONE_DB - 12 for i in range(0, len(heard) - frame, frame)]
    loud = np.abs(heard) > amplitude(TONE_DB) / 2  # the tone's peaks: one every half period
    ends = [(i + int(np.flatnonzero(loud[i * frame:(i + 1) * frame]).max(initial=-1)) / frame) / 100
            for i in range(1, len(on)) if on[i - 1] and not on[i]]
    starts = [end - BURST for end in ends if end - BURST >= settled]
    gaps = [(end + HANGOVER + 0.3, end + GAP - 0.2) for end in ends
            if end >= settled and end + GAP - 0.2 <= len(heard) / RATE - 0.5]
    assert len(starts) >= 2 and gaps, ends
    floor = 10 * math.log10(np.mean([10 ** (rms_db(recording, *gap) / 10) for gap in gaps]))
    losses = []
    for start in starts:
        # Plain RMS, no window: a window tapering to nothing at its edges would not hear a clipped start.
        onset, steady = rms_db(recording, start, start + ONSET), rms_db(recording, start + 0.3, start + BURST - 0.1)
        assert abs(steady - (TONE_DB - 3)) <= 6, (start, steady)  # a sine's RMS is 3 dB under its peak
        losses.append(steady - onset)
    return floor, losses


def test_the_gate_drops_the_noise_floor_of_three_noisy_phones_without_clipping_the_speakers_onsets(
    stack: Stack, gated: Stack, phones: Callable[..., TestPhone], audio_dir: Path
) -> None:
    floor_off, losses_off = listen(stack, phones, "5990", audio_dir / "off")
    floor_on, losses_on = listen(gated, phones, "5991", audio_dir / "on")
    print(f"noise floor: gate off {floor_off:.1f} dB, on {floor_on:.1f} dB, drop {floor_off - floor_on:.1f} dB "
          f"(expected {expected_drop():.1f}); onset loss of the first {ONSET * 1000:.0f} ms: gate off "
          f"{[round(x, 1) for x in losses_off]}, on {[round(x, 1) for x in losses_on]} dB")
    assert abs(floor_off - FOUR_NOISES) <= FLOOR_TOLERANCE, floor_off  # the noise does reach the listener
    assert abs((floor_off - floor_on) - expected_drop()) <= FLOOR_TOLERANCE, (floor_off, floor_on)
    assert all(loss <= ONSET_TOLERANCE for loss in losses_off + losses_on), (losses_off, losses_on)
