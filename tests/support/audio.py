"""Make test tones and listen to recordings (FFT band levels)."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np


def write_tone(path: Path, freq: float, seconds: float = 10.0, rate: int = 8000, level: float = 0.3) -> Path:
    t = np.arange(int(seconds * rate)) / rate
    samples = (level * 32767 * np.sin(2 * np.pi * freq * t)).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples.tobytes())
    return path


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    with wave.open(str(path), "rb") as src:
        rate = src.getframerate()
        data = np.frombuffer(src.readframes(src.getnframes()), dtype="<i2").astype(np.float64)
    return data / 32768.0, rate


def band_db(samples: np.ndarray, rate: int, freq: float, width: float = 30.0) -> float:
    """Level in dBFS of the energy within +-width Hz of freq (Hann window)."""
    if len(samples) == 0:
        return -200.0
    window = np.hanning(len(samples))
    spectrum = np.abs(np.fft.rfft(samples * window)) ** 2
    freqs = np.fft.rfftfreq(len(samples), 1 / rate)
    band = spectrum[(freqs >= freq - width) & (freqs <= freq + width)].sum()
    # Normalise so a full-scale sine reads about 0 dB.
    reference = (np.sum(window) / 2) ** 2 * 2
    return float(10 * np.log10(max(band / reference, 1e-20)))


def levels(path: Path, freqs: list[float], start: float, end: float) -> dict[float, float]:
    samples, rate = read_wav(path)
    chunk = samples[int(start * rate) : int(end * rate)]
    return {f: band_db(chunk, rate, f) for f in freqs}
