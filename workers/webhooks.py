"""The worker's side of webhooks: a process the worker starts follows the room event stream and
records a delivery per subscribed endpoint (`Dispatcher`), and the RQ job `deliver` POSTs one,
signed, and schedules the next try with backoff when it fails.

Nothing here is on a call's path: the bridge only appends to the stream (store.live.room_event),
as it always did, and whatever a receiver does costs the bridge nothing.
"""

from __future__ import annotations

import contextlib
import http.client
import logging
import multiprocessing
import multiprocessing.process
import socket
import ssl
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import redis
from sqlalchemy.orm import Session, sessionmaker

import settings
from conference.webhooks import (
    SIGNATURE_HEADER,
    Event,
    RetryPolicy,
    Target,
    UrlRefusedError,
    address_allowed,
    signature,
    succeeded,
    target,
)
from store import live
from store.queue import WEBHOOKS_QUEUE, enqueue_delivery, enqueue_first_tries, queue, still_queued
from store.sql import StoreUnavailableError, make_engine, make_sessions
from store.webhooks import Due, State, WebhookRepository
from workers import jobs, metrics

log = logging.getLogger("kamconf.webhooks")

GROUP = "webhooks"  # the Redis consumer group on the event stream: each event is read by one worker
BLOCK_MS = 2000
HOLD_MS = 20  # how long a read waits while deliveries are held for the next job of first tries
RESTING = "not sent: the endpoint's last try failed; it rests until that try's next one"
EXCERPT = 200  # characters of an answer's body kept with a failed try
SWEEP_SECONDS = 60  # how often pending deliveries whose job was lost are queued again, and old ones deleted
LOST_AFTER = timedelta(seconds=60)  # a try overdue this long lost its job (Redis was lost, say)


def policy(config: settings.WebhooksConfig) -> RetryPolicy:
    return RetryPolicy(max(1, config.attempts), config.retry_first, config.retry_longest)


# Following the event stream -----------------------------------------------------------------


class Dispatcher:
    """Reads the room event stream in a consumer group and records a delivery of each event for every
    endpoint that wants it, then queues the first try. An entry is acknowledged only once its
    deliveries are in SQL, so a worker that dies before reads it again (store.webhooks.record is
    idempotent); the consumer is named after the host, so its successor there takes up what it left."""

    def __init__(self, config: settings.Config, sessions: sessionmaker[Session]) -> None:
        self.config = config
        self.repository = WebhookRepository(sessions)
        self.consumer = socket.gethostname()
        self.swept = 0.0
        self.held: list[int] = []  # deliveries made whose first try is not queued yet
        self.job = ""  # the last job of first tries queued

    def run(self) -> None:
        client = live.connect(self.config.redis_url, timeout=BLOCK_MS / 1000 + 5)
        queue_client = live.queue_connection(self.config.redis_url)
        backlog = True  # first what this host's consumer read and never acknowledged
        while True:
            try:
                backlog = self.turn(client, queue_client, backlog)
            except (redis.RedisError, StoreUnavailableError) as exc:
                log.error("webhooks: %s; trying again in 2 s", exc)
                time.sleep(2)  # the one wait of this loop: the store it needs is down
            except Exception:  # a boundary: the process must outlive any one event
                log.exception("webhooks: dispatching failed; going on")
                time.sleep(2)

    def turn(self, client: redis.Redis, queue_client: redis.Redis, backlog: bool) -> bool:
        """One read of the stream; whether there is still a backlog to read."""
        try:
            found: Any = client.xreadgroup(GROUP, self.consumer, {live.EVENTS: "0" if backlog else ">"}, count=100,
                                           block=None if backlog else HOLD_MS if self.held else BLOCK_MS)
        except redis.ResponseError as exc:
            if "NOGROUP" not in str(exc):
                raise
            ensure_group(client)  # the first start, or a Redis that lost its data
            return backlog
        # An entry trimmed from the stream (EVENTS_MAXLEN, EVENTS_SECONDS) while pending comes back without fields.
        entries = [(str(entry_id), dict(fields or {})) for _, batch in found or [] for entry_id, fields in batch]
        self.held += [delivery_id for entry_id, fields in entries for delivery_id in
                      self.repository.record(Event.from_stream(entry_id, fields), datetime.now(UTC))]
        if entries:
            client.xack(live.EVENTS, GROUP, *[entry_id for entry_id, _ in entries])
        # One job of first tries waits at a time: while the worker is busy the next one gathers every
        # delivery made meanwhile, so a work horse is forked per batch and not per event.
        if self.held and not (self.job and still_queued(queue_client, self.job)):
            self.job, self.held = enqueue_first_tries(queue_client, self.held), []
        if time.monotonic() - self.swept > SWEEP_SECONDS:
            self.sweep(queue_client)
        return backlog and bool(entries)

    def sweep(self, queue_client: redis.Redis) -> None:
        """Delete deliveries past keep_days, and queue again the tries whose job was lost."""
        now = datetime.now(UTC)
        self.repository.forget(now - timedelta(days=self.config.webhooks.keep_days))
        # Tries waiting behind others (a busy worker) are late, not lost: only an empty queue is looked at.
        if not len(queue(queue_client, WEBHOOKS_QUEUE)):
            for delivery_id in self.repository.pending(now - LOST_AFTER):
                due = self.repository.due(delivery_id)
                if due is not None:
                    enqueue_delivery(queue_client, delivery_id, due.tries + 1)
        self.swept = time.monotonic()


def start_dispatcher(config: settings.Config) -> multiprocessing.process.BaseProcess:
    """The Dispatcher in a process of its own, started afresh (spawned, not forked) and ended with the
    worker. Not a thread of the worker: RQ forks a work horse per job, and SQLite's locks go wrong
    in a child forked while its parent holds the database open (a horse's write then found the
    database "locked" for good)."""
    process = multiprocessing.get_context("spawn").Process(target=dispatch_forever, args=(config,),
                                                           name="kamconf-webhooks", daemon=True)
    process.start()
    return process


def dispatch_forever(config: settings.Config) -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    Dispatcher(config, make_sessions(make_engine(config.database_url))).run()


def ensure_group(client: redis.Redis) -> None:
    """The consumer group, made once (with the stream if it is not there yet), from the newest entry:
    events older than the first worker that runs with webhooks are not delivered."""
    try:
        client.xgroup_create(live.EVENTS, GROUP, id="$", mkstream=True)
    except redis.ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise


# One try of one delivery (an RQ job) ----------------------------------------------------------


def deliver(delivery_id: int, attempt: int) -> str:
    """Try a delivery for the `attempt`-th time of its series; the state it is left in. A job run twice,
    or one left over from before a replay, finds the try made (or not its turn) and does nothing.

    After a failed try its endpoint rests until that delivery's next try: tries of its other
    deliveries meanwhile are not sent (each counts as a try, and is retried on its own schedule), so
    a receiver that hangs costs the queue one timeout per pause, not one per event."""
    config = jobs.config()
    repository = WebhookRepository(jobs.sessions())
    due = repository.due(delivery_id)
    if due is None or due.tries != attempt - 1:
        return "skipped"
    client = live.queue_connection(config.redis_url)
    started, at = time.monotonic(), datetime.now(UTC)
    sent = not live.webhook_resting(client, due.endpoint_id)
    status, error = post(due, delivery_id, config.webhooks) if sent else (None, RESTING)
    milliseconds = round((time.monotonic() - started) * 1000)
    delivered = status is not None and succeeded(status)
    pause = None if delivered else policy(config.webhooks).pause(attempt)
    state = repository.tried(delivery_id, at, status, error, milliseconds, delivered, pause)
    if delivered:
        live.wake_webhook(client, due.endpoint_id)
    elif sent:
        live.rest_webhook(client, due.endpoint_id, pause or config.webhooks.retry_first)
    metrics.count_try(client, "delivered" if delivered else "retried" if state == State.PENDING else "failed")
    if state == State.PENDING and pause is not None:
        enqueue_delivery(client, delivery_id, attempt + 1, pause)
        log.warning("webhook delivery %d to %s: %s; try %d in %.0f s", delivery_id, due.url, error or status,
                    attempt + 1, pause)
    elif state == State.FAILED:
        log.error("webhook delivery %d to %s failed after %d tries: %s", delivery_id, due.url, attempt,
                  error or status)
    return str(state)


def deliver_first(delivery_ids: list[int]) -> None:
    """The first tries of the deliveries one read of the stream made, in one job (one work horse
    forked for many; an endpoint that fails rests, so its others in the batch cost nothing)."""
    for delivery_id in delivery_ids:
        deliver(delivery_id, 1)


def post(due: Due, delivery_id: int, config: settings.WebhooksConfig) -> tuple[int | None, str]:
    """POST the body signed now: (HTTP status or None, why it failed or the answer's start)."""
    try:
        where = target(due.url, config.allow_private)
        address = resolve(where, config.allow_private)
    except UrlRefusedError as exc:
        return None, str(exc)
    headers = {"Host": where.host_header, "Content-Type": "application/json", "User-Agent": "kamconf-webhooks",
               "X-Kamconf-Event": due.kind, "X-Kamconf-Delivery": str(delivery_id),
               SIGNATURE_HEADER: signature(due.secret, int(time.time()), due.body), "Connection": "close"}
    connection = _connection(where, address, config.timeout)
    # `timeout` bounds each read; a receiver dripping its answer a byte at a time would still hold
    # the worker, so the whole exchange is cut at twice that.
    cut = threading.Event()
    watchdog = threading.Timer(2 * config.timeout, _cut, (connection, cut))
    try:
        connection.connect()
        watchdog.start()
        connection.request("POST", where.path, body=due.body, headers=headers)
        answer = connection.getresponse()
        excerpt = answer.read(EXCERPT).decode("utf-8", "replace")
    except (OSError, http.client.HTTPException) as exc:
        late = " (the answer took longer than twice the timeout)" if cut.is_set() else ""
        return None, f"{type(exc).__name__}: {exc}{late}"[:300]
    finally:
        watchdog.cancel()
        connection.close()
    if cut.is_set():  # whatever was read of it is not an answer
        return None, "the answer took longer than twice the timeout"
    return answer.status, "" if succeeded(answer.status) else _printable(excerpt)


def _cut(connection: http.client.HTTPConnection, cut: threading.Event) -> None:
    """Shut the socket under a blocked read (from the watchdog's thread), which then fails."""
    cut.set()
    if connection.sock is not None:
        with contextlib.suppress(OSError):  # closed already: the exchange ended as the watchdog fired
            connection.sock.shutdown(socket.SHUT_RDWR)


def resolve(where: Target, allow_private: bool) -> str:
    """The address to connect to: the name's first address, each of which must be allowed (a name
    that also leads inside is refused whole, so a second lookup cannot be turned against us: the
    connection goes to the address checked here)."""
    try:
        found = socket.getaddrinfo(where.host, where.port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise UrlRefusedError(f"{where.host} does not resolve: {exc}") from exc
    addresses = [str(info[4][0]) for info in found]
    refused = [a for a in addresses if not address_allowed(a, allow_private)]
    if refused or not addresses:
        raise UrlRefusedError(f"{where.host} leads to {', '.join(refused) or 'nothing'}: loopback, link-local or "
                         "private addresses need [webhooks] allow_private")
    return addresses[0]


class _PinnedHTTPS(http.client.HTTPSConnection):
    """HTTPS to an address resolved (and checked) beforehand, verifying the certificate for the name."""

    def __init__(self, where: Target, address: str, timeout: float) -> None:
        super().__init__(where.host, where.port, timeout=timeout, context=ssl.create_default_context())
        self.address = address

    def connect(self) -> None:
        raw = socket.create_connection((self.address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(raw, server_hostname=self.host)  # type: ignore[attr-defined]


def _connection(where: Target, address: str, timeout: float) -> http.client.HTTPConnection:
    if where.scheme == "https":
        return _PinnedHTTPS(where, address, timeout)
    return http.client.HTTPConnection(address, where.port, timeout=timeout)


def _printable(text: str) -> str:
    return "".join(char if char.isprintable() else " " for char in text).strip()
