"""The rooms API against a real SQLite file and a real redis-server: CRUD, the
Redis projection after every change, validation, auth, errors, Redis failures,
OpenAPI, bootstrap, the token command and gunicorn."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import redis
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.test import TestResponse

import settings
from conference.fields import FieldError
from conference.rooms import RoomSettings, pin_matches, validate_create, validate_patch
from store import bootstrap, live
from store.migrations import upgrade
from store.projected import ConflictError
from store.rooms import RoomRepository
from store.sql import Base, StoreUnavailableError, make_engine, make_sessions
from tests.integration.conftest import write_config
from tests.support.ports import free_port
from tests.support.redis_server import RedisServer
from web.app import create_app
from web.errors import ERROR_IDS
from web.services import services

BOTH_DATABASES = True  # each test on SQLite and on PostgreSQL (tests/integration/conftest.py)

ROOT = Path(__file__).resolve().parents[2]
JSON = {"Content-Type": "application/json"}


def failed(response: TestResponse, status: int, error_id: str, field: str | None = None) -> str:
    """Check the one error shape; the message."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    error = response.get_json()["error"]
    assert error["id"] == error_id and error["id"] in ERROR_IDS
    assert error.get("field") == field and set(error) <= {"id", "message", "field"}
    assert isinstance(error["message"], str) and error["message"]
    return str(error["message"])


def rooms_in(api: FlaskClient, auth: dict[str, str]) -> list[tuple[str, str]]:
    return [(room["number"], room["name"]) for room in api.get("/api/v1/rooms", headers=auth).get_json()]


def projected(client: redis.Redis) -> dict[str, dict[str, Any]]:
    return {str(number): json.loads(raw) for number, raw in client.hgetall(live.ROOMS).items()}


def in_sql(app: Flask) -> dict[str, dict[str, Any]]:
    with app.app_context():
        return {room.number: room.as_dict() for room in services().rooms.list()}


# CRUD and the projection ----------------------------------------------------------


def test_create_read_patch_delete_keep_the_projection_equal_to_sql(
    app: Flask, api: FlaskClient, auth: dict[str, str], client: redis.Redis
) -> None:
    created = api.post("/api/v1/rooms", json={"number": "1000", "name": "Weekly", "user_pin": "1234",
                                              "admin_pin": "9876", "max_participants": 20}, headers=auth)
    assert created.status_code == 201 and created.headers["Location"] == "/api/v1/rooms/1000"
    room = created.get_json()
    assert room["has_user_pin"] is True and room["has_admin_pin"] is True
    assert not {"user_pin", "admin_pin"} & set(room)
    assert projected(client) == in_sql(app) and len(in_sql(app)) == 1
    entry = projected(client)["1000"]
    assert (entry["name"], entry["max_participants"], entry["record"]) == ("Weekly", 20, False)
    assert pin_matches(entry["user_pin"], "1234") and pin_matches(entry["admin_pin"], "9876")
    assert "1234" not in json.dumps(entry) and "9876" not in json.dumps(entry)

    assert api.get("/api/v1/rooms/1000", headers=auth).get_json() == room
    patched = api.patch("/api/v1/rooms/1000", json={"record": True, "user_pin": None}, headers=auth)
    assert patched.status_code == 200
    assert patched.get_json() == {**room, "record": True, "has_user_pin": False}
    assert projected(client) == in_sql(app)
    entry = projected(client)["1000"]
    assert entry["record"] is True and entry["user_pin"] is None and pin_matches(entry["admin_pin"], "9876")

    deleted = api.delete("/api/v1/rooms/1000", headers=auth)
    assert deleted.status_code == 204 and deleted.get_data() == b""
    assert projected(client) == in_sql(app) == {}
    failed(api.get("/api/v1/rooms/1000", headers=auth), 404, "not_found")
    failed(api.delete("/api/v1/rooms/1000", headers=auth), 404, "not_found")
    failed(api.patch("/api/v1/rooms/1000", json={"name": "x"}, headers=auth), 404, "not_found")


def test_defaults_of_every_field(api: FlaskClient, auth: dict[str, str], client: redis.Redis) -> None:
    room = api.post("/api/v1/rooms", json={"number": "1"}, headers=auth).get_json()
    assert room == {
        "number": "1", "name": "", "language": "en", "record": False, "announce_count": True,
        "music_on_hold": True, "end_on_admin_exit": False, "mute_notifications": False, "wait_for_admin": False,
        "max_participants": 0, "greeting_sound_id": None, "has_user_pin": False, "has_admin_pin": False,
        "user_pins_count": 0, "admin_pins_count": 0, "listener_pins_count": 0, "listen_only": False,
        "users_join_muted": False, "admins_join_muted": False, "start_muted_at": 0, "lobby": False,
        "music_sound_id": None, "record_tracks": False,
    }
    assert projected(client)["1"] == RoomSettings("1").as_dict()


def test_pin_lists_are_stored_hashed_counted_and_never_shown(api: FlaskClient, auth: dict[str, str],
                                                             client: redis.Redis, app: Flask) -> None:
    created = api.post("/api/v1/rooms", json={"number": "2", "user_pin": "1111", "user_pins": ["2222", "3333"],
                                              "listener_pins": ["4444"], "listen_only": True,
                                              "start_muted_at": 20}, headers=auth)
    room = created.get_json()
    assert created.status_code == 201, room
    assert (room["user_pins_count"], room["admin_pins_count"], room["listener_pins_count"]) == (2, 0, 1)
    assert "2222" not in json.dumps(projected(client)) and projected(client) == in_sql(app)
    failed(api.patch("/api/v1/rooms/2", json={"admin_pins": ["3333"]}, headers=auth), 400, "invalid_field",
           "admin_pins")
    patched = api.patch("/api/v1/rooms/2", json={"user_pins": [], "admin_pins": ["3333"]}, headers=auth)
    assert (patched.get_json()["user_pins_count"], patched.get_json()["admin_pins_count"]) == (0, 1)
    assert projected(client) == in_sql(app)


def test_the_list_puts_9_before_10(api: FlaskClient, auth: dict[str, str]) -> None:
    for number in ("10", "9", "100", "0"):
        api.post("/api/v1/rooms", json={"number": number}, headers=auth)
    assert [n for n, _ in rooms_in(api, auth)] == ["0", "9", "10", "100"]


# Validation ------------------------------------------------------------------------


@pytest.mark.parametrize(("body", "error_id", "field"), [
    ({"number": "12a"}, "invalid_field", "number"),
    ({"number": 1000}, "invalid_field", "number"),
    ({"name": "x"}, "missing_field", "number"),
    ({"number": "1", "colour": "red"}, "unknown_field", "colour"),
    ({"number": "1", "user_pin": "12ab"}, "invalid_field", "user_pin"),
    ({"number": "1", "admin_pin": 1234}, "invalid_field", "admin_pin"),
    ({"number": "1", "user_pin": "1111", "admin_pin": "1111"}, "invalid_field", "admin_pin"),
    ({"number": "1", "user_pin": "111"}, "invalid_field", "user_pin"),
    ({"number": "1", "record": "yes"}, "invalid_field", "record"),
    ({"number": "1", "wait_for_admin": 1}, "invalid_field", "wait_for_admin"),
    ({"number": "1", "max_participants": True}, "invalid_field", "max_participants"),
    ({"number": "1", "max_participants": "5"}, "invalid_field", "max_participants"),
    ({"number": "1", "language": "de"}, "invalid_field", "language"),
    ({"number": "1", "name": "a\u0000b"}, "invalid_field", "name"),
    ({"number": "1", "greeting_sound_id": 2**31}, "invalid_field", "greeting_sound_id"),
    ([{"number": "1"}], "bad_request", None),
    (None, "bad_request", None),
])
def test_a_refused_create_names_the_field_and_writes_nothing(
    api: FlaskClient, auth: dict[str, str], client: redis.Redis, body: Any, error_id: str, field: str | None
) -> None:
    response = api.post("/api/v1/rooms", data=json.dumps(body), headers={**auth, **JSON})
    failed(response, 400, error_id, field)
    assert rooms_in(api, auth) == [] and projected(client) == {}


def test_a_refused_patch_changes_nothing(api: FlaskClient, auth: dict[str, str], client: redis.Redis) -> None:
    api.post("/api/v1/rooms", json={"number": "7", "name": "seven", "admin_pin": "5555"}, headers=auth)
    before = projected(client)
    failed(api.patch("/api/v1/rooms/7", json={"number": "8"}, headers=auth), 400, "immutable_field", "number")
    failed(api.patch("/api/v1/rooms/7", json={"user_pin": "5555"}, headers=auth), 400, "invalid_field", "user_pin")
    failed(api.patch("/api/v1/rooms/7", json={"name": "x", "record": 0}, headers=auth), 400, "invalid_field",
           "record")
    failed(api.patch("/api/v1/rooms/7", json={"pin": "1"}, headers=auth), 400, "unknown_field", "pin")
    assert rooms_in(api, auth) == [("7", "seven")] and projected(client) == before


def test_a_taken_number_is_409_and_keeps_the_first_room(
    api: FlaskClient, auth: dict[str, str], client: redis.Redis
) -> None:
    assert api.post("/api/v1/rooms", json={"number": "5"}, headers=auth).status_code == 201
    failed(api.post("/api/v1/rooms", json={"number": "5", "name": "again"}, headers=auth), 409, "duplicate", "number")
    assert rooms_in(api, auth) == [("5", "")] and projected(client)["5"]["name"] == ""


def test_bodies_that_are_not_json(api: FlaskClient, auth: dict[str, str], client: redis.Redis) -> None:
    failed(api.post("/api/v1/rooms", data="number=1", headers=auth), 415, "unsupported_media_type")
    failed(api.post("/api/v1/rooms", data='{"number": "1"}', headers={**auth, "Content-Type": "text/plain"}),
           415, "unsupported_media_type")
    failed(api.post("/api/v1/rooms", data="{", headers={**auth, **JSON}), 400, "bad_request")
    failed(api.post("/api/v1/rooms", data="", headers={**auth, **JSON}), 400, "bad_request")
    failed(api.post("/api/v1/rooms", data=b'{"number": "\xff"}', headers={**auth, **JSON}), 400, "bad_request")
    huge = json.dumps({"number": "1", "name": "x" * 70000})
    failed(api.post("/api/v1/rooms", data=huge, headers={**auth, **JSON}), 413, "too_large")
    api.post("/api/v1/rooms", json={"number": "1"}, headers=auth)
    failed(api.patch("/api/v1/rooms/1", data="name=x", headers=auth), 415, "unsupported_media_type")
    assert rooms_in(api, auth) == [("1", "")] and list(projected(client)) == ["1"]


# Auth and errors ------------------------------------------------------------------


@pytest.mark.parametrize("header", [None, "", "Bearer", "Bearer ", "Bearer wrong", "Basic abc", "Token x"])
def test_every_api_path_needs_a_known_token(api: FlaskClient, header: str | None) -> None:
    headers = {} if header is None else {"Authorization": header}
    for method, path in [("get", "/api/v1/rooms"), ("post", "/api/v1/rooms"), ("get", "/api/v1/rooms/1"),
                         ("patch", "/api/v1/rooms/1"), ("delete", "/api/v1/rooms/1"),
                         ("get", "/api/v1/nothing"), ("put", "/api/v1/rooms")]:
        response = getattr(api, method)(path, json={"number": "1"}, headers=headers)
        failed(response, 401, "unauthorized")
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_token_works_with_any_case_of_bearer(api: FlaskClient, auth: dict[str, str]) -> None:
    token = auth["Authorization"].split(" ", 1)[1]
    assert api.get("/api/v1/rooms", headers={"Authorization": f"bearer  {token}"}).status_code == 200


def test_unknown_paths_and_methods_answer_json(api: FlaskClient, auth: dict[str, str]) -> None:
    failed(api.get("/api/v1/nothing", headers=auth), 404, "not_found")
    failed(api.get("/nothing"), 404, "not_found")
    assert api.get("/api//v1/rooms", headers=auth).status_code == 308  # routing's own redirect is kept
    wrong = api.put("/api/v1/rooms", headers=auth)
    failed(wrong, 405, "method_not_allowed")
    assert set(wrong.headers["Allow"].replace(" ", "").split(",")) >= {"GET", "POST"}


def test_an_unexpected_failure_is_a_json_500(app: Flask, api: FlaskClient, auth: dict[str, str],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    with app.app_context():
        monkeypatch.setattr(services().rooms, "list", lambda: 1 / 0)
    failed(api.get("/api/v1/rooms", headers=auth), 500, "internal_error")


# Failing stores ---------------------------------------------------------------------


def test_redis_refusing_means_503_and_sql_unchanged(
    config: settings.Config, app: Flask, auth: dict[str, str], client: redis.Redis
) -> None:
    api = app.test_client()
    api.post("/api/v1/rooms", json={"number": "20", "name": "before"}, headers=auth)
    same_database = f'[web]\ndatabase_url = "{config.web.database_url}"'
    elsewhere = write_config(config.var_path / "down", free_port(), same_database, var_dir=config.var_path)
    down = create_app(settings.load(elsewhere, env={})).test_client()
    failed(down.post("/api/v1/rooms", json={"number": "21"}, headers=auth), 503, "unavailable")
    failed(down.patch("/api/v1/rooms/20", json={"name": "after"}, headers=auth), 503, "unavailable")
    failed(down.delete("/api/v1/rooms/20", headers=auth), 503, "unavailable")
    failed(down.get("/healthz"), 503, "unavailable")
    assert rooms_in(down, auth) == [("20", "before")]  # reads need SQL only
    assert projected(client) == in_sql(app)


def test_a_hung_redis_means_503_and_the_projection_ends_equal_to_sql(
    app: Flask, api: FlaskClient, auth: dict[str, str], redis_srv: RedisServer, client: redis.Redis
) -> None:
    api.post("/api/v1/rooms", json={"number": "20", "name": "before"}, headers=auth)
    with redis_srv.paused():
        changed = api.patch("/api/v1/rooms/20", json={"name": "after"}, headers=auth)
        created = api.post("/api/v1/rooms", json={"number": "21"}, headers=auth)
        deleted = api.delete("/api/v1/rooms/20", headers=auth)
        health = api.get("/healthz")
    for response in (changed, created, deleted, health):
        failed(response, 503, "unavailable")
    assert rooms_in(api, auth) == [("20", "before")]
    # The timed-out write was still queued in Redis and lands once it resumes; the
    # next request that finds Redis answering puts the projection back.
    assert wait_until(lambda: projected(client).get("20", {}).get("name") == "after")
    assert api.get("/healthz").status_code == 200
    assert projected(client) == in_sql(app) and in_sql(app)["20"]["name"] == "before"


def wait_until(condition: Any, timeout: float = 3.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return bool(condition())


class FailingCommit(Session):
    def commit(self) -> None:
        raise OperationalError("COMMIT", {}, Exception("disk I/O error"))


def test_a_failed_commit_takes_the_change_back_out_of_redis(
    config: settings.Config, app: Flask, client: redis.Redis
) -> None:
    engine = make_engine(config.database_url)
    good = RoomRepository(make_sessions(engine), client)
    good.create(validate_create({"number": "30", "name": "kept"}))
    broken = RoomRepository(sessionmaker(engine, class_=FailingCommit, expire_on_commit=False), client)
    with pytest.raises(StoreUnavailableError):
        broken.create(validate_create({"number": "31"}))
    with pytest.raises(StoreUnavailableError):
        broken.update("30", lambda room: validate_patch(room, {"name": "lost"}))
    with pytest.raises(StoreUnavailableError):
        broken.delete("30")
    assert [(r.number, r.name) for r in good.list()] == [("30", "kept")]
    assert projected(client) == in_sql(app)


def test_concurrent_changes_of_one_room_are_both_kept(
    config: settings.Config, app: Flask, client: redis.Redis
) -> None:
    sessions = make_sessions(make_engine(config.database_url))
    mine, theirs = RoomRepository(sessions, client), RoomRepository(sessions, client)
    mine.create(validate_create({"number": "40"}))
    calls = []

    def record_on(room: RoomSettings) -> RoomSettings:
        calls.append(room)
        if len(calls) == 1:  # another writer commits between our read and our write
            theirs.update("40", lambda other: validate_patch(other, {"name": "theirs"}))
        return validate_patch(room, {"record": True})

    result = mine.update("40", record_on)
    assert len(calls) == 2 and (result.name, result.record) == ("theirs", True)
    assert (mine.get("40").name, mine.get("40").record) == ("theirs", True)
    assert (projected(client)["40"]["name"], projected(client)["40"]["record"]) == ("theirs", True)

    def always_overtaken(room: RoomSettings) -> RoomSettings:
        theirs.update("40", lambda other: validate_patch(other, {"max_participants": other.max_participants + 1}))
        return validate_patch(room, {"name": "never"})

    with pytest.raises(ConflictError):
        mine.update("40", always_overtaken)
    assert mine.get("40").name == "theirs" and projected(client)["40"]["name"] == "theirs"
    with pytest.raises(FieldError):
        mine.update("40", lambda room: validate_patch(room, {"record": "no"}))


# Health, OpenAPI, schema -------------------------------------------------------------


def test_health(api: FlaskClient) -> None:
    response = api.get("/healthz")
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}


def test_health_refuses_a_database_that_is_not_migrated(config: settings.Config, client: redis.Redis) -> None:
    message = failed(create_app(config).test_client().get("/healthz"), 503, "unavailable")
    assert "store.bootstrap" in message


def test_the_migrations_build_exactly_the_models(config: settings.Config) -> None:
    engine = make_engine(config.database_url)
    upgrade(engine)
    upgrade(engine)  # idempotent
    with engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []


def test_openapi_describes_every_route_and_shape(app: Flask, api: FlaskClient, auth: dict[str, str]) -> None:
    doc = api.get("/api/v1/openapi.json").get_json()  # no token needed
    assert doc["openapi"] == "3.1.0"
    described = set()
    for path, item in doc["paths"].items():
        prefix = item.get("servers", doc["servers"])[0]["url"].rstrip("/")
        described |= {(prefix + path, method.upper()) for method in item if method in ("get", "post", "patch",
                                                                                      "delete", "put")}
    served = {(re.sub(r"<(\w+)>", r"{\1}", rule.rule), method) for rule in app.url_map.iter_rules()
              if not rule.endpoint.startswith("panel.")  # the panel's pages are HTML, not the API
              for method in rule.methods or () if method not in ("HEAD", "OPTIONS")}
    assert described == served
    assert set(doc["components"]["schemas"]["Error"]["properties"]["error"]["properties"]["id"]["enum"]) == set(
        ERROR_IDS)
    for ref in re.findall(r'"\$ref": "#/([^"]+)"', json.dumps(doc)):
        node = doc
        for part in ref.split("/"):
            node = node[part]
    room = api.post("/api/v1/rooms", json={"number": "1"}, headers=auth).get_json()
    schema = doc["components"]["schemas"]["Room"]
    assert set(room) == set(schema["properties"]) == set(schema["required"])
    kinds = {"string": str, "boolean": bool, "integer": int, "null": type(None)}
    for name, value in room.items():
        allowed = schema["properties"][name]["type"]
        assert any(isinstance(value, kinds[k]) for k in ([allowed] if isinstance(allowed, str) else allowed))


# Bootstrap, the token command, gunicorn ---------------------------------------------


def run(module: str, config_file: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "KAMCONF_CONFIG": str(config_file), "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", module], env=env, capture_output=True, text=True, timeout=60)


def test_bootstrap_migrates_and_rebuilds_the_projection(
    config: settings.Config, client: redis.Redis, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("KAMCONF_CONFIG", str(config.var_path / "kamconf.toml"))
    assert bootstrap.main() == 0  # a new database: migrated, nothing to project
    repository = RoomRepository(make_sessions(make_engine(config.database_url)), client)
    repository.create(validate_create({"number": "42", "name": "kept", "user_pin": "4242"}))
    client.delete(live.ROOMS)  # Redis restarted without its data
    live.put_entry(client, live.ROOMS, "stale", {"number": "stale"})
    for _ in range(2):  # idempotent
        assert bootstrap.main() == 0
        assert list(projected(client)) == ["42"]
        assert RoomSettings.from_dict(projected(client)["42"]) == repository.get("42")
        assert pin_matches(projected(client)["42"]["user_pin"], "4242")
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == ("bootstrap: schema up to date; 1 room(s) projected into Redis; 0 recording(s) and "
                       "0 call record(s) filed")


def test_bootstrap_says_in_one_line_what_is_unreachable(tmp_path: Path, redis_srv: RedisServer) -> None:
    no_redis = run("store.bootstrap", write_config(tmp_path / "a", free_port()))
    assert no_redis.returncode == 1 and no_redis.stdout == ""
    assert re.fullmatch(r"bootstrap: redis redis://127\.0\.0\.1:\d+/0 unreachable: .+\n", no_redis.stderr)
    url = f"postgresql+psycopg://kamconf:s3cret@127.0.0.1:{free_port()}/kamconf"
    no_db = run("store.bootstrap", write_config(tmp_path / "b", redis_srv.port, f'[web]\ndatabase_url = "{url}"'))
    assert no_db.returncode == 1 and no_db.stdout == "" and "s3cret" not in no_db.stderr
    assert re.fullmatch(r"bootstrap: database postgresql\+psycopg://kamconf:\*\*\*@\S+ unreachable: .+\n",
                        no_db.stderr)


def test_token_prints_one_working_token_and_nothing_else(config: settings.Config, client: redis.Redis) -> None:
    config_file = config.var_path / "kamconf.toml"
    first, second = run("web.token", config_file), run("web.token", config_file)  # migrates a new DB once
    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}\n", first.stdout) and first.stdout != second.stdout
    api = create_app(config).test_client()
    for token in (first.stdout.strip(), second.stdout.strip()):
        assert api.get("/api/v1/rooms", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_gunicorn_serves_the_app_from_kamconf_config(config: settings.Config, client: redis.Redis) -> None:
    config_file = config.var_path / "kamconf.toml"
    assert run("store.bootstrap", config_file).returncode == 0
    token = run("web.token", config_file).stdout.strip()
    port = free_port()
    env = {**os.environ, "KAMCONF_CONFIG": str(config_file), "PYTHONPATH": str(ROOT)}
    gunicorn = Path(sys.executable).parent / "gunicorn"
    server = subprocess.Popen([str(gunicorn), "--bind", f"127.0.0.1:{port}", "--workers", "2", "web.app:create_app()"],
                              env=env, cwd=config.var_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        base = f"http://127.0.0.1:{port}"
        assert wait_until(lambda: http(f"{base}/healthz")[0] == 200, timeout=15), server.stderr
        status, body = http(f"{base}/api/v1/rooms", {"number": "77"}, token)
        assert status == 201 and body["number"] == "77"
        assert projected(client)["77"]["number"] == "77"
        assert http(f"{base}/api/v1/rooms", {"number": "77"}, token)[0] == 409
    finally:
        server.terminate()
        server.wait(10)


def http(url: str, body: Any = None, token: str | None = None) -> tuple[int, Any]:
    headers = {"Content-Type": "application/json"} | ({"Authorization": f"Bearer {token}"} if token else {})
    data = None if body is None else json.dumps(body).encode()
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data, headers), timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())
    except OSError:
        return 0, None
