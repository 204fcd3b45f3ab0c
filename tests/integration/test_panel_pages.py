"""The panel's library pages with Flask's test client: sounds (upload through the API's checks with
refusals next to their field, the CSRF token read from the multipart body, delete refused while a
room greets with the sound)."""

from __future__ import annotations

import io
import re
from pathlib import Path

from flask.testing import FlaskClient

from store.accounts import Account
from tests.integration.test_panel import csrf_of, html, operator
from tests.support.audio import write_tone


def upload(api: FlaskClient, token: str | None, content: bytes, filename: str, name: str = "") -> str:
    data: dict[str, object] = {"name": name, "file": (io.BytesIO(content), filename)}
    if token is not None:
        data["csrf_token"] = token
    response = api.post("/sounds", data=data, content_type="multipart/form-data")
    return f"{response.status_code} {html(response)}"


def sound_error(page: str, field: str) -> str:
    found = re.search(rf'id="{field}-error" role="alert"[^>]*>([^<]*)<', page)
    assert found, page
    return found.group(1)


def test_sounds_are_uploaded_listened_to_and_deleted_unless_in_use(
    api: FlaskClient, people: dict[str, Account], tmp_path: Path
) -> None:
    token = operator(api, people)
    tone = write_tone(tmp_path / "tone.wav", 440.0, 1.0).read_bytes()
    assert upload(api, None, tone, "hello.wav").startswith("403")
    assert upload(api, "forged", tone, "hello.wav").startswith("403")
    done = upload(api, token, tone, "hello.wav")
    assert done.startswith("302"), done
    page = html(api.get("/sounds"))
    row = re.search(r'<tr data-sound="(\d+)">(.*?)</tr>', page, re.S)
    assert row and "hello.wav" in row.group(2) and "<audio" in row.group(2)  # named after its file
    sound_id = row.group(1)
    assert api.get(f"/api/v1/sounds/{sound_id}/audio?rate=16000").status_code == 200  # what <audio> plays

    created = api.post("/rooms/new", data={"csrf_token": token, "number": "5100", "greeting_sound_id": sound_id})
    assert created.status_code == 302, html(created)
    form = html(api.get("/rooms/5100/edit"))
    assert re.search(rf'<option value="{sound_id}" data-audio="[^"]+"\s+selected>hello.wav', form), form
    refused = api.post(f"/sounds/{sound_id}/delete", data={"csrf_token": token}, follow_redirects=True)
    assert "greeting of room(s) 5100" in html(refused)
    api.post("/rooms/5100/edit", data={"csrf_token": token, "greeting_sound_id": ""})
    deleted = api.post(f"/sounds/{sound_id}/delete", data={"csrf_token": token}, follow_redirects=True)
    assert "The sound is deleted." in html(deleted) and 'id="no-sounds"' in html(deleted)
    assert api.post("/sounds/999/delete", data={"csrf_token": token}).status_code == 404


def test_a_refused_upload_is_said_next_to_its_field(
    api: FlaskClient, people: dict[str, Account], tmp_path: Path
) -> None:
    token = operator(api, people)
    not_audio = upload(api, token, b"just some text, not audio at all", "notes.wav", "Kept name")
    assert not_audio.startswith("400")
    assert sound_error(not_audio, "file") == "The file is neither WAV nor MP3 audio."
    assert 'value="Kept name"' in not_audio
    assert sound_error(upload(api, token, b"", "empty.wav"), "file") == "The file is empty."
    click = write_tone(tmp_path / "click.wav", 440.0, 0.1).read_bytes()
    assert sound_error(upload(api, token, click, "click.wav"), "file").startswith("The file could not be read")
    tone = write_tone(tmp_path / "tone.wav", 440.0, 1.0).read_bytes()
    assert sound_error(upload(api, token, tone, "tone.wav", " padded "), "name").startswith("Up to 100")
    missing = api.post("/sounds", data={"csrf_token": token}, content_type="multipart/form-data")
    assert sound_error(html(missing), "file") == "Choose a file."


def test_the_sound_page_speaks_russian(api: FlaskClient, people: dict[str, Account]) -> None:
    token = operator(api, people)
    api.post("/language", data={"csrf_token": token, "language": "ru"})
    not_audio = upload(api, csrf_of(api.get("/sounds")), b"plain text", "x.wav")
    assert sound_error(not_audio, "file") == "Файл не является звуком WAV или MP3."
