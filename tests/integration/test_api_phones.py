"""/api/v1/extensions and /api/v1/trunks with a real Redis and SQLite."""

from __future__ import annotations

from typing import Any

import redis
from flask.testing import FlaskClient

from conference.extensions import ha1
from store import live

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
    trunk = {**trunk, "trusted": False, "caller_id": None, "present_as": "pai"}
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
    assert api.delete("/api/v1/trunks/carrier", headers=auth).status_code == 204
    assert api.get("/api/v1/trunks/carrier", headers=auth).status_code == 404
    assert client.hlen(live.TRUNKS) == 0
