"""The panel's pages with Flask's test client: signing in (its own CSRF token, one answer for
wrong and unknown), the role of every page, CSRF on every form, room forms whose refusals are
shown next to their field in the account's language, the live actions (the API's and the
panel's, one path) and the event stream."""

from __future__ import annotations

import re

import redis
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from store import live
from store.accounts import Account
from tests.integration.conftest import EXTENSION_PASSWORD, OPERATOR_PASSWORD
from web.access import access_of
from web.services import services

_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def html(response: TestResponse) -> str:
    return response.get_data(as_text=True)


def csrf_of(page: TestResponse) -> str:
    found = _TOKEN.search(html(page))
    assert found, html(page)
    return found.group(1)


def sign_in(api: FlaskClient, name: str, password: str, language: str = "en") -> TestResponse:
    token = csrf_of(api.get("/login", headers={"Accept-Language": language}))
    return api.post("/login", data={"csrf_token": token, "name": name, "password": password},
                    headers={"Accept-Language": language})


def operator(api: FlaskClient, people: dict[str, Account]) -> str:
    """Signs `op` in; the session's CSRF token."""
    assert sign_in(api, "op", OPERATOR_PASSWORD).status_code == 302
    return csrf_of(api.get("/rooms"))


def field_error(page: TestResponse, field: str) -> str:
    """The error shown inside the field's own block of the form."""
    block = re.search(rf'id="field-{field}">(.*?)</div>', html(page), re.S)
    assert block, html(page)
    error = re.search(rf'id="{field}-error" role="alert">([^<]*)<', block.group(1))
    assert error, block.group(1)
    return error.group(1)


def test_every_panel_page_declares_a_role(app: Flask) -> None:
    pages = [rule.endpoint for rule in app.url_map.iter_rules()
             if rule.endpoint.startswith("panel.") and rule.endpoint != "panel.static"]
    assert len(pages) >= 14
    assert [endpoint for endpoint in pages if access_of(app, endpoint) is None] == []
    public = {endpoint for endpoint in pages if access_of(app, endpoint).role is None}  # type: ignore[union-attr]
    assert public == {"panel.login", "panel.login_post"}


def test_signing_in_needs_the_forms_own_csrf_token(api: FlaskClient, people: dict[str, Account]) -> None:
    refused = api.post("/login", data={"name": "op", "password": OPERATOR_PASSWORD})
    assert refused.status_code == 403
    assert "Traceback" not in html(refused)
    assert api.get("/rooms").status_code == 302  # still not signed in
    assert sign_in(api, "op", OPERATOR_PASSWORD).headers["Location"] == "/"


def test_a_wrong_password_is_said_on_the_form_in_the_browsers_language(
    api: FlaskClient, people: dict[str, Account]
) -> None:
    wrong = sign_in(api, "op", "not-the-password")
    assert wrong.status_code == 401
    assert "Wrong name or password" in html(wrong)
    assert 'id="login-error"' in html(wrong)
    unknown = sign_in(api, "nobody", "not-the-password")
    assert html(unknown).count("Wrong name or password") == 1  # one answer for unknown and wrong
    russian = sign_in(api, "op", "not-the-password", language="ru-RU,ru;q=0.9")
    assert "Неверное имя или пароль" in html(russian)


def test_pages_redirect_to_sign_in_and_back(api: FlaskClient, people: dict[str, Account]) -> None:
    away = api.get("/live")
    assert away.status_code == 302 and away.headers["Location"].startswith("/login?next=/live")
    token = csrf_of(api.get(away.headers["Location"]))
    back = api.post("/login", data={"csrf_token": token, "name": "op", "password": OPERATOR_PASSWORD,
                                    "next": "/live"})
    assert back.headers["Location"] == "/live"
    assert api.get("/live").status_code == 200


def test_sign_in_never_redirects_to_another_site(api: FlaskClient, people: dict[str, Account]) -> None:
    token = csrf_of(api.get("/login"))
    done = api.post("/login", data={"csrf_token": token, "name": "op", "password": OPERATOR_PASSWORD,
                                    "next": "//evil.example/"})
    assert done.headers["Location"] == "/"


def test_a_user_gets_403_on_operator_pages(api: FlaskClient, people: dict[str, Account]) -> None:
    assert sign_in(api, "2001", EXTENSION_PASSWORD).status_code == 302
    assert api.get("/").headers["Location"] == "/portal"  # an employee starts in the portal
    for path in ("/rooms", "/rooms/new", "/live", "/live/rooms", "/live/events"):
        page = api.get(path)
        assert page.status_code == 403, path
        assert 'id="error-status">403' in html(page)
    token = csrf_of(api.get("/portal"))
    assert api.post("/rooms/new", data={"csrf_token": token, "number": "77"}).status_code == 403
    assert services_rooms(api) == []


def services_rooms(api: FlaskClient) -> list[str]:
    with api.application.app_context():
        return [room.number for room in services().rooms.list()]


def test_every_form_needs_the_sessions_csrf_token(api: FlaskClient, people: dict[str, Account]) -> None:
    operator(api, people)
    for path, data in (("/rooms/new", {"number": "500"}), ("/language", {"language": "ru"}),
                       ("/live/500/end", {}), ("/logout", {})):
        assert api.post(path, data=data).status_code == 403, path
        assert api.post(path, data={**data, "csrf_token": "forged"}).status_code == 403, path
    assert services_rooms(api) == []
    assert api.get("/rooms").status_code == 200  # still signed in


def test_a_room_is_created_edited_found_and_deleted_through_forms(
    api: FlaskClient, people: dict[str, Account]
) -> None:
    token = operator(api, people)
    made = api.post("/rooms/new", data={"csrf_token": token, "number": "5100", "name": "Board", "user_pin": "1234",
                                        "admin_pin": "9876", "record": "on", "max_participants": "12"})
    assert made.status_code == 302, html(made)
    with api.application.app_context():
        room = services().rooms.get("5100")
    assert (room.name, room.record, room.announce_count, room.max_participants) == ("Board", True, False, 12)
    assert room.user_pin and room.admin_pin
    listed = html(api.get("/rooms?q=boa"))
    assert 'data-room="5100"' in listed and "Room 5100 is created." in listed
    assert 'data-room="5100"' not in html(api.get("/rooms?q=nothing"))
    kept = api.post("/rooms/5100/edit", data={"csrf_token": token, "name": "Board 2", "remove_admin_pin": "on"})
    assert kept.status_code == 302
    with api.application.app_context():
        changed = services().rooms.get("5100")
    assert (changed.name, changed.user_pin, changed.admin_pin) == ("Board 2", room.user_pin, None)
    assert "Delete room 5100?" in html(api.get("/rooms/5100/delete"))
    assert api.post("/rooms/5100/delete", data={"csrf_token": token}).status_code == 302
    assert services_rooms(api) == []


def test_the_room_form_sets_pin_lists_listeners_and_joining_muted(
    api: FlaskClient, people: dict[str, Account]
) -> None:
    token = operator(api, people)
    made = api.post("/rooms/new", data={"csrf_token": token, "number": "5150", "user_pin": "1234",
                                        "user_pins": "2345 3456", "listener_pins": "4567,5678",
                                        "users_join_muted": "on", "start_muted_at": "30"})
    assert made.status_code == 302, html(made)
    with api.application.app_context():
        room = services().rooms.get("5150")
    assert (len(room.user_pins), len(room.listener_pins), room.admin_pins) == (2, 2, ())
    assert (room.users_join_muted, room.admins_join_muted, room.listen_only, room.start_muted_at) == (
        True, False, False, 30)
    form = html(api.get("/rooms/5150/edit"))
    assert "2 PINs, unchanged" in form and "2345" not in form and room.user_pins[0] not in form
    kept = api.post("/rooms/5150/edit", data={"csrf_token": token, "remove_listener_pins": "on",
                                              "admin_pins": "9999", "listen_only": "on"})
    assert kept.status_code == 302, html(kept)
    with api.application.app_context():
        changed = services().rooms.get("5150")
    assert (changed.user_pins, changed.listener_pins, len(changed.admin_pins), changed.listen_only) == (
        room.user_pins, (), 1, True)
    clash = api.post("/rooms/5150/edit", data={"csrf_token": token, "listener_pins": "2345"})
    assert field_error(clash, "listener_pins") == "Every PIN of the room must differ from the others."
    assert "2345" not in html(clash)


def test_a_refusal_is_shown_next_to_its_field_with_what_was_typed(
    api: FlaskClient, people: dict[str, Account]
) -> None:
    token = operator(api, people)
    short = api.post("/rooms/new", data={"csrf_token": token, "number": "5200", "name": "Kept", "user_pin": "12"})
    assert short.status_code == 400
    assert field_error(short, "user_pin") == "Enter 4 to 16 digits, or leave it empty."
    assert 'value="Kept"' in html(short) and 'value="5200"' in html(short)
    same = api.post("/rooms/new", data={"csrf_token": token, "number": "5200", "user_pin": "1111",
                                        "admin_pin": "1111"})
    assert field_error(same, "admin_pin") == "Every PIN of the room must differ from the others."
    assert 'value="1111"' not in html(same)  # PINs are never echoed
    bad = api.post("/rooms/new", data={"csrf_token": token, "number": "52x0"})
    assert field_error(bad, "number") == "Enter 1 to 32 digits."
    many = api.post("/rooms/new", data={"csrf_token": token, "number": "5200", "max_participants": "lots"})
    assert field_error(many, "max_participants") == "Enter a whole number from 0 to 10000."
    assert api.post("/rooms/new", data={"csrf_token": token, "number": "5200"}).status_code == 302
    taken = api.post("/rooms/new", data={"csrf_token": token, "number": "5200"})
    assert field_error(taken, "number").startswith("This number is taken")
    greeting = api.post("/rooms/5200/edit", data={"csrf_token": token, "greeting_sound_id": "999"})
    assert field_error(greeting, "greeting_sound_id") == "Pick a sound of the library."


def test_refusals_speak_the_accounts_language(api: FlaskClient, people: dict[str, Account]) -> None:
    token = operator(api, people)
    assert api.post("/language", data={"csrf_token": token, "language": "ru", "next": "/rooms/new"}
                    ).headers["Location"] == "/rooms/new"
    short = api.post("/rooms/new", data={"csrf_token": token, "number": "5300", "user_pin": "12"})
    assert field_error(short, "user_pin") == "Введите от 4 до 16 цифр или оставьте поле пустым."
    api.post("/logout", data={"csrf_token": token})
    again = sign_in(api, "op", OPERATOR_PASSWORD, language="en")  # the account's choice beats the browser's
    assert again.status_code == 302
    assert "Комнаты" in html(api.get("/rooms", headers={"Accept-Language": "en"}))


def test_signing_out_ends_the_session_on_the_server(api: FlaskClient, people: dict[str, Account]) -> None:
    token = operator(api, people)
    cookie = api.get_cookie("kamconf_session")
    assert cookie is not None
    assert api.post("/logout", data={"csrf_token": token}).headers["Location"] == "/login"
    api.set_cookie("kamconf_session", cookie.value)  # the old cookie, replayed
    assert api.get("/rooms").status_code == 302


def test_an_unknown_room_is_a_plain_404_page(api: FlaskClient, people: dict[str, Account]) -> None:
    operator(api, people)
    page = api.get("/rooms/999/edit")
    assert page.status_code == 404 and "There is no such page." in html(page)


def test_unknown_paths_are_pages_for_people_and_json_under_the_api(api: FlaskClient) -> None:
    browser = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8", "Accept-Language": "ru"}
    page = api.get("/no-such-page", headers=browser)
    assert page.status_code == 404 and "Такой страницы нет." in html(page)
    assert api.delete("/login", headers=browser).mimetype == "text/html"
    assert api.get("/no-such-page").get_json()["error"]["id"] == "not_found"  # curl and scripts: JSON
    assert api.get("/api/v1/no-such").get_json()["error"]["id"] == "unauthorized"  # guarded first, as before
    assert api.delete("/healthz", headers=browser).get_json()["error"]["id"] == "method_not_allowed"


def test_an_unexpected_failure_is_a_plain_500_page_without_a_stack_trace(
    app: Flask, api: FlaskClient, people: dict[str, Account]
) -> None:
    operator(api, people)

    def broken() -> list[object]:
        raise RuntimeError("secret detail")

    with app.app_context():
        rooms = services().rooms
    object.__setattr__(rooms, "list", broken)
    page = api.get("/rooms")
    assert page.status_code == 500
    assert "secret detail" not in html(page) and "Traceback" not in html(page)
    assert "It has been logged." in html(page)


def test_pages_forbid_inline_scripts_and_frames(api: FlaskClient, people: dict[str, Account]) -> None:
    page = api.get("/login")
    policy = page.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "<script>" not in html(page) and " on" + "click=" not in html(page)
    assert api.get("/static/live.js").status_code == 200


# Live: the actions (one path for the API and the panel) and the event stream ----------------------


def test_live_actions_reach_the_node_holding_the_room(
    api: FlaskClient, people: dict[str, Account], client: redis.Redis, headers: dict[str, dict[str, str]]
) -> None:
    operator_headers = headers["operator"]
    assert api.post("/api/v1/rooms/5400/participants/p1/mute", headers=operator_headers).status_code == 404
    live.claim_affinity(client, "5400", "node-a", None)
    assert api.post("/api/v1/rooms/5400/participants/p1/mute", headers=operator_headers).status_code == 404  # nobody in
    live.put_participant(client, "5400", "p1", {"id": "p1", "caller": "sip:alice@127.0.0.1", "role": "user",
                                                "state": "in_conference", "joined_at": 1_800_000_000.0})
    assert api.post("/api/v1/rooms/5400/participants/p2/mute", headers=operator_headers).status_code == 404
    sent = api.post("/api/v1/rooms/5400/participants/p1/mute", headers=operator_headers)
    assert sent.status_code == 202 and sent.get_json() == {"room": "5400", "participant": "p1", "op": "mute"}
    assert api.post("/api/v1/rooms/5400/lock", headers=operator_headers).status_code == 202
    assert api.post("/api/v1/rooms/5400/lock", headers=headers["user"]).status_code == 403
    assert api.post("/api/v1/rooms/5400/participants/p1/explode", headers=operator_headers).status_code == 404
    token = operator(api, people)
    assert api.post("/live/5400/participants/p1/drop", data={"csrf_token": token}).headers["Location"] == "/live"
    assert api.post("/live/5400/pause_recording", data={"csrf_token": token}).status_code == 302
    assert api.post("/live/5400/end", data={"csrf_token": token}).status_code == 302
    assert api.post("/live/5400/explode", data={"csrf_token": token}).status_code == 404
    commands = [(fields["op"], fields["room"], fields["participant"])
                for _, fields in live.commands(client, "node-a", "0-0")]
    assert commands == [("mute", "5400", "p1"), ("lock", "5400", ""), ("drop", "5400", "p1"),
                        ("pause_recording", "5400", ""), ("end", "5400", "")]
    nobody = api.post("/live/5999/end", data={"csrf_token": token}, follow_redirects=True)
    assert "Room 5999 is not live now." in html(nobody)


def test_the_live_page_lists_who_is_in_and_streams_the_events(
    api: FlaskClient, people: dict[str, Account], client: redis.Redis
) -> None:
    operator(api, people)
    live.put_participant(client, "5500", "p1", {"id": "p1", "caller": "sip:alice@127.0.0.1", "extension": "2001",
                                                "role": "admin", "state": "muted", "joined_at": 1_800_000_000.0})
    live.room_event(client, "joined", "5500", participant="p1")
    page = html(api.get("/live"))
    after = re.search(r'data-after="([^"]+)"', page)
    assert after and after.group(1) != "0-0"
    row = re.search(r'<tr data-participant="p1".*?</tr>', page, re.S)
    assert row, page
    assert "sip:alice@127.0.0.1" in row.group(0) and "2001" in row.group(0) and "moderator" in row.group(0)
    assert "Unmute" in row.group(0) and "08:00:00 UTC" in row.group(0)
    live.room_event(client, "talking", "5500", participant="p1")
    assert 'data-talking="yes"' in html(api.get("/live/rooms"))  # drawn talking, from the newest event
    stream = api.get(f"/live/events?after={after.group(1)}")
    assert stream.mimetype == "text/event-stream"
    assert '"type": "talking"' in html(stream) and '"participant": "p1"' in html(stream)
    assert '"type": "joined"' not in html(stream)  # only what came after the page
    quiet = api.get("/live/events", headers={"Last-Event-ID": "99999999999999-0"})
    assert "data:" not in html(quiet)
    assert 'data-participant="p1"' in html(api.get("/live/rooms"))


def test_the_live_page_records_plays_and_invites_through_the_apis_path_with_errors_by_their_field(
    api: FlaskClient, people: dict[str, Account], client: redis.Redis, headers: dict[str, dict[str, str]]
) -> None:
    trunk = {"name": "carrier", "gateway": "192.0.2.50", "sources": ["192.0.2.50"], "prefixes": ["8"]}
    assert api.post("/api/v1/trunks", json=trunk, headers=headers["admin"]).status_code == 201
    live.claim_affinity(client, "5600", "node-a", None)
    live.put_participant(client, "5600", "p1", {"id": "p1", "caller": "sip:alice@127.0.0.1", "role": "user",
                                                "state": "in_conference", "joined_at": 1_800_000_000.0})
    token = operator(api, people)
    page = html(api.get("/live"))
    assert 'data-op="start_recording"' in page and 'data-recording="yes"' not in page
    assert 'data-op="pause_recording"' not in page and 'data-op="mute_all"' in page
    assert api.post("/live/5600/start_recording", data={"csrf_token": token}).status_code == 302
    live.set_recording(client, "5600", "node-a", "5600-1-node-a")  # what the node says once it records
    page = html(api.get("/live/rooms"))
    assert 'data-recording="yes"' in page and 'data-op="stop_recording"' in page
    assert 'data-op="pause_recording"' in page and 'data-op="resume_recording"' in page

    unknown = api.post("/live/5600/play", data={"csrf_token": token, "sound_id": "42"})
    assert unknown.status_code == 400
    assert re.search(r'id="sound-5600-error" role="alert">Choose a sound of the library.<', html(unknown))
    assert api.post("/live/5600/invite", data={"csrf_token": token, "number": "2001"}).status_code == 302
    outside = api.post("/live/5600/invite", data={"csrf_token": token, "number": "89001234567"})
    assert outside.status_code == 400
    said = re.search(r'id="invite-5600-error" role="alert">([^<]*)<', html(outside))
    assert said and "rooms and extensions only" in said.group(1)
    assert 'value="89001234567"' in html(outside)  # what was typed stays
    typo = api.post("/live/5600/invite", data={"csrf_token": token, "number": "20x1"})
    assert "Digits only" in html(typo)
    assert api.post("/api/v1/rooms", json={"number": "5600"}, headers=headers["operator"]).status_code == 201
    itself = api.post("/live/5600/invite", data={"csrf_token": token, "number": "5600"})
    assert itself.status_code == 400 and "This number leads back to this room." in html(itself)
    commands = [(fields["op"], fields["value"]) for _, fields in live.commands(client, "node-a", "0-0")]
    assert commands == [("start_recording", ""), ("invite", "2001")]
    assert api.post("/live/5600/invite", data={"csrf_token": "forged", "number": "2001"}).status_code == 403
