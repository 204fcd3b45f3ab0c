"""Decoding uploads into the bridge's format with sox: mono, 16-bit signed PCM WAV.

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


def duration(path: Path) -> float:
    """Seconds of audio in a WAV file (one we wrote)."""
    try:
        with wave.open(str(path), "rb") as wav:
            return wav.getnframes() / wav.getframerate()
    except (wave.Error, EOFError) as exc:
        raise AudioError("the decoded audio is unreadable") from exc
