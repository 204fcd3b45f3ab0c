"""/api/v1/extensions and /api/v1/trunks with a real Redis and SQLite."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import redis
from alembic import command
from alembic.config import Config as AlembicConfig
from flask.testing import FlaskClient
from sqlalchemy import inspect, text

from conference.extensions import ha1
from store import live, migrations
from store.sql import make_engine

BOTH_DATABASES = True  # each test on SQLite and on PostgreSQL (tests/integration/conftest.py)

def test_an_extensions_life(api: FlaskClient, auth: dict[str, str], client: redis.Redis) -> None:
    created = api.post("/api/v1/extensions", json={"number": "100", "password": "first-pass",
                                                   "display_name": "Anna", "conference_pin": "7777"}, headers=auth)
    assert created.status_code == 201 and created.headers["Location"].endswith("/api/v1/extensions/100")
    body = created.get_json()
    assert body["display_name"] == "Anna" and body["has_conference_pin"] is True
    assert "password" not in body and "ha1" not in body and "conference_pin" not in body
    projected = live.get_entry(client, live.EXTENSIONS, "100")
    assert projected is not None and projected["ha1"] == ha1("100", "kamconf", "first-pass")
    assert "first-pass" not in str(client.hgetall(live.EXTENSIONS))

    patched = api.patch("/api/v1/extensions/100", json={"password": "second-pass", "consult_merge": True},
                        headers=auth)
    assert patched.status_code == 200 and patched.get_json()["consult_merge"] is True
    projected = live.get_entry(client, live.EXTENSIONS, "100")
    assert projected is not None and projected["ha1"] == ha1("100", "kamconf", "second-pass")
    assert [e["number"] for e in api.get("/api/v1/extensions", headers=auth).get_json()] == ["100"]

    assert api.delete("/api/v1/extensions/100", headers=auth).status_code == 204
    assert api.get("/api/v1/extensions/100", headers=auth).status_code == 404
    assert live.get_entry(client, live.EXTENSIONS, "100") is None


def test_rooms_and_extensions_share_one_number_space(api: FlaskClient, auth: dict[str, str]) -> None:
    assert api.post("/api/v1/rooms", json={"number": "500"}, headers=auth).status_code == 201
    taken = api.post("/api/v1/extensions", json={"number": "500", "password": "longenough"}, headers=auth)
    assert taken.status_code == 409 and taken.get_json()["error"]["field"] == "number"
    assert api.post("/api/v1/extensions", json={"number": "501", "password": "longenough"},
                    headers=auth).status_code == 201
    assert api.post("/api/v1/rooms", json={"number": "501"}, headers=auth).status_code == 409
    again = api.post("/api/v1/extensions", json={"number": "501", "password": "longenough"}, headers=auth)
    assert again.status_code == 409 and again.get_json()["error"]["id"] == "duplicate"


def test_bad_extension_fields_are_named(api: FlaskClient, auth: dict[str, str], client: redis.Redis) -> None:
    bad = api.post("/api/v1/extensions", json={"number": "100", "password": "short"}, headers=auth)
    assert bad.status_code == 400 and bad.get_json()["error"]["field"] == "password"
    missing = api.post("/api/v1/extensions", json={"number": "100"}, headers=auth)
    assert missing.get_json()["error"] == {"id": "missing_field", "message": "password is required",
                                          "field": "password"}
    assert client.hlen(live.EXTENSIONS) == 0
    assert api.get("/api/v1/extensions", headers=auth).get_json() == []
    assert api.get("/api/v1/extensions").status_code == 401


def test_a_trunks_life(api: FlaskClient, auth: dict[str, str], client: redis.Redis) -> None:
    trunk: dict[str, Any] = {"name": "carrier", "gateway": "127.0.0.1:5090", "sources": ["127.0.0.1:5090"],
                             "prefixes": ["8"], "inbound": {"74950000000": "100"}}
    created = api.post("/api/v1/trunks", json=trunk, headers=auth)
    # Caller ID: untrusted, no fixed number, in P-Asserted-Identity only, unless set.
    trunk = {**trunk, "trusted": False, "caller_id": None, "present_as": "pai", "callback": [],
             "callback_owner": None, "callback_per_hour": 3, "direct_media": False}
    assert created.status_code == 201 and created.get_json() == trunk
    assert live.get_entry(client, live.TRUNKS, "carrier") == trunk
    assert api.post("/api/v1/trunks", json=trunk, headers=auth).get_json()["error"]["field"] == "name"
    patched = api.patch("/api/v1/trunks/carrier", json={"prefixes": ["8", "+7"]}, headers=auth).get_json()
    assert patched == {**trunk, "prefixes": ["8", "+7"]}
    bad = api.patch("/api/v1/trunks/carrier", json={"sources": ["not an address"]}, headers=auth)
    assert bad.status_code == 400 and bad.get_json()["error"]["field"] == "sources"
    assert live.get_entry(client, live.TRUNKS, "carrier") == patched
    caller_id = {"trusted": True, "caller_id": "+74950000000", "present_as": "pai_and_from"}
    patched = api.patch("/api/v1/trunks/carrier", json=caller_id, headers=auth).get_json()
    assert patched == {**trunk, "prefixes": ["8", "+7"], **caller_id}
    assert live.get_entry(client, live.TRUNKS, "carrier") == patched
    for field, value in (("caller_id", "main line"), ("caller_id", "1" * 33), ("present_as", "from"), ("trusted", 1)):
        bad = api.patch("/api/v1/trunks/carrier", json={field: value}, headers=auth)
        assert bad.status_code == 400 and bad.get_json()["error"]["field"] == field, (field, value)
    assert api.get("/api/v1/trunks/carrier", headers=auth).get_json() == patched
    # Call back: only inbound numbers, and for an extension that exists.
    for change, field in (({"callback": ["74951111111"], "callback_owner": "100"}, "callback"),
                          ({"callback": ["74950000000"]}, "callback_owner"),
                          ({"callback": ["74950000000"], "callback_owner": "999"}, "callback_owner")):
        bad = api.patch("/api/v1/trunks/carrier", json=change, headers=auth)
        assert bad.status_code == 400 and bad.get_json()["error"]["field"] == field, change
    assert api.post("/api/v1/extensions", json={"number": "100", "password": "longenough"},
                    headers=auth).status_code == 201
    calls_back = {"callback": ["74950000000"], "callback_owner": "100", "callback_per_hour": 2}
    patched = api.patch("/api/v1/trunks/carrier", json=calls_back, headers=auth).get_json()
    assert live.get_entry(client, live.TRUNKS, "carrier") == patched and patched["callback_per_hour"] == 2
    assert api.delete("/api/v1/trunks/carrier", headers=auth).status_code == 204
    assert api.get("/api/v1/trunks/carrier", headers=auth).status_code == 404
    assert client.hlen(live.TRUNKS) == 0


def test_migration_0012_gives_existing_trunks_the_former_behaviour_and_takes_it_back(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'kamconf.db'}")
    config = AlembicConfig()
    config.set_main_option("script_location", str(migrations.HERE))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0011")
        connection.execute(text("INSERT INTO trunks (name, gateway, sources, prefixes, inbound, created_at, "
                                "updated_at) VALUES ('old', '192.0.2.1', '[]', '[]', '{}', '2026-01-01', "
                                "'2026-01-01')"))  # a trunk made before 0012
        command.upgrade(config, "0012")
        assert connection.execute(text("SELECT trusted, caller_id, present_as FROM trunks")).all() == [
            (False, None, "pai")]
        command.downgrade(config, "0011")
    assert not {"trusted", "caller_id", "present_as"} & {column["name"] for column in inspect(engine).get_columns(
        "trunks")}
