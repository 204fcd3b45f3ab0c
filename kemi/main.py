"""Kamailio's entry point (app_python3 "load"): the only module that touches KSR.

Each Kamailio worker imports this in its own interpreter; the Redis client
below is that worker's connection, not shared state.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Hashable
from pathlib import Path
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import KSR  # provided by Kamailio
import redis

import settings
from conference.extensions import ExtensionSettings, TrunkSettings
from conference.placement import NodeStatus
from kemi import metrics, routes
from kemi.edge import Limits
from store import live, queue, spool, tracking


class KamailioLogHandler(logging.Handler):
    """Send Python logging to Kamailio's log, so one stream holds both."""

    def emit(self, record: logging.LogRecord) -> None:
        line = self.format(record) + "\n"
        if record.levelno >= logging.ERROR:
            KSR.err(line)
        elif record.levelno >= logging.WARNING:
            KSR.warn(line)
        else:
            KSR.info(line)


# What routing reads, each with the keys whose change makes it stale (store.tracking).
NODE_KEYS = (live.NODES, live.NODE.format(""))


class RedisLiveState:
    """routes.LiveState over store.live, remembered between requests until Redis announces a change
    (store.tracking); Redis failures become routes.LiveStateError."""

    def __init__(self, url: str) -> None:
        self._client = live.connect(url, timeout=1.0)
        self._directory = live.Directory(self._client)
        self._tracked = tracking.Tracked(self._client, (live.ROOMS, live.EXTENSIONS, live.TRUNKS, live.MENUS,
                                                        *NODE_KEYS, live.AFFINITY.format("")))

    def is_room(self, number: str) -> bool:
        return self._read(("room", number), (live.ROOMS,), self._directory.is_room, number)

    def request_callback(self, number: str, destination: str, owner: str | None, per_hour: int) -> bool:
        return self._guard(live.request_callback, self._client, number, destination, owner, per_hour)

    def is_menu(self, number: str) -> bool:
        return self._read(("menu", number), (live.MENUS,), self._directory.is_menu, number)

    def extension(self, number: str) -> ExtensionSettings | None:
        return self._read(("extension", number), (live.EXTENSIONS,), self._directory.extension, number)

    def trunks(self) -> list[TrunkSettings]:
        return self._read("trunks", (live.TRUNKS,), self._directory.trunks)

    def affinity(self, key: str) -> str | None:
        return self._read(("affinity", key), (live.AFFINITY.format(key),), live.affinity, self._client, key)

    def live_nodes(self) -> list[NodeStatus]:
        return self._read("nodes", NODE_KEYS, live.live_nodes, self._client)

    def node_registry(self) -> tuple[list[NodeStatus], set[str]]:
        # Read afresh: the sweep that ends a dead node's calls must see its key gone when its TTL
        # runs out, not when Redis's expiry cycle gets round to deleting it and tells us.
        return self._guard(live.node_registry, self._client)

    def claim_affinity(self, key: str, node_id: str, previous: str | None) -> str:
        return self._guard(live.claim_affinity, self._client, key, node_id, previous)

    def _read(self, name: Hashable, keys: tuple[str, ...], func: Any, *args: Any) -> Any:
        return self._guard(self._tracked.read, name, keys, lambda: func(*args))

    @staticmethod
    def _guard(func: Any, *args: Any) -> Any:
        try:
            return func(*args)
        except redis.RedisError as exc:
            raise routes.LiveStateError(str(exc)) from exc


def mod_init() -> kamailio:
    handler = KamailioLogHandler()
    handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
    logging.getLogger("kamconf").addHandler(handler)
    logging.getLogger("kamconf").setLevel(logging.INFO)
    config = settings.load()
    return kamailio(RedisLiveState(config.redis_url), site_of(config), config.sip.metrics_port)


def site_of(config: settings.Config) -> routes.Site:
    edge = config.edge
    return routes.Site(
        config.sip.realm, settings.read_secret(config), config.conferences.dial_in,
        limits=Limits(edge.max_message_bytes, edge.max_uri_chars, edge.auth_failures, edge.auth_ban_seconds,
                      edge.calls_per_source, edge.anonymous_per_room),
        trusted_hosts=frozenset({config.sip.address, *(node.address for node in config.bridge.all_nodes)}),
        own_addresses=frozenset({f"{config.sip.address}:{config.sip.port}",
                                 *(f"{node.address}:{node.sip_port}" for node in config.bridge.all_nodes)}),
        keepalive=edge.dialog_keepalive > 0, domain=config.sip.address,
        records=CdrSpool(config.var_path / "cdrs", config.redis_url),
    )


class CdrSpool:
    """kemi.accounting's records filed as the bridge files its own: a spool file first (none lost
    while Redis or the worker is down; the worker files what is left at its start), then a job."""

    def __init__(self, directory: Path, redis_url: str) -> None:
        self.directory, self.client = directory, live.queue_connection(redis_url)

    def __call__(self, cdr: dict[str, object]) -> None:
        spool.spool(self.directory, cdr)
        try:
            queue.enqueue_cdr(self.client, str(cdr["id"]))
        except redis.RedisError as exc:
            logging.getLogger("kamconf.kemi").error("call record %s not queued for filing (%s); the worker's next "
                                                    "start files it", cdr["id"], exc)


class kamailio:  # noqa: N801  (the class name app_python3 expects)
    def __init__(self, live_state: RedisLiveState, site: routes.Site, metrics_port: int) -> None:
        self.live, self.site, self.metrics_port = live_state, site, metrics_port

    def child_init(self, rank: int) -> int:
        return 0

    def ksr_request_route(self, msg: Any) -> int:
        if metrics.on_metrics_port(KSR, self.metrics_port):
            return 1  # dropped: HTTP only there
        metrics.request(KSR)
        return _guarded("request", routes.request_route, KSR, self.live, self.site)

    def ksr_sweep_bridges(self, msg: Any, timer: str = "") -> int:  # rtimer passes its name
        return _guarded("sweep", routes.sweep_bridges, KSR, self.live)

    def ksr_xhttp_event(self, msg: Any, event: str) -> int:
        return _guarded("metrics", metrics.http, KSR, self.metrics_port)

    def ksr_sl_reply(self, msg: Any, event: str) -> int:
        return _guarded("sl reply", metrics.local_reply, KSR)

    def ksr_onreply_media(self, msg: Any) -> int:
        return _guarded("reply", routes.reply_with_media, KSR)

    def ksr_failure_media(self, msg: Any) -> int:
        return _guarded("failure", routes.media_failure, KSR, self.site.records)

    def ksr_stray_reply(self, msg: Any, event: str = "") -> int:
        """tm's on_sl_reply: a reply to nothing Kamailio sent is dropped, not forwarded."""
        KSR.set_drop()
        return 0

    # app_python3 in Kamailio 5.6 needs these defined, or KSR calls fail.
    def ksr_reply_route(self, msg: Any) -> int:
        return _guarded("reply", metrics.reply, KSR)

    def ksr_onsend_route(self, msg: Any) -> int:
        return 1


def _guarded(where: str, route: Any, *args: Any) -> int:
    try:
        route(*args)
    except UnicodeDecodeError as exc:
        # SIP text is UTF-8 (RFC 3261 7.3.1); app_python3 cannot even hand over a header that is not,
        # so such a request is malformed, not our failure (found by tests/e2e/test_torture.py's fuzzer).
        logging.getLogger("kamconf.kemi").warning("%s route: not UTF-8 (%s) from %s", where, exc, KSR.pv.get("$si"))
        _answer(where, 400, "Bad Request (not UTF-8)")
    except Exception:  # a route must never take the worker down
        logging.getLogger("kamconf.kemi").exception("%s route failed", where)
        _answer(where, 500, "Server Internal Error")
    return 1


def _answer(where: str, code: int, reason: str) -> None:
    """Answer a request the route could not finish (never an ACK, never a reply)."""
    if where != "request" or KSR.siputils.is_request() < 0:
        return
    try:
        method = KSR.pv.get("$rm")
    except UnicodeDecodeError:
        method = None
    if method != "ACK":
        KSR.sl.sl_send_reply(code, reason)
