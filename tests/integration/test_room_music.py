"""A room's music on hold picked from the sound library (music_sound_id), on SQLite and PostgreSQL:
the API checks the sound exists, stores and projects the choice, and a sound a room plays as its
music cannot be deleted; the panel's room form offers the library in a drop-down; the about page
with the sounds' attribution is there for every signed-in role."""

from __future__ import annotations

import re
from pathlib import Path

import redis
from flask import Flask
from flask.testing import FlaskClient

from store import live
from store.accounts import Account
from tests.integration.conftest import ADMIN_PASSWORD, EXTENSION_PASSWORD, OPERATOR_PASSWORD
from tests.integration.test_api_rooms import failed
from tests.integration.test_api_sounds import SOUNDS, synth, upload
from tests.integration.test_panel import field_error, html, operator, sign_in

BOTH_DATABASES = True  # each test on SQLite and on PostgreSQL (tests/integration/conftest.py)


def a_sound(api: FlaskClient, auth: dict[str, str], tmp_path: Path, name: str = "hold") -> int:
    created = upload(api, auth, synth(tmp_path / f"{name}.wav", 8000, 1), f"{name}.wav", name=name)
    assert created.status_code == 201, created.get_data(as_text=True)
    return int(created.get_json()["id"])


def test_a_rooms_music_is_a_library_sound_stored_projected_and_kept_from_deletion(
    api: FlaskClient, auth: dict[str, str], client: redis.Redis, tmp_path: Path
) -> None:
    sound = a_sound(api, auth, tmp_path)
    failed(api.post("/api/v1/rooms", json={"number": "7", "music_sound_id": sound + 1}, headers=auth),
           400, "invalid_field", "music_sound_id")
    failed(api.post("/api/v1/rooms", json={"number": "7", "music_sound_id": "1"}, headers=auth),
           400, "invalid_field", "music_sound_id")
    created = api.post("/api/v1/rooms", json={"number": "7", "music_sound_id": sound}, headers=auth)
    assert created.status_code == 201 and created.get_json()["music_sound_id"] == sound
    assert api.post("/api/v1/rooms", json={"number": "8"}, headers=auth).get_json()["music_sound_id"] is None
    failed(api.patch("/api/v1/rooms/8", json={"music_sound_id": sound + 1}, headers=auth),
           400, "invalid_field", "music_sound_id")
    assert api.patch("/api/v1/rooms/8", json={"music_sound_id": sound}, headers=auth).status_code == 200
    assert api.get("/api/v1/rooms/8", headers=auth).get_json()["music_sound_id"] == sound
    projected = live.entries(client, live.ROOMS)
    assert projected["7"]["music_sound_id"] == projected["8"]["music_sound_id"] == sound  # what the bridge reads

    message = failed(api.delete(f"{SOUNDS}/{sound}", headers=auth), 409, "in_use")
    assert "7, 8" in message and "music_sound_id" in message
    assert api.patch("/api/v1/rooms/7", json={"music_sound_id": None}, headers=auth).status_code == 200
    assert api.patch("/api/v1/rooms/8", json={"greeting_sound_id": sound}, headers=auth).status_code == 200
    assert "8" in failed(api.delete(f"{SOUNDS}/{sound}", headers=auth), 409, "in_use")  # 8 plays it still
    assert api.patch("/api/v1/rooms/8", json={"music_sound_id": None, "greeting_sound_id": None},
                     headers=auth).status_code == 200
    assert live.entries(client, live.ROOMS)["8"]["music_sound_id"] is None
    assert api.delete(f"{SOUNDS}/{sound}", headers=auth).status_code == 204


def test_the_room_form_picks_the_music_from_the_library(
    api: FlaskClient, auth: dict[str, str], people: dict[str, Account], tmp_path: Path
) -> None:
    sound = a_sound(api, auth, tmp_path, "Lounge")
    token = operator(api, people)
    form = html(api.get("/rooms/new"))
    assert re.search(r'<select id="music_sound_id" name="music_sound_id"[^>]*>\s*<option value="">'
                     r"The standard music</option>", form), form
    assert re.search(rf'<option value="{sound}" data-audio="[^"]+"\s*>Lounge</option>', form), form
    created = api.post("/rooms/new", data={"csrf_token": token, "number": "5300", "music_sound_id": str(sound),
                                           "music_on_hold": "on"})
    assert created.status_code == 302, html(created)
    assert api.get("/api/v1/rooms/5300", headers=auth).get_json()["music_sound_id"] == sound
    listed = re.search(r'<tr data-room="5300">.*?<td class="music">([^<]*)</td>', html(api.get("/rooms")), re.S)
    assert listed and listed.group(1) == "Lounge"
    edit = html(api.get("/rooms/5300/edit"))
    assert re.search(rf'<option value="{sound}" data-audio="[^"]+"\s+selected>Lounge', edit), edit
    missing = api.post("/rooms/5300/edit", data={"csrf_token": token, "music_sound_id": str(sound + 1)})
    assert missing.status_code == 400 and field_error(missing, "music_sound_id") == "Pick a sound of the library."
    garbage = api.post("/rooms/5300/edit", data={"csrf_token": token, "music_sound_id": "x1"})
    assert garbage.status_code == 400 and field_error(garbage, "music_sound_id") == "Pick a sound of the library."
    assert api.get("/api/v1/rooms/5300", headers=auth).get_json()["music_sound_id"] == sound  # unchanged
    kept = api.post("/rooms/5300/edit", data={"csrf_token": token, "music_sound_id": ""})
    assert kept.status_code == 302
    assert api.get("/api/v1/rooms/5300", headers=auth).get_json()["music_sound_id"] is None  # the standard


ATTRIBUTION = ("Allison Smith", "Maxim Topal", "Paul Shuler", "Manolo Camp", "Reno Project",
               "asterisk-core-sounds-en-wav", "asterisk-core-sounds-ru-wav", "asterisk-moh-opsound-wav",
               "CC-BY-SA 3.0", "CC-BY 3.0")


def test_every_signed_in_role_reads_the_attribution_on_the_about_page(
    app: Flask, api: FlaskClient, people: dict[str, Account]
) -> None:
    assert api.get("/about").status_code == 302  # signed out: to the sign-in page, no attribution needed yet
    for name, password, page in (("boss", ADMIN_PASSWORD, "/accounts"), ("op", OPERATOR_PASSWORD, "/rooms"),
                                 ("2001", EXTENSION_PASSWORD, "/portal/help")):
        browser = app.test_client()
        assert sign_in(browser, name, password).status_code == 302
        assert re.search(r'<footer><a href="/about" id="about-link">', html(browser.get(page))), name
        about = browser.get("/about")
        assert about.status_code == 200 and all(credit in html(about) for credit in ATTRIBUTION), name
        russian = html(browser.get("/about", headers={"Accept-Language": "ru"}))
        assert "Звуки и их лицензии" in russian and all(credit in russian for credit in ATTRIBUTION), name
    user = app.test_client()
    sign_in(user, "2001", EXTENSION_PASSWORD)
    assert re.search(r'id="help-about"><a href="/about">', html(user.get("/portal/help")))
