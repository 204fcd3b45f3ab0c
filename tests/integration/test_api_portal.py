"""What the employee portal uses of the API: a user's own scheduled conferences (another's answers
403 like an unknown code), its contacts (nobody sees another's), a running conference's roster,
per-participant actions and invitations, sent to the node holding the conference's room, and mail
in each recipient's language (through a real SMTP server)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import icalendar
import redis
from alembic import command
from alembic.config import Config as AlembicConfig
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import inspect, text

import settings
from store import live, migrations
from store.accounts import Account, NewAccount, Role
from store.conferences import MeetingRepository
from store.migrations import upgrade
from store.sql import make_engine, make_sessions
from tests.integration.conftest import auth_services, bearer, write_config
from tests.integration.test_api_rooms import failed
from tests.support.mail import smtp_server
from tests.support.redis_server import RedisServer
from workers.meetings import deliver

TOMORROW = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
MINE = {"topic": "Sales", "zone": "Europe/Moscow", "date": TOMORROW, "start": "10:00", "end": "11:00",
        "participants": [{"number": "2002"}, {"email": "guest@example.com"}], "guest_password": "2468"}


def schedule(api: FlaskClient, who: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
    response = api.post("/api/v1/conferences", json=body, headers=who)
    assert response.status_code == 201, response.get_data(as_text=True)
    return dict(response.get_json())


def second_user(app: Flask, api: FlaskClient, auth: dict[str, str]) -> dict[str, str]:
    made = api.post("/api/v1/extensions", json={"number": "2002", "password": "another-secret-9"}, headers=auth)
    assert made.status_code == 201, made.get_data(as_text=True)
    return bearer(app, auth_services(app).accounts.create(NewAccount("2002", Role.USER, None)).id)


def test_a_user_schedules_its_own_and_sees_only_its_own(
    app: Flask, api: FlaskClient, auth: dict[str, str], headers: dict[str, dict[str, str]]
) -> None:
    user, operator = headers["user"], headers["operator"]
    mine = schedule(api, user, MINE)
    assert mine["owner"]["number"] == "2001"  # its extension, filled in
    failed(api.post("/api/v1/conferences", json={**MINE, "owner": {"number": "2002"}}, headers=user),
           403, "forbidden", "owner")
    theirs = schedule(api, operator, {**MINE, "topic": "Ops", "owner": {"number": "3000"}})
    other = second_user(app, api, auth)

    listed = api.get("/api/v1/conferences", headers=user).get_json()
    assert [c["code"] for c in listed["conferences"]] == [mine["code"]] and listed["counts"]["scheduled"] == 1
    assert len(api.get("/api/v1/conferences", headers=operator).get_json()["conferences"]) == 2
    assert api.get("/api/v1/conferences", headers=other).get_json()["conferences"] == []
    history = api.get(f"/api/v1/history?since={TOMORROW}&until=2999-01-01", headers=user).get_json()
    assert [c["code"] for c in history] == [mine["code"]]

    assert api.get(f"/api/v1/conferences/{mine['code']}", headers=user).get_json()["guest_password"] == "2468"
    for path, method in ((f"/api/v1/conferences/{theirs['code']}", "GET"),
                         (f"/api/v1/conferences/{theirs['code']}", "PATCH"),
                         (f"/api/v1/conferences/{theirs['code']}", "DELETE"),
                         (f"/api/v1/conferences/{theirs['code']}/participants", "GET"),
                         (f"/api/v1/conferences/{theirs['code']}/invite", "POST"),
                         (f"/api/v1/conferences/{theirs['code']}/participants/x/mute", "POST"),
                         ("/api/v1/conferences/999999999", "GET")):  # unknown: the same answer
        failed(api.open(path, method=method, json={"topic": "Mine now"}, headers=user), 403, "forbidden")
    failed(api.get(f"/api/v1/conferences/{mine['code']}", headers=other), 403, "forbidden")

    changed = api.patch(f"/api/v1/conferences/{mine['code']}", json={"topic": "Sales weekly"}, headers=user)
    assert changed.status_code == 200 and changed.get_json()["topic"] == "Sales weekly"
    assert api.delete(f"/api/v1/conferences/{mine['code']}", headers=user).status_code == 204
    assert api.get(f"/api/v1/conferences/{theirs['code']}", headers=operator).get_json()["state"] == "scheduled"


def test_contacts_belong_to_their_account(
    app: Flask, api: FlaskClient, auth: dict[str, str], headers: dict[str, dict[str, str]]
) -> None:
    user = headers["user"]
    made = api.post("/api/v1/contacts", json={"name": "Boris", "number": "+74951112233"}, headers=user)
    assert made.status_code == 201, made.get_data(as_text=True)
    contact = made.get_json()
    assert {k: contact[k] for k in ("name", "number", "email")} == {"name": "Boris", "number": "+74951112233",
                                                                  "email": None}
    failed(api.post("/api/v1/contacts", json={"name": "Nobody"}, headers=user), 400, "invalid_field", "number")
    failed(api.post("/api/v1/contacts", json={"number": "12a"}, headers=user), 400, "invalid_field", "number")
    failed(api.post("/api/v1/contacts", json={"email": "x@y.z", "extra": 1}, headers=user), 400, "unknown_field",
           "extra")
    other = second_user(app, api, auth)
    assert api.get("/api/v1/contacts", headers=other).get_json() == []
    failed(api.patch(f"/api/v1/contacts/{contact['id']}", json={"name": "Mine"}, headers=other), 404, "not_found")
    failed(api.delete(f"/api/v1/contacts/{contact['id']}", headers=other), 404, "not_found")
    failed(api.patch(f"/api/v1/contacts/{contact['id']}", json={"number": None}, headers=user), 400,
           "invalid_field", "number")  # then it would have neither
    patched = api.patch(f"/api/v1/contacts/{contact['id']}", json={"email": "boris@example.org"}, headers=user)
    assert patched.get_json()["email"] == "boris@example.org" and patched.get_json()["number"] == "+74951112233"
    assert [c["name"] for c in api.get("/api/v1/contacts", headers=user).get_json()] == ["Boris"]
    assert api.delete(f"/api/v1/contacts/{contact['id']}", headers=user).status_code == 204
    assert api.get("/api/v1/contacts", headers=user).get_json() == []


def node_commands(client: redis.Redis) -> list[dict[str, str]]:
    return [fields for _, fields in live.commands(client, "bridge-1", "0-0")]


def test_a_running_conference_roster_and_actions_go_to_its_node(
    app: Flask, api: FlaskClient, client: redis.Redis, headers: dict[str, dict[str, str]],
    people: dict[str, Account]
) -> None:
    user = headers["user"]
    running = schedule(api, user, {**MINE, "immediate": True})
    code, room = running["code"], f"conf-{running['code']}"
    failed(api.post(f"/api/v1/conferences/{code}/participants/p1/mute", headers=user), 404, "not_found")  # nobody in

    client.set(live.AFFINITY.format(room), "bridge-1")  # the node the conference was placed on
    live.put_participant(client, room, "p1", {"id": "p1", "caller": "sip:2001@kamconf", "role": "admin",
                                              "state": "in_conference", "joined_at": 1.0, "mos": 4.3})
    live.room_event(client, "call_failed", room, number="2002", status=486, attempt=3)
    live.room_event(client, "call_failed", room, number="2001", status=408, attempt=1)  # since joined
    roster = api.get(f"/api/v1/conferences/{code}/participants", headers=user).get_json()
    assert [p["id"] for p in roster["participants"]] == ["p1"] and roster["participants"][0]["mos"] == 4.3
    assert roster["unanswered"] == [{"number": "2002", "status": 486, "reason": "busy", "attempt": 3}]
    live.put_participant(client, room, "p0", {"id": "p0", "caller": "2002", "role": "user", "state": "ringing",
                                              "joined_at": None})  # called again: ringing now
    roster = api.get(f"/api/v1/conferences/{code}/participants", headers=user).get_json()
    assert [(p["id"], p["state"]) for p in roster["participants"]] == [("p1", "in_conference"), ("p0", "ringing")]
    assert roster["unanswered"] == [] and live.present(client, room) == 1  # the ringing one is not in yet
    live.remove_participant(client, room, "p0")

    assert api.post(f"/api/v1/conferences/{code}/participants/p1/mute", headers=user).status_code == 202
    invited = api.post(f"/api/v1/conferences/{code}/invite", json={"number": "2001"}, headers=user)
    assert invited.status_code == 202, invited.get_data(as_text=True)
    failed(api.post(f"/api/v1/conferences/{code}/invite", json={"number": "+74951112233"}, headers=user), 400,
           "invalid_field", "number")  # no trunk routes it
    failed(api.post(f"/api/v1/conferences/{code}/invite", json={"number": "x"}, headers=user), 400,
           "invalid_field", "number")
    assert [(c["op"], c["room"], c["participant"], c["value"]) for c in node_commands(client)] == [
        ("mute", room, "p1", ""), ("invite", room, "", "2001")]
    assert json.loads(client.hget(live.PARTICIPANTS.format(room), "p1") or "{}")["id"] == "p1"

    planned = schedule(api, user, MINE)
    failed(api.post(f"/api/v1/conferences/{planned['code']}/invite", json={"number": "2001"}, headers=user), 409,
           "conflict")


def test_mail_and_calendars_go_out_in_each_recipients_language(
    tmp_path: Path, redis_srv: RedisServer, api: FlaskClient, headers: dict[str, dict[str, str]],
    config: settings.Config
) -> None:
    made = schedule(api, headers["user"], {**MINE, "owner": {"number": "2001", "email": "anna@example.com",
                                                             "language": "ru"},
                                           "participants": [{"email": "boris@example.org"},
                                                            {"email": "carl@example.net", "language": "en"}]})
    failed(api.post("/api/v1/conferences", json={**MINE, "owner": {"number": "2001", "language": "de"}},
                    headers=headers["user"]), 400, "invalid_field", "owner")
    with smtp_server() as (inbox, port):
        deliver(MeetingRepository(make_sessions(make_engine(config.database_url))),
                settings.load(write_config(tmp_path, redis_srv.port, f"[mail]\nport = {port}\n"), env={}),
                datetime.now(UTC))
        mails = {str(m["To"]): m for m in inbox.about(made["code"])}
    assert sorted(mails) == ["anna@example.com", "boris@example.org", "carl@example.net"]
    for to, subject, language, says in (
            ("anna@example.com", "Приглашение", "ru", "Позвоните на 7000, наберите код"),
            ("boris@example.org", "Приглашение", "ru", "Позвоните на 7000, наберите код"),  # the owner's
            ("carl@example.net", "Invitation", "en", "Call 7000, enter the code")):
        mail = mails[to]
        assert str(mail["Subject"]).startswith(f"{subject}: Sales") and mail["Content-Language"] == language
        text = mail.get_body(preferencelist=("plain",))
        assert text is not None and made["code"] in text.get_content()
        calendar = next(p for p in mail.iter_attachments() if p.get_content_type() == "text/calendar")
        event = next(iter(icalendar.Calendar.from_ical(calendar.get_content()).walk("VEVENT")))
        assert str(event["DESCRIPTION"]).startswith(says), (to, str(event["DESCRIPTION"]))


def test_migration_0011_adds_contacts_templates_and_profile_and_takes_them_back(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'kamconf.db'}")
    config = AlembicConfig()
    config.set_main_option("script_location", str(migrations.HERE))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0010")
        connection.execute(text("UPDATE accounts SET name = 'boss'"))  # an account made before 0011
    upgrade(engine)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT name, email, zone FROM accounts")).all() == [("boss", None, None)]
    assert {"contacts", "personal_templates"} <= set(inspect(engine).get_table_names())
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0010")
    assert not {"contacts", "personal_templates"} & set(inspect(engine).get_table_names())
    assert not {"email", "zone"} & {column["name"] for column in inspect(engine).get_columns("accounts")}


def test_an_employee_keeps_a_bounded_number_of_templates(api: FlaskClient, headers: dict[str, dict[str, str]]) -> None:
    user = headers["user"]
    for n in range(100):
        assert api.post("/api/v1/templates", json={"name": f"t{n}", "topic": "T", "zone": "UTC"},
                        headers=user).status_code == 201
    failed(api.post("/api/v1/templates", json={"name": "one more", "topic": "T", "zone": "UTC"}, headers=user),
           409, "conflict", "name")
    saved_again = api.post("/api/v1/templates", json={"name": "t7", "topic": "Again", "zone": "UTC", "default": True},
                           headers=user)
    assert saved_again.status_code == 201 and saved_again.get_json()["default"] is True  # replacing one is fine
    assert api.get("/api/v1/templates", headers=headers["operator"]).get_json() == []


def test_a_user_repeats_its_own_conference_only_as_its_own(api: FlaskClient, headers: dict[str, dict[str, str]]
                                                           ) -> None:
    user = headers["user"]
    code = schedule(api, user, {**MINE, "immediate": True})["code"]
    assert api.post(f"/api/v1/conferences/{code}/end", headers=user).status_code == 200
    failed(api.post(f"/api/v1/conferences/{code}/repeat", json={"owner": {"number": "2002"}}, headers=user),
           403, "forbidden", "owner")
    again = api.post(f"/api/v1/conferences/{code}/repeat", json={"topic": "Again"}, headers=user)
    assert again.status_code == 201 and again.get_json()["owner"]["number"] == "2001"
    shared = {"name": "Board", "topic": "Board", "owner": {"number": "3000"}, "zone": "UTC"}
    assert api.post("/api/v1/templates", json=shared, headers=headers["operator"]).status_code == 201
    from_shared = api.post("/api/v1/conferences", json={"template": "Board", "immediate": True,
                                                             "open_dial_in": True}, headers=user)
    assert from_shared.status_code == 201 and from_shared.get_json()["owner"]["number"] == "2001"


def test_a_users_conference_carries_its_profiles_address_and_language(
    app: Flask, api: FlaskClient, headers: dict[str, dict[str, str]], people: dict[str, Account]
) -> None:
    accounts = auth_services(app).accounts
    accounts.set_profile(people["user"].id, "anna@example.com", "Europe/Moscow")
    accounts.choose_language(people["user"].id, "ru")
    made = schedule(api, headers["user"], MINE)
    assert made["owner"] == {"number": "2001", "email": "anna@example.com", "name": "", "zone": None,
                             "language": "ru"}
