"""Prompts made for real (Asterisk recordings or espeak-ng, then sox), listened to, levelled, and remade
only when the catalogue changes."""

from __future__ import annotations

import shutil
import wave
from pathlib import Path

import numpy as np

from conference.prompts import LANGUAGES, PROMPTS, TONES
from stack.prompts import CATALOGUES, RATES, add_tones, generate, prompt_file, speak
from stack.sounds import MUSIC_DBFS, ensure_music
from store.audio import LEVEL_DBFS
from tests.support.audio import levels, read_wav, similarity


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
        assert heard[1000.0] > -25.0 and heard[400.0] < heard[1000.0] - 30.0, heard  # as loud as the words


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
    assert prompt_file("en", 8000, "welcome", root=out).stat().st_size == before  # recorded: not from the text
    (catalogues / "en.toml").write_text(text.replace('welcome = ["hello"]', 'welcome = ["conf-placeintoconf"]'))
    assert generate("en", root=out, catalogues=catalogues) is True
    assert prompt_file("en", 8000, "welcome", root=out).stat().st_size > before
    assert sorted(p.name for p in out.iterdir()) == ["en"]  # no leftovers of the swap


def rms_and_peak(path: Path) -> tuple[float, int]:
    with wave.open(str(path)) as wav:
        samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
    rms = np.sqrt(np.mean((samples.astype(np.float64) / 32768.0) ** 2))
    return float(20 * np.log10(rms)), int(np.abs(samples.astype(np.int32)).max())


def test_every_prompt_and_name_is_at_the_same_level_the_music_6_db_under_and_nothing_clips(tmp_path: Path) -> None:
    for rate in RATES:
        level, peak = rms_and_peak(ensure_music(tmp_path / "music", rate))
        assert abs(level - MUSIC_DBFS) <= 2.0 and peak < 32767, (rate, level, peak)
    files = []
    for language in LANGUAGES:
        generate(language, root=tmp_path)
        files += sorted((tmp_path / language).glob("*/*.wav"))
    speak("Alexandra Konstantinopolskaya", "en", tmp_path / "names", "1001")
    files += sorted((tmp_path / "names").glob("*.wav"))
    assert len(files) == 2 * 2 * (len(PROMPTS) + 99 + 9) + 2
    for path in files:
        level, peak = rms_and_peak(path)
        assert abs(level - LEVEL_DBFS) <= 2.0, (path, level)
        assert peak < 32767, path  # a limiter, never a clipped sample


def test_recorded_prompts_are_the_recordings(tmp_path: Path) -> None:
    """The recorded voice, not espeak-ng: the piece correlates with its Asterisk recording."""
    generate("ru", root=tmp_path)
    made = prompt_file("ru", 8000, "enter_pin", root=tmp_path)
    assert similarity(made, Path("/usr/share/asterisk/sounds/ru_RU_f_IvrvoiceRU/conf-getpin.wav")) > 0.9
    assert similarity(made, Path("/usr/share/asterisk/sounds/ru_RU_f_IvrvoiceRU/conf-invalidpin.wav")) < 0.6
