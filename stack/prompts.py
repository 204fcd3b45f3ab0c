"""`python -m stack.prompts`: synthesize the voice prompts of prompts/<language>.toml.

espeak-ng speaks each piece, sox trims its silences, levels it and converts it
to every conference clock rate. A language is regenerated only when its
catalogue (or this recipe) changes; a half-built set is never visible.
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

from conference.prompts import LANGUAGES, TONES, pieces
from settings import ROOT

CATALOGUES = ROOT / "prompts"
OUTPUT = ROOT / "build" / "prompts"
RATES = (8000, 16000)
# Part of every language's stamp: changing how prompts are made remakes them.
RECIPE = "espeak-ng|silence-trim|norm-6|mono16|v1"
# Pieces that are tones, not words (conference.prompts.TONES): added by sox to every language's set
# when missing, outside its stamp, so a set made without them gains them and nothing is respoken.
TONE_SYNTH = {"beep": ["synth", "0.25", "sine", "1000", "fade", "0.01", "0.25", "0.02", "norm", "-6"]}


def prompt_file(language: str, rate: int, piece: str, root: Path = OUTPUT) -> Path:
    return root / language / str(rate) / f"{piece}.wav"


def load_catalogue(language: str, catalogues: Path = CATALOGUES) -> dict[str, Any]:
    with (catalogues / f"{language}.toml").open("rb") as handle:
        return tomllib.load(handle)


def stamp(catalogue: dict[str, Any]) -> str:
    text = json.dumps(catalogue, sort_keys=True, ensure_ascii=False) + RECIPE + repr(RATES)
    return hashlib.sha256(text.encode()).hexdigest()


def generate(language: str, root: Path = OUTPUT, catalogues: Path = CATALOGUES) -> bool:
    """Make the language's prompt set if it is missing or stale; True if it was made."""
    catalogue = load_catalogue(language, catalogues)
    target = root / language
    wanted = stamp(catalogue)
    stamp_file = target / ".stamp"
    if stamp_file.exists() and stamp_file.read_text() == wanted:
        return False
    texts = pieces(catalogue)
    root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=root, prefix=f".{language}-") as tmp:
        work = Path(tmp)
        for rate in RATES:
            (work / "set" / str(rate)).mkdir(parents=True)
        voice, speed = str(catalogue["voice"]), int(catalogue.get("speed", 150))
        with ThreadPoolExecutor(max_workers=4) as pool:
            list(pool.map(lambda item: synthesize(item[0], item[1], voice, speed, work), texts.items()))
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
            partial.replace(target)
            made = True
    return made


def synthesize(piece: str, text: str, voice: str, speed: int, work: Path) -> None:
    spoken = work / f"{piece}.espeak.wav"
    # On stdin, so no text (a caller's name from the API) is ever read as an option.
    run(["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(spoken), "--stdin"], text)
    for rate in RATES:
        run(["sox", str(spoken), "-r", str(rate), "-c", "1", "-b", "16", str(work / "set" / str(rate) / f"{piece}.wav"),
             # trim leading and trailing silence so pieces join into one sentence; level them alike
             "silence", "1", "0.02", "0.5%", "reverse", "silence", "1", "0.02", "0.5%", "reverse", "norm", "-6"])


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
        synthesize("utterance", text, str(catalogue["voice"]), int(catalogue.get("speed", 150)), work)
        for rate in RATES:
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
