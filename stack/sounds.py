"""Music on hold (a track of Debian's asterisk-moh-opsound-wav, levelled under the prompts) and
comfort noise, each as one WAV file per conference clock rate, made once and kept."""

from __future__ import annotations

import random
import struct
import tempfile
import wave
from collections.abc import Callable
from pathlib import Path

from stack.prompts import run
from store.audio import LEVEL_DBFS, set_level

MUSIC_FOLDER = Path("/usr/share/asterisk/moh")  # asterisk-moh-opsound-wav, CC-BY-SA 3.0 (README "Sounds")
MUSIC_TRACK = "macroform-the_simplicity"  # Paul Shuler (Macroform), 4 min 39 s, looped
# 6 dB under the prompts: a notice played over the music (a join, "the conference has been
# extended") stays clear; at the prompts' own level it masked them (README, "Room behaviour").
MUSIC_DBFS = LEVEL_DBFS - 6.0
# A library sound (levelled at LEVEL_DBFS, store.audio) played as a room's music: scaled on the way
# into the mixer to MUSIC_DBFS, so it sits under the prompts as the standard track does.
LIBRARY_MUSIC_GAIN = 10 ** ((MUSIC_DBFS - LEVEL_DBFS) / 20)


def comfort_noise_samples(rate: int, seconds: float = 2.0) -> list[int]:
    """Noise at about -60 dBFS: silence to the ear, but RTP keeps flowing."""
    generator = random.Random(0)
    return [int(generator.gauss(0.0, 30.0)) for _ in range(int(rate * seconds))]


def ensure_music(directory: Path, rate: int, track: str = MUSIC_TRACK) -> Path:
    """The track at `rate` and at MUSIC_DBFS RMS (a limiter on the peaks)."""
    path = directory / f"music-{track}-{rate}-{-MUSIC_DBFS:g}.wav"
    if path.exists():
        return path
    directory.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=directory, prefix=".music-") as tmp:
        resampled, levelled = Path(tmp) / "resampled.wav", Path(tmp) / "levelled.wav"
        run(["sox", str(MUSIC_FOLDER / f"{track}.wav"), "-r", str(rate), "-c", "1", "-b", "16", str(resampled)])
        set_level(resampled, levelled, MUSIC_DBFS)
        levelled.replace(path)
    return path


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
