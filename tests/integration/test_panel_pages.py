"""The panel's library pages with Flask's test client: sounds (upload through the API's checks with
refusals next to their field, the CSRF token read from the multipart body, delete refused while a
room greets with the sound)."""

from __future__ import annotations

import io
import re
from pathlib import Path

from flask.testing import FlaskClient

from store.accounts import Account
from tests.integration.conftest import ADMIN_PASSWORD, EXTENSION_PASSWORD
from tests.integration.test_panel import csrf_of, html, operator, sign_in
from tests.support.audio import write_tone
from web.services import services


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
    assert "greeting or the music of room(s) 5100" in html(refused)
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


def test_a_user_cannot_upload_a_sound(api: FlaskClient, people: dict[str, Account], tmp_path: Path) -> None:
    assert sign_in(api, "2001", EXTENSION_PASSWORD).status_code == 302
    token = csrf_of(api.get("/portal"))
    tone = write_tone(tmp_path / "tone.wav", 440.0, 1.0).read_bytes()
    assert upload(api, token, tone, "hello.wav").startswith("403")  # refused before the upload is read


def test_the_sound_page_speaks_russian(api: FlaskClient, people: dict[str, Account]) -> None:
    token = operator(api, people)
    api.post("/language", data={"csrf_token": token, "language": "ru"})
    not_audio = upload(api, csrf_of(api.get("/sounds")), b"plain text", "x.wav")
    assert sound_error(not_audio, "file") == "Файл не является звуком WAV или MP3."


def field_error(page: str, field: str) -> str:
    return sound_error(page, field)


def test_extensions_are_made_and_changed_through_forms(api: FlaskClient, people: dict[str, Account]) -> None:
    token = operator(api, people)
    short = api.post("/extensions/new", data={"csrf_token": token, "number": "2101", "password": "short",
                                              "display_name": "Ann", "external_calls": "on", "language": "en"})
    assert short.status_code == 400
    assert field_error(html(short), "password").startswith("What the phone registers with: 8 to 64")
    assert 'value="Ann"' in html(short) and 'value="short"' not in html(short)
    made = api.post("/extensions/new", data={"csrf_token": token, "number": "2101", "password": "long-secret-1",
                                             "display_name": "Ann", "consult_merge": "on", "language": "ru",
                                             "direct_media": "on"})
    assert made.status_code == 302, html(made)
    with api.application.app_context():
        first = services().extensions.get("2101")
    assert (first.display_name, first.consult_merge, first.external_calls, first.language, first.direct_media) == (
        "Ann", True, False, "ru", True)
    taken = api.post("/extensions/new", data={"csrf_token": token, "number": "2101", "password": "long-secret-1",
                                              "language": "en"})
    assert field_error(html(taken), "number") == "This is taken already."
    kept = api.post("/extensions/2101/edit", data={"csrf_token": token, "display_name": "Anna",
                                                   "forward_to": "2001", "language": "en"})
    assert kept.status_code == 302, html(kept)
    with api.application.app_context():
        changed = services().extensions.get("2101")
    assert (changed.display_name, changed.ha1, changed.forward_to) == ("Anna", first.ha1, "2001")  # password kept
    assert not changed.direct_media  # an unticked box
    assert 'data-extension="2101"' in html(api.get("/extensions"))
    assert api.post("/extensions/2101/delete", data={"csrf_token": token}).status_code == 302
    assert api.get("/extensions/2101/edit").status_code == 404


def test_trunks_are_for_admins_and_take_lines_and_pairs(api: FlaskClient, people: dict[str, Account]) -> None:
    operator(api, people)
    assert api.get("/trunks").status_code == 403
    admin = api.application.test_client()
    assert sign_in(admin, "boss", ADMIN_PASSWORD).status_code == 302
    token = csrf_of(admin.get("/trunks"))
    bad = admin.post("/trunks/new", data={"csrf_token": token, "name": "carrier", "gateway": "192.0.2.5",
                                          "sources": "192.0.2.5\nnot-an-address"})
    assert field_error(html(bad), "sources").startswith("The IPv4 addresses")
    fixed = admin.post("/trunks/new", data={"csrf_token": token, "name": "carrier", "gateway": "192.0.2.5",
                                            "sources": "192.0.2.5", "caller_id": "main line", "present_as": "pai"})
    assert field_error(html(fixed), "caller_id").startswith("The number calls out")
    made = admin.post("/trunks/new", data={"csrf_token": token, "name": "carrier", "gateway": "192.0.2.5:5060",
                                           "sources": "192.0.2.5\n192.0.2.6\n", "prefixes": "8\n+7",
                                           "inbound": "+74950000000 = 2001\n", "trusted": "on",
                                           "caller_id": " +74950000000 ", "present_as": "pai_and_from",
                                           "direct_media": "on"})
    assert made.status_code == 302, html(made)
    with api.application.app_context():
        trunk = services().trunks.get("carrier")
    assert trunk.as_dict() == {"name": "carrier", "gateway": "192.0.2.5:5060", "sources": ["192.0.2.5", "192.0.2.6"],
                               "prefixes": ["8", "+7"], "inbound": {"+74950000000": "2001"}, "trusted": True,
                               "caller_id": "+74950000000", "present_as": "pai_and_from", "callback": [],
                               "callback_owner": None, "callback_per_hour": 3, "direct_media": True}
    form = html(admin.get("/trunks/carrier/edit"))
    assert "+74950000000 = 2001" in form and "192.0.2.5\n192.0.2.6" in form
    pairs = admin.post("/trunks/carrier/edit", data={"csrf_token": token, "gateway": "192.0.2.5",
                                                     "sources": "192.0.2.5", "inbound": "no equals sign",
                                                     "present_as": "pai"})
    assert field_error(html(pairs), "inbound").startswith("One per line")
    assert admin.post("/trunks/carrier/delete", data={"csrf_token": token}).status_code == 302
    assert 'id="no-trunks"' in html(admin.get("/trunks"))


def test_voice_menus_are_made_through_the_form_with_keys_hours_and_numbers(api: FlaskClient,
                                                                           people: dict[str, Account]) -> None:
    token = operator(api, people)
    form = {"csrf_token": token, "number": "700", "name": "Reception", "language": "en",
            "greeting_text": "For sales press one.", "options": "1 = 2001\n# = 2001\n", "timeout_seconds": "5",
            "tries": "3", "time_zone": "Europe/Moscow", "hours": "mon-fri 09:00-18:00\n"}
    slow = api.post("/menus/new", data={**form, "timeout_seconds": "five"})
    assert slow.status_code == 400 and field_error(html(slow), "timeout_seconds").startswith("Seconds of silence")
    nowhere = api.post("/menus/new", data={**form, "options": "1 = 9999999"})
    assert field_error(html(nowhere), "options").startswith("One per line: a key")
    made = api.post("/menus/new", data=form)
    assert made.status_code == 302, html(made)
    with api.application.app_context():
        menu = services().menus.get("700")
    assert (menu.options, menu.timeout_seconds, menu.hours, menu.owner) == ({"1": "2001", "#": "2001"}, 5,
                                                                           ("mon-fri 09:00-18:00",), None)
    assert 'data-menu="700"' in html(api.get("/menus"))
    assert "1 = 2001" in html(api.get("/menus/700/edit"))
    assert api.post("/menus/700/delete", data={"csrf_token": token}).status_code == 302
    assert api.get("/menus/700/edit").status_code == 404
