"""An operator's live actions that carry something (a sound to play, a number to invite) and the
recording switch, through the API against a real Redis and SQLite: what reaches the node holding the
room, and what is refused before it could (the number plan as for an operator: no toll-fraud door)."""

from __future__ import annotations

from pathlib import Path

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient

import settings
from store import live
from store.migrations import upgrade
from store.sql import make_engine, make_sessions
from store.tokens import create_token
from tests.integration.conftest import write_config
from tests.integration.test_api_rooms import failed
from tests.integration.test_api_sounds import synth, upload
from tests.support.redis_server import RedisServer
from web.app import create_app

ROOM, NODE = "4100", "node-a"
TRUNK = {"name": "carrier", "gateway": "127.0.0.1:5090", "sources": ["127.0.0.1:5090"], "prefixes": ["8"]}


@pytest.fixture
def plan(api: FlaskClient, auth: dict[str, str], client: redis.Redis) -> None:
    """A live room, an extension, an outside route."""
    for path, body in (("/api/v1/rooms", {"number": ROOM}), ("/api/v1/extensions", {"number": "201",
                       "password": "longenough"}), ("/api/v1/trunks", TRUNK)):
        assert api.post(path, json=body, headers=auth).status_code == 201
    live.claim_affinity(client, ROOM, NODE, None)


def sent(client: redis.Redis) -> list[dict[str, str]]:
    return [fields for _, fields in live.commands(client, NODE, "0-0")]


def test_recording_is_started_and_stopped_on_the_node_holding_the_room(
    api: FlaskClient, auth: dict[str, str], client: redis.Redis, plan: None
) -> None:
    for op in ("start_recording", "stop_recording"):
        answer = api.post(f"/api/v1/rooms/{ROOM}/{op}", headers=auth)
        assert answer.status_code == 202 and answer.get_json() == {"room": ROOM, "op": op}
    assert [(c["op"], c["room"]) for c in sent(client)] == [("start_recording", ROOM), ("stop_recording", ROOM)]
    failed(api.post("/api/v1/rooms/4199/start_recording", headers=auth), 404, "not_found")


def test_a_library_sound_is_played_by_its_id(
    api: FlaskClient, auth: dict[str, str], client: redis.Redis, plan: None, tmp_path: Path
) -> None:
    sound = upload(api, auth, synth(tmp_path / "chime.wav", 8000, 1)).get_json()
    answer = api.post(f"/api/v1/rooms/{ROOM}/play", json={"sound_id": sound["id"]}, headers=auth)
    assert answer.status_code == 202 and answer.get_json() == {"room": ROOM, "op": "play", "sound_id": sound["id"]}
    assert sent(client) == [{"op": "play", "room": ROOM, "participant": "", "value": str(sound["id"])}]

    failed(api.post(f"/api/v1/rooms/{ROOM}/play", json={"sound_id": sound["id"] + 1}, headers=auth),
           400, "invalid_field", "sound_id")
    failed(api.post(f"/api/v1/rooms/{ROOM}/play", json={"sound_id": "1"}, headers=auth), 400, "invalid_field",
           "sound_id")
    failed(api.post(f"/api/v1/rooms/{ROOM}/play", json={}, headers=auth), 400, "missing_field", "sound_id")
    failed(api.post(f"/api/v1/rooms/{ROOM}/play", data="1", headers=auth), 415, "unsupported_media_type")
    failed(api.post("/api/v1/rooms/4199/play", json={"sound_id": sound["id"]}, headers=auth), 404, "not_found")
    assert len(sent(client)) == 1


def test_an_operator_invites_extensions_and_rooms_but_no_outside_number(
    api: FlaskClient, auth: dict[str, str], client: redis.Redis, plan: None
) -> None:
    assert api.post("/api/v1/rooms", json={"number": "4101"}, headers=auth).status_code == 201
    for number in ("201", "4101"):
        answer = api.post(f"/api/v1/rooms/{ROOM}/invite", json={"number": number}, headers=auth)
        assert answer.status_code == 202 and answer.get_json() == {"room": ROOM, "op": "invite", "number": number}
    assert [(c["op"], c["value"]) for c in sent(client)] == [("invite", "201"), ("invite", "4101")]

    message = failed(api.post(f"/api/v1/rooms/{ROOM}/invite", json={"number": "89001234567"}, headers=auth),
                     403, "forbidden", "number")
    assert "operator_outside_calls" in message
    failed(api.post(f"/api/v1/rooms/{ROOM}/invite", json={"number": "555"}, headers=auth), 400, "invalid_field",
           "number")  # nothing answers to it
    looped = failed(api.post(f"/api/v1/rooms/{ROOM}/invite", json={"number": ROOM}, headers=auth), 400,
                    "invalid_field", "number")
    assert "back to this room" in looped  # its own audio would come back to it
    failed(api.post(f"/api/v1/rooms/{ROOM}/invite", json={"number": "201@evil"}, headers=auth), 400,
           "invalid_field", "number")
    failed(api.post(f"/api/v1/rooms/{ROOM}/invite", json={"number": "201", "as": "202"}, headers=auth), 400,
           "unknown_field", "as")
    failed(api.post("/api/v1/rooms/4199/invite", json={"number": "201"}, headers=auth), 404, "not_found")
    assert len(sent(client)) == 2  # nothing refused reached the node


def test_outside_numbers_where_the_installation_lets_operators_call_out(
    tmp_path: Path, redis_srv: RedisServer, client: redis.Redis
) -> None:
    config = settings.load(write_config(tmp_path, redis_srv.port, "[conferences]\noperator_outside_calls = true"),
                           env={})
    upgrade(make_engine(config.database_url))
    app: Flask = create_app(config)
    api = app.test_client()
    auth = {"Authorization": f"Bearer {create_token(make_sessions(make_engine(config.database_url)))}"}
    for path, body in (("/api/v1/rooms", {"number": ROOM}), ("/api/v1/trunks", TRUNK)):
        assert api.post(path, json=body, headers=auth).status_code == 201
    live.claim_affinity(client, ROOM, NODE, None)
    answer = api.post(f"/api/v1/rooms/{ROOM}/invite", json={"number": "89001234567"}, headers=auth)
    assert answer.status_code == 202
    assert [(c["op"], c["value"]) for c in sent(client)] == [("invite", "89001234567")]
