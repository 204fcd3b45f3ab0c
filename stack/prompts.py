"""`python -m stack.prompts`: make the voice prompts of prompts/<language>.toml.

A piece is cut from the recordings the catalogue names (Debian's Asterisk core
sounds, played one after the other) or, where no recording says it, spoken from
its text by espeak-ng. sox trims its silences, converts it to every conference
clock rate and sets its level: LEVEL_DBFS RMS, a limiter keeping the peaks from
clipping, so recordings, synthesized names and music sound equally loud. A
language is remade only when its catalogue, its recordings or this recipe
change; a half-built set is never visible.
Output: build/prompts/<language>/<rate>/<piece>.wav
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
import tomllib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from conference.prompts import LANGUAGES, TONES, pieces, recordings
from settings import ROOT
from store.audio import LEVEL_DBFS, set_level

CATALOGUES = ROOT / "prompts"
OUTPUT = ROOT / "build" / "prompts"
RATES = (8000, 16000)
# Part of every language's stamp: changing how prompts are made remakes them.
RECIPE = "recordings|espeak-ng|silence-trim|rms-20-limit-if-raised-0.1|mono16|v4"
# Pieces that are tones, not words (conference.prompts.TONES): added by sox to every language's set
# when missing, outside its stamp, so a set made without them gains them and nothing is respoken.
TONE_SYNTH = {"beep": ["synth", "0.25", "sine", "1000", "fade", "0.01", "0.25", "0.02"]}


def prompt_file(language: str, rate: int, piece: str, root: Path = OUTPUT) -> Path:
    return root / language / str(rate) / f"{piece}.wav"


def load_catalogue(language: str, catalogues: Path = CATALOGUES) -> dict[str, Any]:
    with (catalogues / f"{language}.toml").open("rb") as handle:
        return tomllib.load(handle)


def stamp(catalogue: dict[str, Any], sources: list[Path]) -> str:
    # The recordings' sizes too: an upgraded sound package remakes the set.
    sizes = [(str(path), path.stat().st_size) for path in sources]
    text = json.dumps([catalogue, sizes], sort_keys=True, ensure_ascii=False) + RECIPE + repr(RATES)
    return hashlib.sha256(text.encode()).hexdigest()


def recorded_sources(catalogue: dict[str, Any]) -> dict[str, list[Path]]:
    """Piece id -> the recording files that say it; a clear error if a sound package is missing."""
    folder = Path(str(catalogue["sounds"]))
    found = {piece: [folder / f"{name}.wav" for name in names] for piece, names in recordings(catalogue).items()}
    missing = sorted({str(path) for paths in found.values() for path in paths if not path.is_file()})
    if missing:
        raise RuntimeError(f"recorded prompts missing (is the sound package installed?): {', '.join(missing[:5])}")
    return found


def generate(language: str, root: Path = OUTPUT, catalogues: Path = CATALOGUES) -> bool:
    """Make the language's prompt set if it is missing or stale; True if it was made."""
    catalogue = load_catalogue(language, catalogues)
    texts = pieces(catalogue)
    recorded = recorded_sources(catalogue)
    target = root / language
    wanted = stamp(catalogue, sorted({path for paths in recorded.values() for path in paths}))
    stamp_file = target / ".stamp"
    if stamp_file.exists() and stamp_file.read_text() == wanted:
        return False
    root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=root, prefix=f".{language}-") as tmp:
        work = Path(tmp)
        for rate in RATES:
            (work / "set" / str(rate)).mkdir(parents=True)
        voice, speed = str(catalogue["voice"]), int(catalogue.get("speed", 150))

        def make(piece: str) -> None:
            source = work / f"{piece}.source.wav"
            if piece in recorded:
                run(["sox", *map(str, recorded[piece]), str(source)])
            else:
                synthesize(texts[piece], voice, speed, source)
            for rate in RATES:
                level(source, rate, work / "set" / str(rate) / f"{piece}.wav")

        with ThreadPoolExecutor(max_workers=4) as pool:
            list(pool.map(make, texts))
        (work / "set" / ".stamp").write_text(wanted)
        old = root / f".{language}-old"
        if target.exists():
            target.rename(old)
        (work / "set").rename(target)
        shutil.rmtree(old, ignore_errors=True)
    return True


def add_tones(language: str, root: Path = OUTPUT) -> bool:
    """Make the tone pieces the language's set lacks, each file written whole; True if any was made."""
    made = False
    for tone in TONES:
        for rate in RATES:
            target = prompt_file(language, rate, tone, root)
            if target.exists() or not target.parent.is_dir():
                continue
            partial = target.with_name(f".{tone}.partial.wav")
            run(["sox", "-n", "-r", str(rate), "-c", "1", "-b", "16", str(partial), *TONE_SYNTH[tone]])
            set_level(partial, partial.with_name(f".{tone}.levelled.wav"), LEVEL_DBFS)  # as loud as the words
            partial.unlink()
            partial.with_name(f".{tone}.levelled.wav").replace(target)
            made = True
    return made


def synthesize(text: str, voice: str, speed: int, spoken: Path) -> None:
    # On stdin, so no text (a caller's name from the API) is ever read as an option.
    run(["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(spoken), "--stdin"], text)


def level(source: Path, rate: int, target: Path) -> None:
    """`source` at `rate`, mono 16-bit, its silences trimmed (pieces join into one sentence),
    at LEVEL_DBFS RMS with a limiter so that no peak clips."""
    trimmed = target.with_suffix(".trimmed.wav")
    run(["sox", str(source), "-r", str(rate), "-c", "1", "-b", "16", str(trimmed),
         "silence", "1", "0.02", "0.5%", "reverse", "silence", "1", "0.02", "0.5%", "reverse"])
    set_level(trimmed, target, LEVEL_DBFS)
    trimmed.unlink()


def run(argv: list[str], stdin: str = "") -> None:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60, input=stdin)
    if done.returncode != 0:
        raise RuntimeError(f"{argv[0]} failed: {done.stderr.strip()[:500]}")


def speak(text: str, language: str, folder: Path, stem: str) -> None:
    """One utterance (a caller's name) as `folder/<stem>-<rate>.wav` at every rate, each written whole."""
    catalogue = load_catalogue(language)
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder, prefix=".speak-") as tmp:
        work = Path(tmp)
        for rate in RATES:
            (work / "set" / str(rate)).mkdir(parents=True)
        spoken = work / "utterance.wav"
        synthesize(text, str(catalogue["voice"]), int(catalogue.get("speed", 150)), spoken)
        for rate in RATES:
            level(spoken, rate, work / "set" / str(rate) / "utterance.wav")
            (work / "set" / str(rate) / "utterance.wav").replace(folder / f"{stem}-{rate}.wav")


def main() -> int:
    for language in LANGUAGES:
        if generate(language):
            print(f"prompts: generated {language} in {OUTPUT / language}", file=sys.stderr)
        if add_tones(language):
            print(f"prompts: added tones to {OUTPUT / language}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
