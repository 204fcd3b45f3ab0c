"""Sounds the project makes itself (no third-party audio): the music-on-hold loop."""

from __future__ import annotations

import math
import struct
import wave
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


def ensure_music(directory: Path, rate: int) -> Path:
    path = directory / f"music-{rate}.wav"
    if path.exists():
        return path
    directory.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".tmp")
    samples = music_samples(rate)
    with wave.open(str(partial), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(struct.pack(f"<{len(samples)}h", *samples))
    partial.replace(path)
    return path
