"""Decoding uploads into the bridge's format with sox: mono, 16-bit signed PCM WAV, at the
level of every prompt (LEVEL_DBFS RMS, a limiter keeping the peaks from clipping), so a
greeting or a sound played to a room is as loud as the recorded prompts around it.

sox runs as an argv list (no shell) under a timeout; its input type is given
explicitly (from content sniffing), so no file name or extension ever matters.
"""

from __future__ import annotations

import logging
import subprocess
import wave
from pathlib import Path

log = logging.getLogger("kamconf.store.audio")

RATES = (8000, 16000)  # the bridge mixes at either
SOX_TIMEOUT = 30.0  # seconds; a 25 MB upload decodes in well under this
LEVEL_DBFS = -20.0  # RMS of every prompt and uploaded sound (the music on hold: stack/sounds.py)
SILENT_DBFS = -60.0  # quieter than this is left alone: raising it would only raise noise


class AudioError(ValueError):
    """The upload could not be turned into usable audio; str() says why, for people."""


def convert(source: Path, kind: str, target: Path, rate: int) -> None:
    """Write `source` (of sox type `kind`) to `target` as mono 16-bit WAV at `rate` Hz."""
    argv = ["sox", "-V1", "-t", kind, str(source),
            "-t", "wav", "-c", "1", "-b", "16", "-e", "signed-integer", "-r", str(rate), str(target)]
    try:
        done = subprocess.run(argv, capture_output=True, timeout=SOX_TIMEOUT, check=False)
    except subprocess.TimeoutExpired as exc:
        raise AudioError(f"decoding the audio took over {SOX_TIMEOUT:g} s") from exc
    if done.returncode != 0:
        # sox's own words name server paths: logged, not shown to the client.
        log.info("sox failed (%s): %s", done.returncode, done.stderr.decode(errors="replace").strip())
        raise AudioError(f"the file is not decodable {kind.upper()} audio")
    levelled = target.with_suffix(".levelled.wav")
    try:
        set_level(target, levelled, LEVEL_DBFS)
        levelled.replace(target)
    except subprocess.TimeoutExpired as exc:
        raise AudioError(f"levelling the audio took over {SOX_TIMEOUT:g} s") from exc
    except RuntimeError as exc:
        log.info("levelling failed: %s", exc)
        raise AudioError("the decoded audio could not be levelled") from exc
    finally:
        levelled.unlink(missing_ok=True)


def set_level(source: Path, target: Path, dbfs: float) -> None:
    """Copy WAV `source` to `target` at `dbfs` RMS, through sox's gain with its limiter (no peak
    clips); audio quieter than SILENT_DBFS is copied as it is."""
    level = rms_dbfs(source)
    gain = 0.0 if level < SILENT_DBFS else dbfs - level
    # The limiter only where the gain is positive: with a negative one sox's "-l" compresses
    # instead (a sine at -6 dBFS came out at -16, not -23, for -17 dB).
    # The limiter lets peaks reach full scale exactly; a tenth of a dB under keeps them off it.
    _sox([str(source), str(target), "gain", *(["-l", f"{gain:.2f}", "gain", "-0.1"] if gain > 0 else [f"{gain:.2f}"])])


def rms_dbfs(path: Path) -> float:
    """The RMS level of a WAV file in dBFS (-inf for digital silence)."""
    done = subprocess.run(["sox", str(path), "-n", "stats"], capture_output=True, text=True,
                          timeout=SOX_TIMEOUT, check=False)
    for line in done.stderr.splitlines():
        if line.startswith("RMS lev dB"):
            return float(line.split()[-1])
    raise RuntimeError(f"sox stats failed for {path}: {done.stderr.strip()[:300]}")


def _sox(argv: list[str]) -> None:
    done = subprocess.run(["sox", *argv], capture_output=True, text=True, timeout=SOX_TIMEOUT, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"sox failed: {done.stderr.strip()[:500]}")


def duration(path: Path) -> float:
    """Seconds of audio in a WAV file (one we wrote)."""
    try:
        with wave.open(str(path), "rb") as wav:
            return wav.getnframes() / wav.getframerate()
    except (wave.Error, EOFError) as exc:
        raise AudioError("the decoded audio is unreadable") from exc
