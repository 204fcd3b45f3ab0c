"""Rooms nobody configured (an extension's *8 conference, a "#" call, a scheduled conference's room)
through /api/v1/rooms/{name}/participants and its per-participant actions, against a real Redis and
SQLite: an operator reaches any live one; a user sees the rooms its extension is in and acts in its
own *8 conference and its "#" calls only; what it may not see answers 403 whether it exists or not."""

from __future__ import annotations

from typing import Any

import redis
from flask.testing import FlaskClient

from conference import address
from store import live
from tests.integration.test_api_rooms import failed

NODE = "node-a"
MINE, THEIRS = str(address.local("2001")), str(address.local("2002"))  # the user is extension 2001
CALL = str(address.call("a-call-id@example.com"))


def someone(client: redis.Redis, room: str, participant: str, extension: str | None, state: str = "in_conference",
            joined_at: float | None = 1.0) -> None:
    live.put_participant(client, room, participant, {"id": participant, "caller": f"sip:{extension or 'x'}@kamconf",
                                                     "extension": extension, "role": "user", "state": state,
                                                     "joined_at": joined_at})
    live.claim_affinity(client, room, NODE, None)


def sent(client: redis.Redis) -> list[tuple[str, str, str]]:
    return [(c["op"], c["room"], c["participant"]) for _, c in live.commands(client, NODE, "0-0")]


def roster(api: FlaskClient, room: str, who: dict[str, str]) -> Any:
    return api.get(f"/api/v1/rooms/{room}/participants", headers=who)


def test_an_operator_reads_and_acts_in_any_live_room_by_its_name(
    api: FlaskClient, client: redis.Redis, headers: dict[str, dict[str, str]]
) -> None:
    operator = headers["operator"]
    for room in (MINE, CALL, "conf-123456"):
        failed(roster(api, room, operator), 404, "not_found")  # nobody in it: no such room now
    someone(client, CALL, "p1", "2002")
    someone(client, CALL, "p2", None, state="ringing", joined_at=None)  # the number it calls
    assert [(p["id"], p["state"]) for p in roster(api, CALL, operator).get_json()] == [("p1", "in_conference"),
                                                                                     ("p2", "ringing")]
    assert api.post(f"/api/v1/rooms/{CALL}/participants/p2/drop", headers=operator).status_code == 202
    failed(api.post(f"/api/v1/rooms/{CALL}/participants/p1/mute", headers=operator), 409, "conflict")
    someone(client, THEIRS, "p3", "2002")
    assert api.post(f"/api/v1/rooms/{THEIRS}/participants/p3/mute", headers=operator).status_code == 202
    assert sent(client) == [("drop", CALL, "p2"), ("mute", THEIRS, "p3")]
    for bad in ("dial-in", "conf-12x", "call-xyz", "*8" + "1" * 40, "%2A8abc"):
        failed(roster(api, bad, operator), 404, "not_found")


def test_a_user_sees_only_rooms_its_extension_is_in(
    api: FlaskClient, auth: dict[str, str], client: redis.Redis, headers: dict[str, dict[str, str]]
) -> None:
    user = headers["user"]
    failed(roster(api, MINE, user), 404, "not_found")  # its own *8 conference: nobody in it now
    for room in (THEIRS, CALL, "conf-123456", "dial-in", "4100"):
        failed(roster(api, room, user), 403, "forbidden")  # not its own, and nothing tells which exist
    someone(client, THEIRS, "p1", "2002")
    failed(roster(api, THEIRS, user), 403, "forbidden")
    someone(client, THEIRS, "p2", "2001")  # invited by *8: now it is in
    assert [p["id"] for p in roster(api, THEIRS, user).get_json()] == ["p1", "p2"]
    assert api.post("/api/v1/rooms", json={"number": "4100"}, headers=auth).status_code == 201
    someone(client, "4100", "p3", "2001")
    assert [p["id"] for p in roster(api, "4100", user).get_json()] == ["p3"]  # a numbered room it is in
    live.remove_participant(client, THEIRS, "p2")
    failed(roster(api, THEIRS, user), 403, "forbidden")  # left: no longer


def test_a_user_acts_in_its_own_star_8_conference_and_its_hash_calls_only(
    api: FlaskClient, client: redis.Redis, headers: dict[str, dict[str, str]]
) -> None:
    user = headers["user"]
    someone(client, MINE, "p1", "2001")
    someone(client, MINE, "p2", None, state="ringing", joined_at=None)
    for op in ("mute", "unmute", "drop"):
        assert api.post(f"/api/v1/rooms/{MINE}/participants/p2/{op}", headers=user).status_code == 202
    someone(client, THEIRS, "p3", "2001")
    someone(client, THEIRS, "p4", "2003")
    failed(api.post(f"/api/v1/rooms/{THEIRS}/participants/p4/mute", headers=user), 403, "forbidden")  # in, not its
    someone(client, "4100", "p5", "2001")
    failed(api.post("/api/v1/rooms/4100/participants/p5/drop", headers=user), 403, "forbidden")  # a numbered room
    failed(api.post(f"/api/v1/rooms/{CALL}/participants/p6/drop", headers=user), 403, "forbidden")  # not in it
    someone(client, CALL, "p6", "2001")
    someone(client, CALL, "p7", None)
    assert api.post(f"/api/v1/rooms/{CALL}/participants/p7/drop", headers=user).status_code == 202
    failed(api.post(f"/api/v1/rooms/{CALL}/participants/p7/mute", headers=user), 409, "conflict")
    assert sent(client) == [("mute", MINE, "p2"), ("unmute", MINE, "p2"), ("drop", MINE, "p2"), ("drop", CALL, "p7")]
    failed(api.post(f"/api/v1/rooms/{CALL}/lock", headers=user), 403, "forbidden")  # room actions: operators'


def test_live_rooms_list_what_each_caller_may_see(
    api: FlaskClient, client: redis.Redis, headers: dict[str, dict[str, str]]
) -> None:
    assert api.get("/api/v1/live-rooms", headers=headers["user"]).get_json() == []
    someone(client, CALL, "p1", "2001")  # the user's "#" call
    someone(client, CALL, "p2", None, state="ringing", joined_at=None)
    someone(client, THEIRS, "p3", "2002")  # another's *8 conference
    live.put_participant(client, "dial-in", "p4", {"id": "p4", "caller": "x"})  # never listed
    mine = api.get("/api/v1/live-rooms", headers=headers["user"]).get_json()
    assert [(r["room"], r["kind"], [p["id"] for p in r["participants"]]) for r in mine] == [
        (CALL, "call", ["p1", "p2"])]
    everything = api.get("/api/v1/live-rooms", headers=headers["operator"]).get_json()
    assert [r["room"] for r in everything] == sorted([CALL, THEIRS])
