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


def ulaw(samples: np.ndarray) -> bytes:
    """G.711 mu-law of samples in -1..1 (the continuous formula; close enough for a test tone)."""
    magnitude = np.log1p(255 * np.abs(samples)) / np.log1p(255)
    code = np.round(magnitude * 127).astype(np.int16)
    return bytes(((~(np.where(samples < 0, code, code | 0x80))) & 0xFF).astype(np.uint8))


def from_ulaw(payload: bytes) -> np.ndarray:
    """Samples in -1..1 of G.711 mu-law bytes (the inverse of the continuous formula above)."""
    code = ~np.frombuffer(payload, dtype=np.uint8) & 0xFF
    magnitude = (code & 0x7F) / 127
    value = np.expm1(magnitude * np.log1p(255)) / 255
    return np.where(code & 0x80, value, -value)


def write_samples(path: Path, samples: np.ndarray, rate: int = 8000) -> Path:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())
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


def rms_db(path: Path, start: float, end: float) -> float:
    """The RMS level of [start, end) seconds, in dB relative to full scale (the scale read_wav gives)."""
    samples, rate = read_wav(path)
    chunk = samples[int(start * rate) : int(end * rate)]
    return float(10 * np.log10(max(float(np.mean(chunk**2)), 1e-20)))


def duration(recording: Path) -> float:
    with wave.open(str(recording)) as wav:
        return wav.getnframes() / wav.getframerate()


def last_seconds(recording: Path, seconds: float) -> tuple[float, float]:
    """(start, end) of the recording's last `seconds`, less the final half second that hang-ups cut."""
    length = duration(recording)
    return max(0.0, length - seconds - 0.5), length - 0.5


def similarity(recording: Path, prompt: Path, chunk_seconds: float = 0.5) -> float:
    """How surely a prompt file was heard in a recording (0..1): the median, over the prompt's
    half-second pieces, of each piece's best normalized cross-correlation anywhere in the
    recording. About 0.9 when heard through G.711, even if the jitter buffer dropped or
    stretched a frame somewhere; low when it was not heard."""
    heard, rate = read_wav(recording)
    wanted, prompt_rate = read_wav(prompt)
    if prompt_rate != rate:
        return 0.0
    size = int(chunk_seconds * rate)
    pieces = [wanted[i : i + size] for i in range(0, len(wanted) - size + 1, size)] or [wanted]
    scores = [_best_match(heard, piece) for piece in pieces if np.sum(piece**2) > 1e-6]
    return float(np.median(scores)) if scores else 0.0


def _best_match(heard: np.ndarray, piece: np.ndarray) -> float:
    return locate(heard, piece)[0]


def locate(heard: np.ndarray, piece: np.ndarray) -> tuple[float, int]:
    """Where `piece` sounds in `heard`: its best normalized cross-correlation (0..1) and the sample
    at which that placement starts."""
    if len(heard) < len(piece):
        return 0.0, 0
    size = 1 << int(np.ceil(np.log2(len(heard) + len(piece))))
    correlation = np.fft.irfft(np.fft.rfft(heard, size) * np.conj(np.fft.rfft(piece, size)), size)
    # Energy of the recording under each placement of the piece, for normalization.
    window = np.concatenate(([0.0], np.cumsum(heard**2)))
    energy = window[len(piece):] - window[: len(heard) - len(piece) + 1]
    scores = correlation[: len(energy)] / np.sqrt(np.maximum(energy, 1e-12) * np.sum(piece**2))
    best = int(np.argmax(scores))
    return float(scores[best]), best


def music_at(recording: Path, music: Path, start: float, end: float,
             near: float | None = None, slack: float = 0.5) -> tuple[float, float]:
    """Whether the recording's [start, end) seconds are the music file, and from where in it: the
    match (about 0.9 through G.711, low for anything else) and that excerpt's start in the music
    (seconds). With `near`, only starts within `slack` seconds of it (modulo the music's length)
    are tried: a track repeats its phrases, so an excerpt may match as well elsewhere."""
    heard, rate = read_wav(recording)
    track, track_rate = read_wav(music)
    if track_rate != rate:
        return 0.0, 0.0
    piece = heard[int(start * rate) : int(end * rate)]
    looped = np.concatenate((track, track, track[: len(piece)]))  # any start, read across the loop
    first = 0 if near is None else int(((near - slack) % (len(track) / rate)) * rate)
    last = len(track) if near is None else first + int(2 * slack * rate)
    score, where = locate(looped[first : last + len(piece)], piece)
    return score, ((first + where) % len(track)) / rate


def music_windows(recording: Path, music: Path, start: float, end: float,
                  window: float = 1.0) -> list[tuple[float, float]]:
    """music_at over each whole `window` seconds of [start, end): a frame the bridge slipped on a busy
    machine (10 ms of the track skipped or repeated) lowers only its own window's match."""
    starts = np.arange(start, end - window + 1e-9, window)
    return [music_at(recording, music, float(t), float(t) + window) for t in starts]


def peak_level(path: Path, freq: float, window: float = 1.0) -> float:
    """The loudest `window` seconds of the tone anywhere in the recording, in dBFS."""
    samples, rate = read_wav(path)
    size, step = int(window * rate), int(window * rate / 4)
    starts = range(0, max(1, len(samples) - size + 1), step)
    return max(band_db(samples[i : i + size], rate, freq) for i in starts)


def tone_to_noise(path: Path, tones: list[float], start: float, end: float, window: float = 0.25,
                  width: float = 40.0) -> list[tuple[float, float]]:
    """For each `window` seconds in [start, end): (the weakest tone's level in dBFS, how far the rest
    lies below it in dB). Skipped or late frames break a tone's phase and spread its energy over
    the spectrum: the rest rises towards the tone, and a gap takes the tone's level down."""
    samples, rate = read_wav(path)
    size = int(window * rate)
    found = []
    for first in range(int(start * rate), min(int(end * rate), len(samples)) - size + 1, size):
        chunk = samples[first : first + size]
        hann = np.hanning(size)
        spectrum = np.abs(np.fft.rfft(chunk * hann)) ** 2
        freqs = np.fft.rfftfreq(size, 1 / rate)
        near = np.zeros(len(freqs), dtype=bool)
        for tone in tones:
            near |= (freqs >= tone - width) & (freqs <= tone + width)
        rest = spectrum[~near & (freqs > 100)].sum()
        reference = (np.sum(hann) / 2) ** 2 * 2
        weakest = min(band_db(chunk, rate, tone, width) for tone in tones)
        found.append((weakest, weakest - float(10 * np.log10(max(rest / reference, 1e-20)))))
    return found
