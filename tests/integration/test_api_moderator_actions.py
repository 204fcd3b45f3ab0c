"""A moderator's actions through the API against a real Redis and SQLite (issue 14, item 3): mute and
unmute all, pause and resume recording, a sound to one participant, whisper and stop_whisper; what
reaches the node holding the room, and what is refused before it could (4xx, never 500)."""

from __future__ import annotations

from pathlib import Path

import pytest
import redis
from flask.testing import FlaskClient

from store import live
from tests.integration.test_api_live_actions import NODE, ROOM, sent
from tests.integration.test_api_rooms import failed
from tests.integration.test_api_sounds import synth, upload

CHAIR, GUEST, LISTENER = "0123456789abcdef", "fedcba9876543210", "00000000000000aa"
NOBODY = "1111111111111111"


@pytest.fixture
def meeting(api: FlaskClient, auth: dict[str, str], client: redis.Redis) -> None:
    """A live room with a moderator, a participant and a listener on its roster."""
    assert api.post("/api/v1/rooms", json={"number": ROOM}, headers=auth).status_code == 201
    live.claim_affinity(client, ROOM, NODE, None)
    for order, (pid, role) in enumerate(((CHAIR, "admin"), (GUEST, "user"), (LISTENER, "listener"))):
        live.put_participant(client, ROOM, pid, {"id": pid, "caller": f"sip:{pid}@127.0.0.1", "role": role,
                                                 "state": "in_conference", "joined_at": 1_800_000_000.0 + order})


def test_room_wide_actions_reach_the_node(
    api: FlaskClient, auth: dict[str, str], client: redis.Redis, meeting: None
) -> None:
    ops = ("mute_all", "unmute_all", "pause_recording", "resume_recording")
    for op in ops:
        answer = api.post(f"/api/v1/rooms/{ROOM}/{op}", headers=auth)
        assert answer.status_code == 202 and answer.get_json() == {"room": ROOM, "op": op}
    assert [c["op"] for c in sent(client)] == list(ops)
    failed(api.post("/api/v1/rooms/4199/mute_all", headers=auth), 404, "not_found")


def test_a_sound_to_one_participant_names_it_and_an_existing_sound(
    api: FlaskClient, auth: dict[str, str], client: redis.Redis, meeting: None, tmp_path: Path
) -> None:
    sound = upload(api, auth, synth(tmp_path / "chime.wav", 8000, 1)).get_json()
    path = f"/api/v1/rooms/{ROOM}/participants/{GUEST}/play"
    answer = api.post(path, json={"sound_id": sound["id"]}, headers=auth)
    assert answer.status_code == 202 and answer.get_json() == {
        "room": ROOM, "participant": GUEST, "op": "play", "sound_id": sound["id"]}
    assert sent(client) == [{"op": "play", "room": ROOM, "participant": GUEST, "value": str(sound["id"])}]
    failed(api.post(path, json={"sound_id": sound["id"] + 1}, headers=auth), 400, "invalid_field", "sound_id")
    failed(api.post(path, json={}, headers=auth), 400, "missing_field", "sound_id")
    failed(api.post(f"/api/v1/rooms/{ROOM}/participants/{NOBODY}/play", json={"sound_id": sound["id"]},
                    headers=auth), 404, "not_found")
    failed(api.post(f"/api/v1/rooms/4199/participants/{GUEST}/play", json={"sound_id": sound["id"]},
                    headers=auth), 404, "not_found")
    assert len(sent(client)) == 1


def test_a_whisper_comes_from_a_moderator_in_the_room_to_someone_else_in_it(
    api: FlaskClient, auth: dict[str, str], client: redis.Redis, meeting: None
) -> None:
    path = f"/api/v1/rooms/{ROOM}/participants/{GUEST}/whisper"
    answer = api.post(path, json={"from": CHAIR}, headers=auth)
    assert answer.status_code == 202 and answer.get_json() == {
        "room": ROOM, "participant": GUEST, "op": "whisper", "from": CHAIR}
    stop = api.post(f"/api/v1/rooms/{ROOM}/participants/{GUEST}/stop_whisper", headers=auth)
    assert stop.status_code == 202
    assert [(c["op"], c["participant"], c["value"]) for c in sent(client)] == [
        ("whisper", GUEST, CHAIR), ("stop_whisper", GUEST, "")]

    failed(api.post(path, json={"from": LISTENER}, headers=auth), 400, "invalid_field", "from")  # no moderator
    failed(api.post(path, json={"from": NOBODY}, headers=auth), 400, "invalid_field", "from")
    failed(api.post(path, json={"from": GUEST}, headers=auth), 400, "invalid_field", "from")  # to itself
    failed(api.post(path, json={"from": "../x"}, headers=auth), 400, "invalid_field", "from")
    failed(api.post(path, json={}, headers=auth), 400, "missing_field", "from")
    failed(api.post(path, data="x", headers=auth), 415, "unsupported_media_type")
    failed(api.post(f"/api/v1/rooms/{ROOM}/participants/{NOBODY}/whisper", json={"from": CHAIR}, headers=auth),
           404, "not_found")
    failed(api.post(f"/api/v1/rooms/{ROOM}/participants/{NOBODY}/stop_whisper", headers=auth), 404, "not_found")
    failed(api.post(f"/api/v1/rooms/4199/participants/{GUEST}/whisper", json={"from": CHAIR}, headers=auth),
           404, "not_found")
    assert len(sent(client)) == 2


def test_a_user_whispers_in_no_numbered_room(
    api: FlaskClient, meeting: None, headers: dict[str, dict[str, str]]
) -> None:
    user_auth = headers["user"]
    failed(api.post(f"/api/v1/rooms/{ROOM}/participants/{GUEST}/whisper", json={"from": CHAIR}, headers=user_auth),
           403, "forbidden")
    failed(api.post(f"/api/v1/rooms/{ROOM}/mute_all", headers=user_auth), 403, "forbidden")
