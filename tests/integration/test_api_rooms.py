"""The rooms API against real SQLite and a real Redis: CRUD, validation, auth, projection."""

from __future__ import annotations

from typing import Any

import pytest
import redis
from flask.testing import FlaskClient

from conference.rooms import pin_matches
from store import live
from tests.integration.conftest import paused
from tests.support.redis_server import RedisServer


def post(api: FlaskClient, auth: dict[str, str], body: Any) -> tuple[int, Any]:
    response = api.post("/api/v1/rooms", json=body, headers=auth)
    return response.status_code, response.get_json()


def test_create_get_list_patch_delete_keeps_redis_in_step(
    api: FlaskClient, auth: dict[str, str], client: redis.Redis
) -> None:
    status, room = post(api, auth, {"number": "1000", "name": "Weekly", "user_pin": "1234", "admin_pin": "9876"})
    assert status == 201
    assert room["has_user_pin"] and room["has_admin_pin"]
    assert "user_pin" not in room and "admin_pin" not in room
    projected = live.get_room(client, "1000")
    assert projected is not None and projected["name"] == "Weekly"
    assert pin_matches(projected["user_pin"], "1234") and not pin_matches(projected["user_pin"], "9876")
    assert "1234" not in str(projected)

    assert api.get("/api/v1/rooms/1000", headers=auth).get_json()["name"] == "Weekly"
    assert [r["number"] for r in api.get("/api/v1/rooms", headers=auth).get_json()] == ["1000"]

    patched = api.patch("/api/v1/rooms/1000", json={"record": True, "user_pin": None}, headers=auth)
    assert patched.status_code == 200
    assert patched.get_json()["record"] is True and patched.get_json()["has_user_pin"] is False
    projected = live.get_room(client, "1000")
    assert projected is not None and projected["record"] is True and projected["user_pin"] is None

    assert api.delete("/api/v1/rooms/1000", headers=auth).status_code == 204
    assert live.get_room(client, "1000") is None
    assert api.get("/api/v1/rooms/1000", headers=auth).status_code == 404


def test_defaults_of_every_field(api: FlaskClient, auth: dict[str, str]) -> None:
    _, room = post(api, auth, {"number": "1"})
    assert room == {
        "number": "1", "name": "", "language": "en", "record": False, "announce_count": True,
        "music_on_hold": True, "end_on_admin_exit": False, "mute_notifications": False, "wait_for_admin": False,
        "max_participants": 0, "greeting_sound_id": None, "has_user_pin": False, "has_admin_pin": False,
    }


@pytest.mark.parametrize(("body", "field", "error_id"), [
    ({"number": "12a"}, "number", "invalid_field"),
    ({"number": 1000}, "number", "invalid_field"),
    ({"name": "x"}, "number", "missing_field"),
    ({"number": "1", "colour": "red"}, "colour", "unknown_field"),
    ({"number": "1", "user_pin": "12ab"}, "user_pin", "invalid_field"),
    ({"number": "1", "user_pin": 1234}, "user_pin", "invalid_field"),
    ({"number": "1", "user_pin": "11", "admin_pin": "11"}, "admin_pin", "invalid_field"),
    ({"number": "1", "record": "yes"}, "record", "invalid_field"),
    ({"number": "1", "max_participants": True}, "max_participants", "invalid_field"),
    ({"number": "1", "max_participants": -1}, "max_participants", "invalid_field"),
    ({"number": "1", "language": "de"}, "language", "invalid_field"),
    ({"number": "1", "greeting_sound_id": 0}, "greeting_sound_id", "invalid_field"),
])
def test_bad_fields_are_named_and_nothing_is_written(
    api: FlaskClient, auth: dict[str, str], client: redis.Redis, body: Any, field: str, error_id: str
) -> None:
    status, error = post(api, auth, body)
    assert status == 400
    assert error["error"]["field"] == field and error["error"]["id"] == error_id
    assert api.get("/api/v1/rooms", headers=auth).get_json() == []
    assert client.hlen(live.ROOMS) == 0


def test_duplicate_number_is_409(api: FlaskClient, auth: dict[str, str]) -> None:
    assert post(api, auth, {"number": "5"})[0] == 201
    status, error = post(api, auth, {"number": "5", "name": "again"})
    assert status == 409 and error["error"] == {"id": "duplicate", "message": error["error"]["message"],
                                                  "field": "number"}
    assert api.get("/api/v1/rooms/5", headers=auth).get_json()["name"] == ""


def test_patch_rules(api: FlaskClient, auth: dict[str, str]) -> None:
    post(api, auth, {"number": "7", "admin_pin": "55"})
    renumber = api.patch("/api/v1/rooms/7", json={"number": "8"}, headers=auth)
    assert renumber.status_code == 400 and renumber.get_json()["error"]["id"] == "immutable_field"
    same_as_admin = api.patch("/api/v1/rooms/7", json={"user_pin": "55"}, headers=auth)
    assert same_as_admin.status_code == 400 and same_as_admin.get_json()["error"]["field"] == "user_pin"
    assert api.patch("/api/v1/rooms/9", json={"name": "x"}, headers=auth).status_code == 404


def test_bodies_that_are_not_json_objects(api: FlaskClient, auth: dict[str, str]) -> None:
    not_json = api.post("/api/v1/rooms", data="number=1", headers=auth)
    assert not_json.status_code == 415 and not_json.get_json()["error"]["id"] == "unsupported_media_type"
    broken = api.post("/api/v1/rooms", data="{", headers={**auth, "Content-Type": "application/json"})
    assert broken.status_code == 400 and broken.get_json()["error"]["id"] == "bad_request"
    array = api.post("/api/v1/rooms", json=[1], headers=auth)
    assert array.status_code == 400


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer wrong", "Basic abc"])
def test_every_route_needs_a_valid_token(api: FlaskClient, header: str | None) -> None:
    headers = {} if header is None else {"Authorization": header}
    for method, path in [("get", "/api/v1/rooms"), ("post", "/api/v1/rooms"), ("get", "/api/v1/rooms/1"),
                         ("patch", "/api/v1/rooms/1"), ("delete", "/api/v1/rooms/1")]:
        response = getattr(api, method)(path, json={"number": "1"}, headers=headers)
        assert response.status_code == 401, (method, path)
        assert response.get_json()["error"]["id"] == "unauthorized"


def test_unknown_paths_and_methods_answer_json(api: FlaskClient, auth: dict[str, str]) -> None:
    assert api.get("/api/v1/nothing", headers=auth).get_json()["error"]["id"] == "not_found"
    wrong = api.put("/api/v1/rooms", headers=auth)
    assert wrong.status_code == 405 and "error" in wrong.get_json()


def test_redis_down_means_503_and_sql_unchanged(
    api: FlaskClient, auth: dict[str, str], redis_srv: RedisServer, client: redis.Redis
) -> None:
    post(api, auth, {"number": "20", "name": "before"})
    with paused(redis_srv):
        created = api.post("/api/v1/rooms", json={"number": "21"}, headers=auth)
        changed = api.patch("/api/v1/rooms/20", json={"name": "after"}, headers=auth)
        deleted = api.delete("/api/v1/rooms/20", headers=auth)
        health = api.get("/healthz")
    for response in (created, changed, deleted, health):
        assert response.status_code == 503 and response.get_json()["error"]["id"] == "unavailable"
    rooms = api.get("/api/v1/rooms", headers=auth).get_json()
    assert [(r["number"], r["name"]) for r in rooms] == [("20", "before")]
    projected = live.get_room(client, "20")
    assert projected is not None and projected["name"] == "before"


def test_openapi_describes_every_route(api: FlaskClient) -> None:
    doc = api.get("/api/v1/openapi.json").get_json()
    assert doc["openapi"].startswith("3.1")
    assert set(doc["paths"]["/rooms"]) == {"get", "post"}
    assert {"get", "patch", "delete"} <= set(doc["paths"]["/rooms/{number}"])
    assert set(doc["components"]["schemas"]["RoomCreate"]["properties"]) == {
        "number", "name", "language", "user_pin", "admin_pin", "record", "announce_count", "music_on_hold",
        "end_on_admin_exit", "mute_notifications", "wait_for_admin", "max_participants", "greeting_sound_id"}


def test_health(api: FlaskClient) -> None:
    assert api.get("/healthz").get_json() == {"status": "ok"}
