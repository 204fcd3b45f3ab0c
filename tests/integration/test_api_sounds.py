"""The sound library API against a real SQLite file, a real redis-server and real
sox: uploads of WAV and MP3 converted for the bridge, every refusal (leaving no
row and no file), audio download, and deletion guarded by rooms' greetings (and
their music: tests/integration/test_room_music.py)."""

from __future__ import annotations

import io
import subprocess
import wave
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

import settings
from store.audio import LEVEL_DBFS, rms_dbfs
from tests.integration.test_api_rooms import failed
from tests.support.audio import levels
from web.sounds import library

SOUNDS = "/api/v1/sounds"


def synth(path: Path, rate: int, channels: int, seconds: float = 1.0) -> bytes:
    """Real audio made by sox: a 440 Hz sine (sox picks WAV or MP3 from the suffix)."""
    subprocess.run(["sox", "-n", "-r", str(rate), "-c", str(channels), str(path), "synth", str(seconds),
                    "sine", "440"], check=True, capture_output=True, timeout=30)
    return path.read_bytes()


def upload(api: FlaskClient, auth: dict[str, str], data: bytes, filename: str = "tone.wav",
           **fields: str) -> TestResponse:
    form: dict[str, object] = {"file": (io.BytesIO(data), filename), **fields}
    return api.post(SOUNDS, data=form, headers=auth, content_type="multipart/form-data")


@pytest.fixture
def folder(config: settings.Config) -> Path:
    return config.var_path / "sounds" / "library"


def library_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def nothing_kept(app: Flask, api: FlaskClient, auth: dict[str, str], folder: Path) -> None:
    assert library_files(folder) == []
    assert api.get(SOUNDS, headers=auth).get_json() == []
    with app.app_context():
        assert library().list() == []


def check_converted(path: Path, rate: int) -> None:
    with wave.open(str(path), "rb") as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, rate)
        assert abs(wav.getnframes() / rate - 1.0) < 0.05
    heard = levels(path, [440.0, 1000.0], 0.1, 0.9)
    assert heard[440.0] > -20 and heard[1000.0] < heard[440.0] - 30
    assert abs(rms_dbfs(path) - LEVEL_DBFS) <= 2.0  # as loud as the prompts


def test_upload_wav_and_mp3_converted_for_the_bridge(
    api: FlaskClient, auth: dict[str, str], folder: Path, tmp_path: Path
) -> None:
    wav = synth(tmp_path / "in.wav", 8000, 1)
    mp3 = synth(tmp_path / "in.mp3", 44100, 2)
    # Names say nothing: the MP3 is sent as "x.wav" and the WAV as "../../etc/passwd".
    first = upload(api, auth, wav, "../../etc/passwd", name="Welcome")
    second = upload(api, auth, mp3, "x.wav")
    assert first.status_code == 201 and second.status_code == 201, second.get_data(as_text=True)
    a, b = first.get_json(), second.get_json()
    assert first.headers["Location"] == f"{SOUNDS}/{a['id']}"
    assert (a["name"], a["original_filename"], a["format"], a["size_bytes"]) == (
        "Welcome", "../../etc/passwd", "wav", len(wav))
    assert (b["name"], b["format"], b["size_bytes"]) == ("x.wav", "mp3", len(mp3))
    assert a["duration_seconds"] == 1.0 and abs(b["duration_seconds"] - 1.0) <= 0.1
    assert library_files(folder) == sorted(f"{i}-{r}.wav" for i in (a["id"], b["id"]) for r in (8000, 16000))
    for sound in (a, b):
        for rate in (8000, 16000):
            check_converted(folder / f"{sound['id']}-{rate}.wav", rate)
    assert api.get(SOUNDS, headers=auth).get_json() == [a, b]
    assert api.get(f"{SOUNDS}/{b['id']}", headers=auth).get_json() == b


def test_audio_download(api: FlaskClient, auth: dict[str, str], folder: Path, tmp_path: Path) -> None:
    sound = upload(api, auth, synth(tmp_path / "in.wav", 8000, 1)).get_json()
    for query, rate in (("", 8000), ("?rate=8000", 8000), ("?rate=16000", 16000)):
        response = api.get(f"{SOUNDS}/{sound['id']}/audio{query}", headers=auth)
        assert response.status_code == 200 and response.mimetype == "audio/wav"
        assert response.get_data() == (folder / f"{sound['id']}-{rate}.wav").read_bytes()
    failed(api.get(f"{SOUNDS}/{sound['id']}/audio?rate=44100", headers=auth), 400, "invalid_field", "rate")
    for unknown in ("999", "abc", "-1"):
        failed(api.get(f"{SOUNDS}/{unknown}/audio", headers=auth), 404, "not_found")
        failed(api.get(f"{SOUNDS}/{unknown}", headers=auth), 404, "not_found")
        failed(api.delete(f"{SOUNDS}/{unknown}", headers=auth), 404, "not_found")
    failed(api.get(SOUNDS), 401, "unauthorized")
    failed(api.post(SOUNDS), 401, "unauthorized")


def test_every_bad_upload_is_refused_and_leaves_nothing(
    app: Flask, api: FlaskClient, auth: dict[str, str], folder: Path, tmp_path: Path
) -> None:
    wav = synth(tmp_path / "in.wav", 8000, 1)
    short = synth(tmp_path / "short.wav", 8000, 1, seconds=0.2)
    garbage = wav[:12] + bytes(range(256)) * 40
    no_file = api.post(SOUNDS, data={"name": "x"}, headers=auth, content_type="multipart/form-data")
    cases = [
        (no_file, 400, "missing_field", "file"),
        (api.post(SOUNDS, data=b"RIFF", headers=auth), 400, "missing_field", "file"),
        (upload(api, auth, b""), 400, "invalid_field", "file"),
        (upload(api, auth, b"just some text, honestly\n" * 100, "notes.wav"), 415, "unsupported_media_type", "file"),
        (upload(api, auth, garbage), 400, "invalid_field", "file"),
        (upload(api, auth, short), 400, "invalid_field", "file"),
        (upload(api, auth, wav, name="x" * 101), 400, "invalid_field", "name"),
        (upload(api, auth, wav[:4] + bytes(26_000_000)), 413, "too_large", "file"),
    ]
    for response, status, error_id, field in cases:
        failed(response, status, error_id, field)
        nothing_kept(app, api, auth, folder)


def test_a_file_just_over_the_limit_but_within_the_body_slack(
    app: Flask, api: FlaskClient, auth: dict[str, str], folder: Path
) -> None:
    failed(upload(api, auth, b"RIFF\0\0\0\0WAVE" + bytes(25_000_000)), 413, "too_large", "file")
    nothing_kept(app, api, auth, folder)


def test_delete_is_refused_while_a_room_greets_with_the_sound(
    app: Flask, api: FlaskClient, auth: dict[str, str], folder: Path, tmp_path: Path
) -> None:
    sound = upload(api, auth, synth(tmp_path / "in.wav", 8000, 1)).get_json()
    missing = sound["id"] + 1
    failed(api.post("/api/v1/rooms", json={"number": "7", "greeting_sound_id": missing}, headers=auth),
           400, "invalid_field", "greeting_sound_id")
    assert api.post("/api/v1/rooms", json={"number": "7", "greeting_sound_id": sound["id"]},
                    headers=auth).status_code == 201
    assert api.post("/api/v1/rooms", json={"number": "8"}, headers=auth).status_code == 201
    failed(api.patch("/api/v1/rooms/8", json={"greeting_sound_id": missing}, headers=auth),
           400, "invalid_field", "greeting_sound_id")
    assert api.patch("/api/v1/rooms/8", json={"greeting_sound_id": sound["id"]}, headers=auth).status_code == 200
    message = failed(api.delete(f"{SOUNDS}/{sound['id']}", headers=auth), 409, "in_use")
    assert "7" in message and "8" in message
    assert len(library_files(folder)) == 2
    for number in ("7", "8"):
        patched = api.patch(f"/api/v1/rooms/{number}", json={"greeting_sound_id": None}, headers=auth)
        assert patched.status_code == 200
    assert api.delete(f"{SOUNDS}/{sound['id']}", headers=auth).status_code == 204
    nothing_kept(app, api, auth, folder)
    failed(api.delete(f"{SOUNDS}/{sound['id']}", headers=auth), 404, "not_found")
    # Ids are never reused, so a stale reference cannot pick up a newer sound.
    again = upload(api, auth, synth(tmp_path / "in.wav", 8000, 1)).get_json()
    assert again["id"] > sound["id"]
