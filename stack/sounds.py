"""Sounds the project makes itself (no third-party audio): the music-on-hold loop, comfort noise."""

from __future__ import annotations

import math
import random
import struct
import wave
from collections.abc import Callable
from pathlib import Path

# A slow C-major arpeggio with soft attack and decay, about -18 dBFS.
NOTES_HZ = (261.63, 329.63, 392.00, 523.25, 392.00, 329.63)
_NOTE_SECONDS = 0.6
_PEAK = 0.12


def music_samples(rate: int) -> list[int]:
    samples: list[int] = []
    per_note = int(rate * _NOTE_SECONDS)
    for freq in NOTES_HZ:
        for i in range(per_note):
            t = i / rate
            envelope = min(1.0, t / 0.03) * math.exp(-2.5 * t)
            tone = math.sin(2 * math.pi * freq * t) + 0.3 * math.sin(4 * math.pi * freq * t)
            samples.append(int(32767 * _PEAK * envelope * tone / 1.3))
    return samples


def comfort_noise_samples(rate: int, seconds: float = 2.0) -> list[int]:
    """Noise at about -60 dBFS: silence to the ear, but RTP keeps flowing."""
    generator = random.Random(0)
    return [int(generator.gauss(0.0, 30.0)) for _ in range(int(rate * seconds))]


def ensure_music(directory: Path, rate: int) -> Path:
    return _ensure(directory / f"music-{rate}.wav", rate, music_samples)


def ensure_silence(directory: Path, rate: int) -> Path:
    return _ensure(directory / f"silence-{rate}.wav", rate, comfort_noise_samples)


def _ensure(path: Path, rate: int, make: Callable[[int], list[int]]) -> Path:
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".tmp")
    samples = make(rate)
    with wave.open(str(partial), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(struct.pack(f"<{len(samples)}h", *samples))
    partial.replace(path)
    return path
