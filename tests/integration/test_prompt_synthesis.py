"""Prompts synthesized for real (espeak-ng + sox), listened to, and remade only when the text changes."""

from __future__ import annotations

import shutil
import wave
from pathlib import Path

import numpy as np

from conference.prompts import PROMPTS, TONES
from stack.prompts import CATALOGUES, RATES, add_tones, generate, prompt_file
from tests.support.audio import levels, read_wav


def test_every_piece_is_made_at_every_rate_and_is_speech(tmp_path: Path) -> None:
    assert generate("ru", root=tmp_path) is True
    assert add_tones("ru", root=tmp_path) is True and add_tones("ru", root=tmp_path) is False
    made = sorted(p.stem for p in (tmp_path / "ru" / "8000").glob("*.wav"))
    assert len(made) == len(PROMPTS) + 99 + 9 + len(TONES)
    for rate in RATES:
        path = prompt_file("ru", rate, "welcome", root=tmp_path)
        with wave.open(str(path)) as wav:
            assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (rate, 1, 2)
        samples, _ = read_wav(path)
        assert 0.5 < len(samples) / rate < 6.0
        assert 20 * np.log10(np.sqrt(np.mean(samples**2))) > -30.0  # speech, not silence
        beep = prompt_file("ru", rate, "beep", root=tmp_path)  # the dial-in service's "type now"
        tone, _ = read_wav(beep)
        assert 0.2 < len(tone) / rate < 0.3
        heard = levels(beep, [1000.0, 400.0], 0.02, 0.22)
        assert heard[1000.0] > -15.0 and heard[400.0] < heard[1000.0] - 30.0, heard


def test_regenerated_only_when_the_catalogue_changes(tmp_path: Path) -> None:
    catalogues = tmp_path / "catalogues"
    catalogues.mkdir()
    shutil.copy(CATALOGUES / "en.toml", catalogues / "en.toml")
    out = tmp_path / "out"
    assert generate("en", root=out, catalogues=catalogues) is True
    assert generate("en", root=out, catalogues=catalogues) is False
    before = prompt_file("en", 8000, "welcome", root=out).stat().st_size
    text = (catalogues / "en.toml").read_text()
    (catalogues / "en.toml").write_text(text.replace('"Welcome to the conference."',
                                                     '"Welcome to the weekly conference of the sales team."'))
    assert generate("en", root=out, catalogues=catalogues) is True
    assert prompt_file("en", 8000, "welcome", root=out).stat().st_size > before
    assert sorted(p.name for p in out.iterdir()) == ["en"]  # no leftovers of the swap
