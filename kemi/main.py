"""Kamailio's entry point (app_python3 "load"): the only module that touches KSR.

Each Kamailio worker imports this in its own interpreter; the Redis client
below is that worker's connection, not shared state.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import KSR  # provided by Kamailio
import redis

from conference.placement import NodeStatus
from kemi import routes
from stack import config as stack_config
from store import live


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


class RedisLiveState:
    """routes.LiveState over store.live; Redis failures become routes.LiveStateError."""

    def __init__(self, url: str) -> None:
        self._client = live.connect(url, timeout=0.3)

    def room_and_affinity(self, number: str) -> tuple[dict[str, Any] | None, str | None]:
        return self._guard(live.room_and_affinity, number)

    def live_nodes(self) -> list[NodeStatus]:
        return self._guard(live.live_nodes)

    def claim_affinity(self, number: str, node_id: str, previous: str | None) -> str:
        return self._guard(live.claim_affinity, number, node_id, previous)

    def _guard(self, func: Any, *args: Any) -> Any:
        try:
            return func(self._client, *args)
        except redis.RedisError as exc:
            raise routes.LiveStateError(str(exc)) from exc


def mod_init() -> kamailio:
    handler = KamailioLogHandler()
    handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
    logging.getLogger("kamconf").addHandler(handler)
    logging.getLogger("kamconf").setLevel(logging.INFO)
    return kamailio(RedisLiveState(stack_config.load().redis_url))


class kamailio:  # noqa: N801  (the class name app_python3 expects)
    def __init__(self, live_state: RedisLiveState) -> None:
        self.live = live_state

    def child_init(self, rank: int) -> int:
        return 0

    def ksr_request_route(self, msg: Any) -> int:
        return _guarded("request", routes.request_route, KSR, self.live)

    def ksr_onreply_room(self, msg: Any) -> int:
        return _guarded("reply", routes.reply_from_room, KSR)

    def ksr_failure_room(self, msg: Any) -> int:
        return _guarded("failure", routes.room_failure, KSR)

    # app_python3 in Kamailio 5.6 needs these defined, or KSR calls fail.
    def ksr_reply_route(self, msg: Any) -> int:
        return 1

    def ksr_onsend_route(self, msg: Any) -> int:
        return 1


def _guarded(where: str, route: Any, *args: Any) -> int:
    try:
        route(*args)
    except Exception:  # a route must never take the worker down
        logging.getLogger("kamconf.kemi").exception("%s route failed", where)
        if where == "request" and KSR.siputils.is_request() > 0 and KSR.pv.get("$rm") != "ACK":
            KSR.sl.sl_send_reply(500, "Server Internal Error")
    return 1
