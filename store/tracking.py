"""Reads that cost no round trip: Redis says when what was read changes.

Kamailio's workers ask Redis the same few things for every request (the trunks, an extension, whether
a number is a room, the live bridge nodes), and those change rarely. So each worker keeps what it read
and has Redis broadcast the names of changed keys under the tracked prefixes (CLIENT TRACKING in BCAST
mode, redirected to a subscriber connection of the worker's own). Before answering from memory the
worker drains that subscription without waiting: a write another process made is seen as soon as its
invalidation has reached the worker (on one host, well under a millisecond after the write). When
either connection fails, everything remembered is dropped and reads go to Redis until tracking is set
up again (tried at most once a second), so a lost invalidation can never leave a stale answer.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Hashable, Sequence
from typing import Any, TypeVar

import redis
from redis.backoff import NoBackoff
from redis.connection import ConnectionInterface
from redis.retry import Retry

log = logging.getLogger("kamconf.tracking")

T = TypeVar("T")

CHANNEL = "__redis__:invalidate"
RETRY_SECONDS = 1.0
# What an address scan can make a worker remember (a negative answer is remembered too); past it,
# everything is forgotten at once, which costs one read per entry again.
MAX_ENTRIES = 10_000


def depends(key: str, on: str) -> bool:
    """Whether a change to `key` affects what was read from `on`: a key, or a prefix ending in ':'."""
    return key == on or (on.endswith(":") and key.startswith(on))


class Tracked:
    def __init__(self, client: redis.Redis, prefixes: Sequence[str],
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._client, self._prefixes, self._clock = client, tuple(prefixes), clock
        self._entries: dict[Hashable, tuple[tuple[str, ...], Any]] = {}
        self._subscriber: ConnectionInterface | None = None
        self._tracker: ConnectionInterface | None = None
        self._pid = 0
        self._next_try = 0.0

    def read(self, name: Hashable, keys: Sequence[str], fetch: Callable[[], T]) -> T:
        """fetch()'s answer, from memory while no change to `keys` (keys, or prefixes ending in ':')
        has been announced since it was read."""
        if not self._current():
            return fetch()
        if name in self._entries:
            return self._entries[name][1]
        value = fetch()
        if len(self._entries) >= MAX_ENTRIES:
            self._entries.clear()
        self._entries[name] = (tuple(keys), value)
        return value

    @property
    def tracking(self) -> bool:
        return self._subscriber is not None

    def _current(self) -> bool:
        """Apply every announced change; False when answers cannot be kept (no tracking now)."""
        if self._pid != os.getpid():  # a fork must never share the parent's sockets
            self._subscriber = self._tracker = None
            self._entries.clear()
            self._pid = os.getpid()
        if self._subscriber is None and not self._start():
            return False
        try:
            self._drain()
        except (redis.RedisError, OSError) as exc:
            log.warning("Redis key tracking lost (%s): reading Redis until it is back", exc)
            self._stop()
            return False
        return True

    def _drain(self) -> None:
        assert self._subscriber is not None and self._tracker is not None
        if self._tracker.can_read(timeout=0):  # it is sent nothing: readable means closed
            raise redis.ConnectionError("the tracking connection was closed")
        while self._subscriber.can_read(timeout=0):
            message = self._subscriber.read_response()
            if not isinstance(message, list) or len(message) != 3 or message[0] != "message":
                continue
            changed = message[2]
            if changed is None:  # FLUSHDB / FLUSHALL
                self._entries.clear()
                continue
            self._entries = {name: entry for name, entry in self._entries.items()
                             if not any(depends(key, on) for key in changed for on in entry[0])}

    def _start(self) -> bool:
        if self._clock() < self._next_try:
            return False
        self._next_try = self._clock() + RETRY_SECONDS
        pool = self._client.connection_pool
        subscriber = tracker = None
        try:
            # RESP2: invalidations arrive as plain pub/sub messages (redis-py speaks RESP3 by default,
            # where its parser would take them as pushes and keep waiting for a reply).
            kwargs = {name: value for name, value in pool.connection_kwargs.items()
                      if not name.startswith("maint_notifications")}  # a RESP3 feature
            # One try: a Kamailio worker must never wait out a backoff for the sake of a cache.
            kwargs.update(protocol=2, retry=Retry(NoBackoff(), 0))
            subscriber, tracker = (pool.connection_class(**kwargs) for _ in range(2))
            subscriber.connect()
            subscriber.send_command("CLIENT", "ID")
            client_id = subscriber.read_response()
            subscriber.send_command("SUBSCRIBE", CHANNEL)
            subscriber.read_response()
            tracker.connect()
            prefixes = [word for prefix in self._prefixes for word in ("PREFIX", prefix)]
            tracker.send_command("CLIENT", "TRACKING", "ON", "REDIRECT", str(client_id), "BCAST", *prefixes)
            tracker.read_response()
        except (redis.RedisError, OSError) as exc:
            log.warning("Redis key tracking unavailable (%s): reading Redis", exc)
            for connection in (subscriber, tracker):
                if connection is not None:
                    connection.disconnect()
            return False
        self._subscriber, self._tracker = subscriber, tracker
        self._entries.clear()  # anything changed while untracked is unknown
        return True

    def _stop(self) -> None:
        for connection in (self._subscriber, self._tracker):
            if connection is not None:
                connection.disconnect()
        self._subscriber = self._tracker = None
        self._entries.clear()
