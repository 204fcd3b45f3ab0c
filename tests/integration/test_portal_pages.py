"""The employee portal's pages through the Flask test client: a user schedules from the form
(directory search, contacts, typed numbers and addresses; passwords drawn and shown to it), lists,
edits and cancels its own, never opens another's, runs its conference (roster, actions sent to the
node), keeps contacts, and reads the help. Browser and phones: tests/e2e/test_portal.py."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import redis
from flask import Flask
from flask.testing import FlaskClient

from store import live
from store.accounts import Account
from tests.integration.conftest import EXTENSION_PASSWORD, OPERATOR_PASSWORD
from tests.integration.test_panel import csrf_of, html, sign_in

TOMORROW = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()


def employee(api: FlaskClient) -> str:
    assert sign_in(api, "2001", EXTENSION_PASSWORD).status_code == 302
    start = api.get("/")
    assert start.headers["Location"] == "/portal"
    return csrf_of(api.get("/portal"))


def schedule(api: FlaskClient, token: str, **fields: object) -> str:
    form = {"csrf_token": token, "topic": "Sales", "zone": "Europe/Moscow", "date": TOMORROW, "start": "10:00",
            "end": "11:00", "auto_invite": "on", "auto_extend": "15", "reminder_minutes": "60", **fields}
    made = api.post("/portal/schedule", data=form)
    assert made.status_code == 302, html(made)
    found = re.fullmatch(r"/portal/conferences/([0-9]+)", made.headers["Location"])
    assert found, made.headers["Location"]
    return found.group(1)


def test_an_employee_schedules_lists_edits_and_cancels_its_own(
    app: Flask, api: FlaskClient, auth: dict[str, str], people: dict[str, Account]
) -> None:
    made = api.post("/api/v1/extensions", json={"number": "2002", "password": "x-secret-22",
                                                "display_name": "Boris Petrov"}, headers=auth)
    assert made.status_code == 201, made.get_data(as_text=True)
    token = employee(api)
    assert api.post("/portal/contacts", data={"csrf_token": token, "name": "Vera", "email": "vera@example.com"}
                    ).status_code == 302
    searched = api.post("/portal/schedule", data={"csrf_token": token, "action": "search", "q": "boris",
                                                  "topic": "Kept"})
    assert searched.status_code == 200
    assert 'value="number:2002" checked' in html(searched) and 'value="Kept"' in html(searched)
    assert 'value="email:vera@example.com"' in html(searched)  # the contacts are offered

    refused = api.post("/portal/schedule", data={"csrf_token": token, "topic": "Bad", "zone": "Europe/Moscow",
                                                 "date": TOMORROW, "start": "10:00", "end": "11:00",
                                                 "others": "12ab"})
    assert refused.status_code == 400 and 'id="participants-error"' in html(refused)

    code = schedule(api, token, pick=["number:2002", "email:vera@example.com"], others="+74951112233\nx@example.org")
    page = html(api.get(f"/portal/conferences/{code}"))
    chair = re.search(r'id="chair-password">([0-9]{6})<', page)
    guest = re.search(r'id="guest-password">([0-9]{6})<', page)
    assert chair and guest and chair.group(1) != guest.group(1)
    conference = api.get(f"/api/v1/conferences/{code}", headers=auth).get_json()
    assert conference["owner"]["number"] == "2001"
    assert [p.get("number") or p.get("email") for p in conference["participants"]] == [
        "2002", "vera@example.com", "+74951112233", "x@example.org"]
    assert (conference["auto_extend"], conference["reminder_minutes"]) == (15, 60)

    listed = html(api.get("/portal?state=scheduled"))
    assert f'data-code="{code}"' in listed and re.search(r'id="tab-scheduled"[^>]*>[^<]*<span class="count">1<',
                                                         listed)
    edited = api.post(f"/portal/conferences/{code}/edit", data={
        "csrf_token": token, "topic": "Sales weekly", "zone": "Europe/Moscow", "date": TOMORROW, "start": "12:00",
        "end": "13:00", "others": "2002"})
    assert edited.status_code == 302, html(edited)
    assert api.get(f"/api/v1/conferences/{code}", headers=auth).get_json()["start"] == "12:00"
    assert api.post(f"/portal/conferences/{code}/delete", data={"csrf_token": token}).status_code == 302
    assert api.get(f"/api/v1/conferences/{code}", headers=auth).get_json()["state"] == "cancelled"


def test_the_owner_opts_out_of_the_guest_password_on_the_form_and_back_in(
    app: Flask, api: FlaskClient, auth: dict[str, str], people: dict[str, Account]
) -> None:
    token = employee(api)
    assert 'id="open_dial_in"' in html(api.get("/portal/schedule"))
    code = schedule(api, token, open_dial_in="on")
    conference = api.get(f"/api/v1/conferences/{code}", headers=auth).get_json()
    assert conference["open_dial_in"] is True and conference["guest_password"] is None
    assert re.fullmatch(r"[0-9]{6}", conference["chair_password"])  # the chair's is still drawn
    page = html(api.get(f"/portal/conferences/{code}"))
    assert 'id="guest-password">none: open dial-in<' in page
    assert re.search(r'id="open_dial_in" checked', html(api.get(f"/portal/conferences/{code}/edit")))
    form = {"csrf_token": token, "topic": "Sales", "zone": "Europe/Moscow", "date": TOMORROW, "start": "10:00",
            "end": "11:00"}
    assert api.post(f"/portal/conferences/{code}/edit", data=form).status_code == 302  # the box left unticked
    closed = api.get(f"/api/v1/conferences/{code}", headers=auth).get_json()
    assert closed["open_dial_in"] is False and re.fullmatch(r"[0-9]{6}", closed["guest_password"])
    assert closed["guest_password"] != closed["chair_password"]
    assert api.post(f"/portal/conferences/{code}/edit", data={**form, "open_dial_in": "on"}).status_code == 302
    reopened = api.get(f"/api/v1/conferences/{code}", headers=auth).get_json()
    assert (reopened["open_dial_in"], reopened["guest_password"]) == (True, None)


def test_an_employee_never_opens_anothers_conference(
    app: Flask, api: FlaskClient, auth: dict[str, str], people: dict[str, Account]
) -> None:
    theirs = api.post("/api/v1/conferences", headers=auth, json={
        "topic": "Board", "owner": {"number": "3000"}, "zone": "UTC", "date": TOMORROW, "start": "10:00",
        "end": "11:00", "guest_password": "1234"}).get_json()["code"]
    token = employee(api)
    assert f'data-code="{theirs}"' not in html(api.get("/portal?state=scheduled"))
    for path in (f"/portal/conferences/{theirs}", f"/portal/conferences/{theirs}/edit",
                 f"/portal/conferences/{theirs}/roster", "/portal/conferences/999999999"):
        assert api.get(path).status_code == 403, path
    repeated = html(api.get(f"/portal/schedule?repeat={theirs}"))  # the form, not filled from it
    assert "Board" not in repeated and "1234" not in repeated
    assert api.post(f"/portal/conferences/{theirs}/delete", data={"csrf_token": token}).status_code == 403
    assert api.post(f"/portal/conferences/{theirs}/end", data={"csrf_token": token}).status_code == 403
    assert api.get(f"/api/v1/conferences/{theirs}", headers=auth).get_json()["state"] == "scheduled"
    operator = app.test_client()  # an operator sees everyone's
    sign_in(operator, "op", OPERATOR_PASSWORD)
    assert f'data-code="{theirs}"' in html(operator.get("/portal?state=scheduled"))


def test_a_running_conference_page_shows_the_roster_and_sends_actions(
    app: Flask, api: FlaskClient, client: redis.Redis, people: dict[str, Account]
) -> None:
    token = employee(api)
    code = schedule(api, token, immediate="on")
    room = f"conf-{code}"
    client.set(live.AFFINITY.format(room), "bridge-1")  # the node the conference was placed on
    live.put_participant(client, room, "p1", {"id": "p1", "caller": "sip:2001@kamconf", "role": "admin",
                                              "state": "in_conference", "joined_at": 1.0, "mos": 4.31,
                                              "loss_percent": 0.0, "jitter_ms": 3.0, "rtt_ms": 20.0})
    live.put_participant(client, room, "p2", {"id": "p2", "caller": "sip:2002@kamconf", "role": "user",
                                              "state": "muted", "joined_at": 2.0})
    live.put_participant(client, room, "p3", {"id": "p3", "caller": "2003", "role": "user", "state": "ringing",
                                              "joined_at": None})
    live.room_event(client, "call_failed", room, number="+74951112233", status=486, attempt=3)
    live.room_event(client, "talking", room, participant="p1")
    page = html(api.get(f"/portal/conferences/{code}"))
    ringing = re.search(r'<tr data-participant="p3".*?</tr>', page, re.S)
    assert ringing and 'class="ringing">ringing<' in ringing.group(0)
    assert 'data-op="drop"' in ringing.group(0) and 'data-op="mute"' not in ringing.group(0)  # drop: cancel it
    assert 'data-participant="p1"' in page and "MOS 4.3" in page
    assert re.search(r'data-participant="p2".*?no data', page, re.S)
    assert 'data-number="+74951112233" data-status="486"' in page and "busy" in page
    assert re.search(r'data-participant="p1"[^>]*class=is-talking', page)
    assert "no data" in html(api.get(f"/portal/conferences/{code}/roster"))

    for path in ("participants/p2/unmute", "participants/p1/mute", "lock", "extend"):
        sent = api.post(f"/portal/conferences/{code}/{path}", data={"csrf_token": token, "minutes": "15"})
        assert sent.status_code == 302, (path, html(sent))
    refused = api.post(f"/portal/conferences/{code}/invite", data={"csrf_token": token, "number": "12ab"})
    assert refused.status_code == 400 and 'id="invite-number-error"' in html(refused)
    assert api.post(f"/portal/conferences/{code}/invite", data={"csrf_token": token, "number": "2001"}
                    ).status_code == 302
    commands = [(c["op"], c.get("participant", ""), c.get("value", ""))
                for _, c in live.commands(client, "bridge-1", "0-0") if c.get("room") == room]
    assert commands == [("unmute", "p2", ""), ("mute", "p1", ""), ("invite", "", "2001")]
    assert api.post(f"/portal/conferences/{code}/end", data={"csrf_token": token}).status_code == 302
    assert 'data-state="past"' in html(api.get(f"/portal/conferences/{code}"))


def test_contacts_and_help_pages(api: FlaskClient, people: dict[str, Account]) -> None:
    token = employee(api)
    bad = api.post("/portal/contacts", data={"csrf_token": token, "name": "Nobody"})
    assert bad.status_code == 400 and 'id="contact-number-error"' in html(bad)
    assert api.post("/portal/contacts", data={"csrf_token": token, "name": "Gleb", "number": "2005"}
                    ).status_code == 302
    listed = html(api.get("/portal/contacts"))
    contact = re.search(r'data-contact="([0-9]+)"', listed)
    assert contact and "Gleb" in listed
    assert api.post(f"/portal/contacts/{contact.group(1)}/delete", data={"csrf_token": token}).status_code == 302
    assert 'id="no-contacts"' in html(api.get("/portal/contacts"))
    helped = html(api.get("/portal/help"))
    assert all(key in helped for key in ("*92", "*93", "*94", "*95", "##", "7000"))


def test_the_profile_keeps_e_mail_zone_and_language_and_changes_the_extensions_password(
    app: Flask, api: FlaskClient, auth: dict[str, str], people: dict[str, Account]
) -> None:
    token = employee(api)
    bad = api.post("/portal/profile", data={"csrf_token": token, "email": "not-mail", "zone": "Mars/Base"})
    assert bad.status_code == 400 and 'id="email-error"' in html(bad)
    saved = api.post("/portal/profile", data={"csrf_token": token, "email": "anna@example.com",
                                              "zone": "Asia/Yekaterinburg", "language": "ru"})
    assert saved.status_code == 302
    page = html(api.get("/portal/profile"))
    assert 'value="anna@example.com"' in page and '<html lang="ru">' in page
    assert 'value="Asia/Yekaterinburg"' in html(api.get("/portal/schedule"))  # the form starts with it
    code = schedule(api, token, zone="Asia/Yekaterinburg")
    owner = api.get(f"/api/v1/conferences/{code}", headers=auth).get_json()["owner"]
    assert owner == {"number": "2001", "email": "anna@example.com", "name": "", "zone": None, "language": "ru"}

    wrong = api.post("/portal/profile/password", data={"csrf_token": token, "current_password": "guess",
                                                       "new_password": "new-secret-2001"})
    assert wrong.status_code == 400 and 'id="current_password-error"' in html(wrong)
    changed = api.post("/portal/profile/password", data={"csrf_token": token, "current_password": EXTENSION_PASSWORD,
                                                         "new_password": "new-secret-2001"})
    assert changed.headers["Location"].startswith("/login")
    assert api.get("/portal").status_code == 302  # the old password's session ended with it
    fresh = app.test_client()
    assert sign_in(fresh, "2001", EXTENSION_PASSWORD).status_code == 401
    assert sign_in(fresh, "2001", "new-secret-2001").status_code == 302


def test_an_employee_saves_templates_of_its_own_and_the_form_starts_from_its_default(
    app: Flask, api: FlaskClient, auth: dict[str, str], headers: dict[str, dict[str, str]],
    people: dict[str, Account]
) -> None:
    token = employee(api)
    form = {"csrf_token": token, "action": "template", "topic": "Standup", "zone": "Asia/Tokyo",
            "others": "2002\nteam@example.com", "auto_extend": "30", "reminder_minutes": "15", "auto_invite": "on"}
    unnamed = api.post("/portal/schedule", data=form)
    assert unnamed.status_code == 400 and 'id="template_name-error"' in html(unnamed)
    assert api.post("/portal/schedule", data={**form, "template_name": "Daily", "template_default": "on"}
                    ).status_code == 200
    assert api.post("/portal/schedule", data={**form, "topic": "Retro", "template_name": "Retro"}).status_code == 200
    mine = api.get("/api/v1/templates", headers=headers["user"]).get_json()
    assert [(t["name"], t["default"], t["fields"]["topic"]) for t in mine] == [("Daily", True, "Standup"),
                                                                            ("Retro", False, "Retro")]
    assert api.get("/api/v1/templates", headers=headers["operator"]).get_json() == []  # not shared
    started = html(api.get("/portal/schedule"))  # from its default
    assert 'value="Standup"' in started and 'value="Asia/Tokyo"' in started and "team@example.com" in started
    assert 'value="Retro"' in html(api.get("/portal/schedule?template=Retro"))
    made = api.post("/api/v1/conferences", json={"template": "Retro", "date": TOMORROW, "start": "09:00",
                                                 "end": "09:30", "guest_password": "8642"}, headers=headers["user"])
    assert made.status_code == 201, made.get_data(as_text=True)
    assert (made.get_json()["topic"], made.get_json()["auto_extend"]) == ("Retro", 30)
    assert api.delete("/api/v1/templates/Retro", headers=headers["user"]).status_code == 204
    assert api.delete("/api/v1/templates/Retro", headers=headers["user"]).status_code == 404


def test_the_directory_finds_an_employee_by_e_mail_and_mails_it_in_its_language(
    app: Flask, api: FlaskClient, auth: dict[str, str], people: dict[str, Account]
) -> None:
    made = api.post("/api/v1/extensions", json={"number": "2002", "password": "x-secret-22"}, headers=auth)
    assert made.status_code == 201
    colleague = app.test_client()
    assert sign_in(colleague, "2002", "x-secret-22").status_code == 302
    assert colleague.post("/portal/profile", data={"csrf_token": csrf_of(colleague.get("/portal")), "zone": "",
                                                   "email": "boris@example.org", "language": "ru"}).status_code == 302
    token = employee(api)
    found = html(api.post("/portal/schedule", data={"csrf_token": token, "action": "search", "q": "BORIS@"}))
    assert 'value="number:2002" checked' in found and "boris@example.org" in found
    code = schedule(api, token, pick="number:2002")
    participants = api.get(f"/api/v1/conferences/{code}", headers=auth).get_json()["participants"]
    assert participants == [{"number": "2002", "email": "boris@example.org", "name": "", "zone": None,
                             "language": "ru"}]
    form = html(api.get(f"/portal/conferences/{code}/edit"))
    assert "2002 boris@example.org</textarea>" in form  # both, on one line
    fields = {"csrf_token": token, "topic": "Moved", "zone": "Europe/Moscow", "date": TOMORROW, "start": "15:00",
              "end": "16:00", "others": "2002 boris@example.org\n+74951112233 guest@example.com"}
    twice = api.post(f"/portal/conferences/{code}/edit", data={**fields, "others": "2002 2003"})
    assert twice.status_code == 400 and 'id="participants-error"' in html(twice)
    assert api.post(f"/portal/conferences/{code}/edit", data=fields).status_code == 302
    participants = api.get(f"/api/v1/conferences/{code}", headers=auth).get_json()["participants"]
    assert participants == [{"number": "2002", "email": "boris@example.org", "name": "", "zone": None,
                             "language": "ru"},  # kept: the line was as it was
                            {"number": "+74951112233", "email": "guest@example.com", "name": "", "zone": None,
                             "language": None}]
