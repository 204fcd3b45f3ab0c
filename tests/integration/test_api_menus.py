"""/api/v1/menus with a real Redis and SQLite / PostgreSQL: one number space with rooms and extensions, and
no destination its owner may not reach."""

from __future__ import annotations

from typing import Any

import redis
from flask.testing import FlaskClient

from conference.placement import NodeStatus
from store import live

BOTH_DATABASES = True
SALES = {"number": "700", "name": "Reception", "greeting_text": "For sales press 1, for the meeting press 2.",
         "options": {"1": "201", "2": "5000"}, "time_zone": "Europe/Moscow", "hours": ["mon-fri 09:00-18:00"],
         "closed_destination": "5000"}


def given(api: FlaskClient, auth: dict[str, str]) -> None:
    assert api.post("/api/v1/rooms", json={"number": "5000"}, headers=auth).status_code == 201
    for number, outside in (("201", False), ("202", True)):
        assert api.post("/api/v1/extensions", json={"number": number, "password": "longenough",
                                                    "external_calls": outside}, headers=auth).status_code == 201
    assert api.post("/api/v1/trunks", json={"name": "carrier", "gateway": "10.0.0.1:5060", "sources": ["10.0.0.1"],
                                            "prefixes": ["8"]}, headers=auth).status_code == 201


def refused(api: FlaskClient, auth: dict[str, str], payload: dict[str, Any], status: int = 400) -> str:
    response = api.post("/api/v1/menus", json=payload, headers=auth)
    assert response.status_code == status, response.get_json()
    return str(response.get_json()["error"]["field"])


def test_a_menus_life(api: FlaskClient, auth: dict[str, str], client: redis.Redis) -> None:
    given(api, auth)
    created = api.post("/api/v1/menus", json=SALES, headers=auth)
    assert created.status_code == 201 and created.headers["Location"].endswith("/api/v1/menus/700")
    assert created.get_json()["options"] == {"1": "201", "2": "5000"}
    projected = live.Directory(client).menu("700")
    assert projected is not None and projected.hours == ("mon-fri 09:00-18:00",)
    assert live.Directory(client).is_menu("700") and not live.Directory(client).is_menu("5000")

    patched = api.patch("/api/v1/menus/700", json={"options": {"1": "201", "2": "5000", "3": "202"},
                                                   "owner": "201"}, headers=auth)
    assert patched.status_code == 200 and patched.get_json()["options"]["3"] == "202"
    assert [m["number"] for m in api.get("/api/v1/menus", headers=auth).get_json()] == ["700"]
    assert api.delete("/api/v1/menus/700", headers=auth).status_code == 204
    assert api.get("/api/v1/menus/700", headers=auth).status_code == 404
    assert live.Directory(client).menu("700") is None


def test_menus_rooms_and_extensions_share_one_number_space(api: FlaskClient, auth: dict[str, str]) -> None:
    given(api, auth)
    assert refused(api, auth, {"number": "5000"}, 409) == "number"
    assert refused(api, auth, {"number": "201"}, 409) == "number"
    assert api.post("/api/v1/menus", json={"number": "701"}, headers=auth).status_code == 201
    assert api.post("/api/v1/rooms", json={"number": "701"}, headers=auth).status_code == 409
    assert api.post("/api/v1/extensions", json={"number": "701", "password": "longenough"},
                    headers=auth).status_code == 409
    # Another menu is a destination like a room.
    assert api.post("/api/v1/menus", json={"number": "702", "options": {"9": "701"}}, headers=auth).status_code == 201


def test_a_menu_forwards_only_where_its_owner_may_call(api: FlaskClient, auth: dict[str, str],
                                                       client: redis.Redis) -> None:
    given(api, auth)
    outside = {"number": "700", "options": {"0": "84951234567"}}
    assert refused(api, auth, outside) == "options"  # an operator's menu: operators may not call out here
    assert refused(api, auth, {**outside, "owner": "201"}) == "options"  # 201 may not call outside
    assert refused(api, auth, {**outside, "owner": "999"}) == "owner"  # no such extension
    assert refused(api, auth, {"number": "700", "timeout_destination": "12345"}) == "timeout_destination"  # nothing
    assert refused(api, auth, {"number": "700", "closed_destination": "*8201"}) == "closed_destination"
    assert refused(api, auth, {"number": "700", "options": {"1": "201"}, "owner": "201",
                               "invalid_destination": "84950000000"}) == "invalid_destination"
    assert api.post("/api/v1/menus", json={**outside, "owner": "202"}, headers=auth).status_code == 201
    assert client.hlen(live.MENUS) == 1


def test_bad_menu_fields_are_named_and_nothing_is_written(api: FlaskClient, auth: dict[str, str],
                                                          client: redis.Redis) -> None:
    given(api, auth)
    assert refused(api, auth, {"number": "700", "options": {"1": "201", "x": "201"}}) == "options"
    assert refused(api, auth, {"number": "700", "hours": ["mon-fri 18:00-09:00"]}) == "hours"
    assert refused(api, auth, {"number": "700", "greeting_sound_id": 4242}) == "greeting_sound_id"
    assert refused(api, auth, {"name": "no number"}) == "number"
    assert client.hlen(live.MENUS) == 0
    assert api.post("/api/v1/menus", json={"number": "700"}).status_code == 401


def test_click_to_call_asks_a_live_node_on_an_operators_rights(api: FlaskClient, auth: dict[str, str],
                                                               client: redis.Redis) -> None:
    given(api, auth)

    def ask(number: str, destination: str) -> tuple[int, Any]:
        response = api.post("/api/v1/callbacks", json={"number": number, "destination": destination}, headers=auth)
        return response.status_code, response.get_json()

    assert ask("201", "5000")[0] == 503  # no bridge node lives to call
    live.heartbeat(client, NodeStatus("bridge-1", "127.0.0.1", 5080, capacity=10, load=0), ttl=30)
    status, found = ask("84951234567", "5000")
    assert status == 403 and found["error"]["field"] == "number"  # operators may not call out here
    status, found = ask("201", "12345")
    assert status == 400 and found["error"]["field"] == "destination"
    status, found = ask("201", "+5000")
    assert status == 400 and found["error"]["field"] == "destination"
    assert ask("201", "5000") == (202, {"number": "201", "destination": "5000"})
    commands: Any = client.xrange(live.COMMANDS.format("bridge-1"))
    assert [fields for _, fields in commands] == [{"op": "callback", "number": "201", "destination": "5000",
                                                   "owner": "", "per_hour": "10"}]
