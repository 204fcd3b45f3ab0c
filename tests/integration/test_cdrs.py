"""Call detail records: spooled by the bridge, filed idempotently, listed with filters."""

from __future__ import annotations

import uuid

from flask import Flask
from flask.testing import FlaskClient

import settings
from conference.billing import Leg, LegKind, record
from store.cdrs import CdrRepository
from store.spool import spool
from store.sql import make_engine, make_sessions


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
