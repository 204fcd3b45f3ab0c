"""/api/v1/conferences with SQLite and Redis, and the worker's mail rounds against a real SMTP
server (aiosmtpd) on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import icalendar
import pytest
from alembic import command
from alembic.config import Config as AlembicConfig
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import inspect, text

import settings
from conference.schedule import ended
from store import migrations
from store.conferences import MeetingRepository
from store.migrations import upgrade
from store.sql import make_engine, make_sessions
from tests.integration.conftest import write_config
from tests.support.mail import Inbox, smtp_server
from tests.support.ports import free_port
from tests.support.redis_server import RedisServer
from workers.meetings import deliver, queue_reminders

BOTH_DATABASES = True  # each test on SQLite and on PostgreSQL (tests/integration/conftest.py)

TOMORROW = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
MEETING = {"topic": "Weekly", "owner": {"number": "100", "email": "owner@example.com", "name": "Anna"},
           "zone": "Europe/Moscow", "date": TOMORROW, "start": "10:00", "end": "11:00",
           "participants": [{"number": "101", "email": "boris@example.org"}, {"number": "+74951112233"}],
           "guest_password": "4242", "reminder_minutes": 2 * 24 * 60}


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    with smtp_server() as server:
        yield server


def post(api: FlaskClient, auth: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
    response = api.post("/api/v1/conferences", json=body, headers=auth)
    assert response.status_code == 201, response.get_json()
    return dict(response.get_json())


def repository(config: settings.Config) -> MeetingRepository:
    return MeetingRepository(make_sessions(make_engine(config.database_url)))


def test_a_conference_is_scheduled_listed_edited_and_cancelled(
    api: FlaskClient, auth: dict[str, str], config: settings.Config
) -> None:
    made = post(api, auth, MEETING)
    assert made["code"].isdigit() and len(made["code"]) == 6 and made["state"] == "scheduled"
    assert (made["date"], made["start"], made["end"], made["dial_in"]) == (TOMORROW, "10:00", "11:00", "7000")
    assert made["start_utc"].endswith("07:00:00+00:00")  # Moscow is UTC+3
    mail = api.get(f"/api/v1/conferences/{made['code']}/mail", headers=auth).get_json()
    assert [(m["kind"], m["to"]) for m in mail] == [("invitation", "owner@example.com"),
                                                    ("invitation", "boris@example.org")]
    now = post(api, auth, {**MEETING, "immediate": True, "topic": "Now"})
    assert now["state"] == "current"

    listed = api.get("/api/v1/conferences?state=scheduled", headers=auth).get_json()
    assert listed["counts"] == {"scheduled": 1, "current": 1, "past": 0, "cancelled": 0}
    assert [c["code"] for c in listed["conferences"]] == [made["code"]]
    year, month = int(TOMORROW[:4]), int(TOMORROW[5:7])
    assert len(api.get(f"/api/v1/conferences?year={year}&month={month}", headers=auth).get_json()["conferences"]) >= 1
    assert api.get(f"/api/v1/conferences?year={year - 1}", headers=auth).get_json()["conferences"] == []

    patched = api.patch(f"/api/v1/conferences/{made['code']}", json={"start": "10:30"}, headers=auth)
    assert patched.status_code == 200 and patched.get_json()["start"] == "10:30"
    assert api.patch(f"/api/v1/conferences/{now['code']}", json={"topic": "x"}, headers=auth).status_code == 409
    assert api.delete(f"/api/v1/conferences/{now['code']}", headers=auth).status_code == 409

    assert api.delete(f"/api/v1/conferences/{made['code']}", headers=auth).status_code == 204
    cancelled = api.get(f"/api/v1/conferences/{made['code']}", headers=auth).get_json()
    assert cancelled["state"] == "cancelled"
    kinds = [m["kind"] for m in api.get(f"/api/v1/conferences/{made['code']}/mail", headers=auth).get_json()]
    assert kinds == ["invitation"] * 2 + ["update"] * 2 + ["cancellation"] * 2
    assert api.patch(f"/api/v1/conferences/{made['code']}", json={"topic": "x"}, headers=auth).status_code == 409


def test_live_changes_repeat_and_templates(api: FlaskClient, auth: dict[str, str], config: settings.Config) -> None:
    now = post(api, auth, {**MEETING, "immediate": True})
    extended = api.post(f"/api/v1/conferences/{now['code']}/extend", json={"minutes": 15}, headers=auth)
    assert extended.get_json()["end_utc"] > now["end_utc"]
    assert api.post(f"/api/v1/conferences/{now['code']}/lock", json={"locked": True},
                    headers=auth).get_json()["locked"] is True
    assert api.post(f"/api/v1/conferences/{now['code']}/repeat", headers=auth).status_code == 409  # not past yet
    assert api.post(f"/api/v1/conferences/{now['code']}/end", headers=auth).get_json()["state"] == "past"
    again = api.post(f"/api/v1/conferences/{now['code']}/repeat", json={"date": TOMORROW},
                     headers=auth)
    assert again.status_code == 201 and again.get_json()["code"] != now["code"]
    assert again.get_json()["participants"] == now["participants"]

    saved = api.post("/api/v1/templates", json={"name": "weekly", **MEETING}, headers=auth)
    assert saved.status_code == 201
    assert api.post("/api/v1/templates", json={"name": "weekly", **MEETING}, headers=auth).status_code == 409
    from_template = post(api, auth, {"template": "weekly", "date": TOMORROW, "start": "15:00", "end": "16:00"})
    assert (from_template["topic"], from_template["start"]) == ("Weekly", "15:00")
    assert [t["name"] for t in api.get("/api/v1/templates", headers=auth).get_json()] == ["weekly"]
    assert api.delete("/api/v1/templates/weekly", headers=auth).status_code == 204
    missing = api.post("/api/v1/conferences", json={"template": "weekly"}, headers=auth)
    assert missing.status_code == 404


@pytest.mark.parametrize("change, field", [
    ({"zone": "Atlantis/Capital"}, "zone"), ({"date": "2001-01-01"}, "date"), ({"end": "09:00"}, "end"),
    ({"owner": {"email": "x@example.com"}}, "owner"), ({"auto_extend": 10}, "auto_extend"), ({"x": 1}, "x"),
])
def test_bad_conferences_name_the_field(api: FlaskClient, auth: dict[str, str], change: dict[str, Any],
                                        field: str) -> None:
    response = api.post("/api/v1/conferences", json={**MEETING, **change}, headers=auth)
    assert response.status_code == 400 and response.get_json()["error"]["field"] == field
    assert api.get("/api/v1/conferences", headers=auth).get_json()["conferences"] == []


def test_dial_in_needs_a_guest_password_unless_the_owner_opts_out(api: FlaskClient, auth: dict[str, str]) -> None:
    without = {k: v for k, v in MEETING.items() if k != "guest_password"}
    refused = api.post("/api/v1/conferences", json=without, headers=auth)
    assert refused.status_code == 400 and refused.get_json()["error"]["field"] == "guest_password"
    assert "open_dial_in" in refused.get_json()["error"]["message"]  # says how to opt out
    short = api.post("/api/v1/conferences", json={**MEETING, "guest_password": "123"}, headers=auth)
    assert short.status_code == 400 and "4-16 digits" in short.get_json()["error"]["message"]
    both = api.post("/api/v1/conferences", json={**MEETING, "open_dial_in": True}, headers=auth)
    assert both.status_code == 400 and both.get_json()["error"]["field"] == "open_dial_in"
    assert api.get("/api/v1/conferences", headers=auth).get_json()["conferences"] == []
    secured = post(api, auth, MEETING)
    assert (secured["guest_password"], secured["open_dial_in"]) == ("4242", False)
    opened = post(api, auth, {**without, "open_dial_in": True})
    assert (opened["guest_password"], opened["open_dial_in"]) == (None, True)
    path = f"/api/v1/conferences/{secured['code']}"
    dropped = api.patch(path, json={"guest_password": None}, headers=auth)
    assert dropped.status_code == 400 and dropped.get_json()["error"]["field"] == "guest_password"
    made_open = api.patch(path, json={"guest_password": None, "open_dial_in": True}, headers=auth)
    assert made_open.status_code == 200 and made_open.get_json()["guest_password"] is None
    closed = api.patch(f"/api/v1/conferences/{opened['code']}", json={"open_dial_in": False}, headers=auth)
    assert closed.status_code == 400 and closed.get_json()["error"]["field"] == "guest_password"
    # A template keeps no password: a conference made from it is given one (or opts out).
    assert api.post("/api/v1/templates", json={"name": "open", **without}, headers=auth).status_code == 201
    when = {"date": TOMORROW, "start": "15:00", "end": "16:00"}
    from_template = api.post("/api/v1/conferences", json={"template": "open", **when}, headers=auth)
    assert from_template.status_code == 400 and from_template.get_json()["error"]["field"] == "guest_password"
    assert post(api, auth, {"template": "open", **when, "guest_password": "5555"})["guest_password"] == "5555"


def test_migration_0015_marks_conferences_without_a_guest_password_as_open(config: settings.Config) -> None:
    engine = make_engine(config.database_url)
    alembic = AlembicConfig()
    alembic.set_main_option("script_location", str(migrations.HERE))
    row = ("INSERT INTO conferences (code, topic, owner, zone, start_at, end_at, participants, guest_password, "
           "max_participants, auto_invite, auto_extend, reminder_minutes, cancelled, locked, revision, created_at) "
           "VALUES (:code, 'T', '{\"number\": \"100\"}', 'UTC', :at, :at, '[]', :guest, 0, :yes, 0, 0, :no, "
           ":no, 0, :at)")
    with engine.begin() as connection:
        alembic.attributes["connection"] = connection
        command.upgrade(alembic, "0011")
        for code, guest in (("111111", None), ("222222", "4242")):  # made before the rule
            connection.execute(text(row), {"code": code, "guest": guest, "at": datetime.now(UTC),
                                           "yes": True, "no": False})
    upgrade(engine)
    listed = {m.code: m.open_dial_in for m in MeetingRepository(make_sessions(engine)).between(
        datetime.now(UTC) - timedelta(days=1), datetime.now(UTC) + timedelta(days=1))}
    assert listed == {"111111": True, "222222": False}  # what each already was
    with engine.begin() as connection:
        alembic.attributes["connection"] = connection
        command.downgrade(alembic, "0011")
    assert "open_dial_in" not in {column["name"] for column in inspect(engine).get_columns("conferences")}


def test_mail_goes_out_with_a_calendar_and_waits_out_a_dead_server(
    tmp_path: Path, redis_srv: RedisServer, app: Flask, api: FlaskClient, auth: dict[str, str],
    smtp: tuple[Inbox, int], config: settings.Config
) -> None:
    inbox, port = smtp
    made = post(api, auth, MEETING)
    repo = repository(config)
    dead = settings.load(write_config(tmp_path, redis_srv.port, f"[mail]\nport = {free_port()}\n"), env={})
    deliver(repo, dead, datetime.now(UTC))  # nobody listens there: kept, to try again
    status = api.get(f"/api/v1/conferences/{made['code']}/mail", headers=auth).get_json()
    assert all(m["attempts"] == 1 and not m["sent"] and m["last_error"] for m in status)
    deliver(repo, settings.load(write_config(tmp_path, redis_srv.port, f"[mail]\nport = {port}\n"), env={}),
            datetime.now(UTC))
    assert inbox.messages == []  # not before its retry time
    live = settings.load(write_config(tmp_path, redis_srv.port, f"[mail]\nport = {port}\n"), env={})
    deliver(repo, live, datetime.now(UTC) + timedelta(minutes=2))
    assert sorted(m["To"] for m in inbox.messages) == ["boris@example.org", "owner@example.com"]
    guest = next(m for m in inbox.messages if m["To"] == "boris@example.org")
    text_part = guest.get_body(preferencelist=("plain",))
    assert text_part is not None and made["code"] in text_part.get_content() and "4242" in text_part.get_content()
    calendar_part = next(p for p in guest.iter_attachments() if p.get_content_type() == "text/calendar")
    event = next(iter(icalendar.Calendar.from_ical(calendar_part.get_content()).walk("VEVENT")))
    assert event.decoded("DTSTART").isoformat() == made["start_utc"]

    queue_reminders(repo, datetime.now(UTC))  # its reminder (two days ahead) is due now, once
    queue_reminders(repo, datetime.now(UTC))
    kinds = [m["kind"] for m in api.get(f"/api/v1/conferences/{made['code']}/mail", headers=auth).get_json()]
    assert kinds.count("reminder") == 2  # one per address


def test_meeting_end_is_recorded(config: settings.Config, app: Flask, api: FlaskClient,
                                 auth: dict[str, str]) -> None:
    made = post(api, auth, {**MEETING, "immediate": True})
    at = datetime.now(UTC)
    repository(config).update(made["code"], lambda m: ended(m, at))
    assert api.get(f"/api/v1/conferences/{made['code']}", headers=auth).get_json()["state"] == "past"
    history = api.get(f"/api/v1/history?since={at.date()}&until={at.date() + timedelta(days=1)}", headers=auth)
    assert [c["code"] for c in history.get_json()] == [made["code"]]
