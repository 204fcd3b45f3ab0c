"""store.tracking against a real Redis: answers kept without a round trip, dropped on every change."""

from __future__ import annotations

from collections.abc import Callable

import redis

from stack.supervisor import wait_for
from store import live, tracking
from tests.support.redis_server import RedisServer

PREFIXES = (live.ROOMS, live.NODES, live.NODE.format(""))


def hexists_calls(client: redis.Redis) -> int:
    stats = client.info("commandstats").get("cmdstat_hexists", {})
    return int(stats.get("calls", 0))


def is_room(reader: tracking.Tracked, client: redis.Redis, number: str) -> bool:
    return reader.read(("room", number), (live.ROOMS,), lambda: bool(client.hexists(live.ROOMS, number)))


def seen(check: Callable[[], bool]) -> bool:
    """Invalidations travel apart from the write's reply: a reader sees a change shortly after."""
    return wait_for(check, 2)


def test_a_kept_answer_costs_no_round_trip_and_a_write_by_anyone_replaces_it(
    redis_srv: RedisServer, client: redis.Redis
) -> None:
    reader = tracking.Tracked(live.connect(redis_srv.url), PREFIXES)
    assert not is_room(reader, client, "100")  # a negative answer is kept too (address scans)
    before = hexists_calls(client)
    assert not any(is_room(reader, client, "100") for _ in range(50))
    assert hexists_calls(client) == before
    assert reader.tracking

    other = live.connect(redis_srv.url)
    other.hset(live.ROOMS, "100", "{}")
    assert seen(lambda: is_room(reader, client, "100"))
    other.hdel(live.ROOMS, "100")
    assert seen(lambda: not is_room(reader, client, "100"))
    other.flushdb()
    other.hset(live.ROOMS, "100", "{}")
    assert seen(lambda: is_room(reader, client, "100"))


def test_a_prefix_covers_its_keys_and_expiry_counts_as_a_change(redis_srv: RedisServer, client: redis.Redis) -> None:
    reader = tracking.Tracked(live.connect(redis_srv.url), PREFIXES)

    def node_alive() -> bool:
        return reader.read("node", (live.NODE.format(""),), lambda: client.exists(live.NODE.format("n1")) == 1)

    client.set(live.NODE.format("n1"), "{}", px=300)
    assert node_alive()
    assert seen(lambda: not node_alive())  # the key expired: Redis announced it


def test_a_lost_tracking_connection_forgets_everything_and_comes_back(
    redis_srv: RedisServer, client: redis.Redis
) -> None:
    clock = [0.0]
    reader = tracking.Tracked(live.connect(redis_srv.url), PREFIXES, clock=lambda: clock[0])
    assert not is_room(reader, client, "200")
    for kind in ("pubsub", "normal"):  # the subscriber, then the connection that asked for tracking
        for entry in client.client_list(_type=kind):
            if entry["name"] == "" and int(entry["id"]) != client.client_id():
                client.client_kill_filter(_id=entry["id"])
        client.hset(live.ROOMS, "200", "{}")  # announced to nobody: the kill came first
        assert is_room(reader, client, "200")  # read from Redis: the loss was noticed
        assert not reader.tracking
        client.hdel(live.ROOMS, "200")
        assert not is_room(reader, client, "200")
        clock[0] += tracking.RETRY_SECONDS
        assert not is_room(reader, client, "200")
        assert reader.tracking  # set up again a second later
    client.hset(live.ROOMS, "200", "{}")
    assert seen(lambda: is_room(reader, client, "200"))


def test_without_tracking_every_read_goes_to_redis() -> None:
    reader = tracking.Tracked(redis.Redis(port=1, socket_connect_timeout=0.2), PREFIXES)
    calls = iter(range(3))
    assert [reader.read("x", (live.ROOMS,), lambda: next(calls)) for _ in range(3)] == [0, 1, 2]
    assert not reader.tracking
