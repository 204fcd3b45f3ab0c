"""Call detail records: spooled by the bridge, filed idempotently, listed with filters."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient

import settings
from conference.billing import Leg, LegKind, closed, record
from store.cdrs import CdrRepository
from store.spool import ALIVE, OPEN, left_open, mark_alive, open_record, spool
from store.sql import make_engine, make_sessions

BOTH_DATABASES = True  # each test on SQLite and on PostgreSQL (tests/integration/conftest.py)

def spooled(config: settings.Config, leg: Leg, status: int, answered: float | None, started: float) -> str:
    cdr = record(leg, uuid.uuid4().hex, "bridge-1", status, started, answered, started + 70, cancelled=False)
    spool(config.var_path / "cdrs", cdr)
    return str(cdr["id"])


def test_spooled_records_are_filed_once_and_listed_with_filters(
    config: settings.Config, app: Flask, api: FlaskClient, auth: dict[str, str]
) -> None:
    repository = CdrRepository(make_sessions(make_engine(config.database_url)), config.var_path / "cdrs")
    day = 1_780_000_000.0  # 2026-05-28
    first = spooled(config, Leg("call-a", LegKind.ORIGINAL, "100", "89001", "100"), 200, day + 5, day)
    spooled(config, Leg("call-a", LegKind.ADDED, "100", "101", "100"), 486, None, day + 30)
    spooled(config, Leg("7000", LegKind.INVITED, "102", "89002", "102"), 200, day + 86_400 + 3, day + 86_400)
    assert repository.import_one(first) and not repository.import_one(first)  # filed, file gone
    assert repository.import_all() == 2 and repository.import_all() == 0
    assert not repository.import_one("../../etc/passwd")

    everything = api.get("/api/v1/cdrs", headers=auth).get_json()
    assert [r["callee"] for r in everything] == ["89002", "101", "89001"]  # newest first
    original = everything[2]
    assert (original["kind"], original["billable_seconds"], original["disposition"]) == ("original", 65, "answered")
    busy = api.get("/api/v1/cdrs?extension=100&disposition=busy", headers=auth).get_json()
    assert [(r["callee"], r["answer"]) for r in busy] == [("101", None)]
    assert len(api.get("/api/v1/cdrs?call=call-a", headers=auth).get_json()) == 2
    assert [r["callee"] for r in api.get("/api/v1/cdrs?number=89002", headers=auth).get_json()] == ["89002"]
    first_day = api.get("/api/v1/cdrs?since=2026-05-28T00:00:00&until=2026-05-29T00:00:00", headers=auth)
    assert [r["callee"] for r in first_day.get_json()] == ["101", "89001"]
    assert len(api.get("/api/v1/cdrs?limit=1", headers=auth).get_json()) == 1


def test_bad_filters_are_named(api: FlaskClient, auth: dict[str, str]) -> None:
    for query, field in (("since=yesterday", "since"), ("limit=0", "limit"), ("disposition=lost", "disposition"),
                         ("extension=abc", "extension"), ("colour=red", "colour")):
        response = api.get(f"/api/v1/cdrs?{query}", headers=auth)
        assert response.status_code == 400 and response.get_json()["error"]["field"] == field, query
    assert api.get("/api/v1/cdrs").status_code == 401


def test_a_record_left_open_by_a_dead_node_is_closed_at_its_last_heartbeat_and_filed(
    config: settings.Config, tmp_path: Path
) -> None:
    spool_dir = tmp_path / "cdrs"
    day = 1_780_000_000.0
    leg = Leg("7000", LegKind.INVITED, "102", "89002", "102")
    lasting = record(leg, "a" * 32, "bridge-1", 200, day, day + 4, day + 4, cancelled=False)
    done = record(leg, "b" * 32, "bridge-1", 200, day, day + 4, day + 4, cancelled=False)
    open_record(spool_dir, lasting)
    open_record(spool_dir, done)
    spool(spool_dir, {**done, "ended_at": day + 10, "billable_seconds": 6})  # ended: no longer open
    mark_alive(spool_dir, "bridge-1")
    os.utime(spool_dir / OPEN / "bridge-1" / ALIVE, (day + 64, day + 64))  # the node's last heartbeat
    (spool_dir / OPEN / "bridge-1" / "torn.json").write_text('{"id": ')  # a crash inside a write is left alone
    open_record(spool_dir, {**lasting, "id": "d" * 32, "node": "bridge-2"})  # another node's, alive

    records, alive = left_open(spool_dir, "bridge-1")
    assert [r["id"] for r in records] == ["a" * 32] and alive == day + 64
    assert closed(records[0], alive)["billable_seconds"] == 60
    assert closed(records[0], None)["billable_seconds"] == 0  # unknown end: nothing billed beyond the answer
    assert closed(records[0], day)["ended_at"] == day + 4  # never before the answer


def test_an_open_record_is_what_a_node_leaves_and_filing_the_end_removes_it(tmp_path: Path) -> None:
    leg = Leg("7000", LegKind.INVITED, "102", "89002", "102")
    cdr = record(leg, "c" * 32, "bridge-1", 200, 1.0, 2.0, 2.0, cancelled=False)
    open_record(tmp_path, cdr)
    assert left_open(tmp_path, "bridge-1") == ([cdr], None)
    spool(tmp_path, cdr)
    assert left_open(tmp_path, "bridge-1") == ([], None) and (tmp_path / f"{'c' * 32}.json").is_file()
