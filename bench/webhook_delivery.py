"""How long a room event takes to reach a webhook receiver, how many deliveries one worker makes a
second, and what a receiver that never answers does to the others.

Starts a Redis, migrates a SQLite database and runs the real worker (`python -m workers.main`, its
RQ scheduler and the webhook dispatcher) against them; a receiver on loopback
(tests.support.webhooks) notes when each POST arrives. Events are appended to the stream as the
bridge appends them (store.live.room_event); latency is from the event's stream time to its arrival.
Usage: .venv/bin/python -m bench.webhook_delivery [--events 200] [--rate 20] [--burst 500]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import redis

import settings
from stack.supervisor import wait_for
from store import live
from store.migrations import upgrade
from store.sql import make_engine, make_sessions
from store.webhooks import WebhookRepository
from tests.support.ports import free_port
from tests.support.redis_server import RedisServer
from tests.support.webhooks import Receiver, receiving
from workers.webhooks import GROUP

ROOT = Path(__file__).resolve().parent.parent


@contextmanager
def worker(folder: Path, redis_port: int, timeout: float) -> Iterator[settings.Config]:
    path = folder / "kamconf.toml"
    path.write_text(f'var_dir = "{folder}"\n[webhooks]\nallow_private = true\ntimeout = {timeout}\n'
                    f"[workers]\nmetrics_port = {free_port()}\n[redis]\nport = {redis_port}\n")
    config = settings.load(path, env={})
    upgrade(make_engine(config.database_url))
    env = {**os.environ, "KAMCONF_CONFIG": str(path), "PYTHONPATH": str(ROOT)}
    with (folder / "worker.log").open("wb") as log:
        process = subprocess.Popen([sys.executable, "-m", "workers.main"], cwd=ROOT, env=env, stdout=log,
                                   stderr=subprocess.STDOUT)
        try:
            client = live.connect(config.redis_url)
            if not wait_for(lambda: has_group(client), timeout=30, alive=lambda: process.poll() is None):
                raise RuntimeError((folder / "worker.log").read_text())
            yield config
        finally:
            process.terminate()
            process.wait(timeout=30)


def has_group(client: redis.Redis) -> bool:
    try:
        return any(group["name"] == GROUP for group in client.xinfo_groups(live.EVENTS))
    except redis.ResponseError:
        return False


def hanging_receiver() -> str:
    """A URL whose server accepts connections and reads the request, then never answers."""
    server = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []

    def serve() -> None:
        while True:
            connection, _ = server.accept()
            held.append(connection)  # kept open, never answered
    threading.Thread(target=serve, daemon=True).start()
    return f"http://127.0.0.1:{server.getsockname()[1]}/hang"


def latencies(receiver: Receiver, room: str) -> list[float]:
    return [r.at - r.event["time"] for r in receiver.events() if r.event["room"] == room]


def send(client: redis.Redis, room: str, count: int, rate: float) -> None:
    for index in range(count):
        live.room_event(client, "joined", room, participant=f"p{index}", caller="sip:bench@x", present=index + 1)
        if rate:
            time.sleep(1 / rate)


def summary(values: list[float]) -> str:
    ordered = sorted(values)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return (f"p50 {statistics.median(ordered) * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms, "
            f"max {ordered[-1] * 1000:.0f} ms ({len(ordered)} delivered)")


def reference_loop() -> float:
    """Seconds for a plain 20 M-step Python loop: how fast the machine is today (ARCHITECTURE.md)."""
    started = time.perf_counter()
    total = 0
    for step in range(20_000_000):
        total += step
    return time.perf_counter() - started


def run(events: int, rate: float, burst: int) -> None:
    print(f"reference: a 20 M-step Python loop took {reference_loop():.1f} s")
    with RedisServer() as server, tempfile.TemporaryDirectory() as folder, receiving() as receiver, \
            worker(Path(folder), server.port, timeout=1.0) as config:
        client = live.connect(config.redis_url)
        endpoints = WebhookRepository(make_sessions(make_engine(config.database_url)))
        endpoints.create({"url": receiver.url, "events": ["joined"]}, datetime.now(UTC))

        send(client, "paced", events, rate)
        wait_for(lambda: len(latencies(receiver, "paced")) == events, timeout=120)
        print(f"{events} events at {rate:g}/s to one receiver: {summary(latencies(receiver, 'paced'))}")

        started = time.time()
        send(client, "burst", burst, 0)
        wait_for(lambda: len(latencies(receiver, "burst")) == burst, timeout=600)
        took = max(r.at for r in receiver.events() if r.event["room"] == "burst") - started
        print(f"a burst of {burst} events: all delivered in {took:.1f} s ({burst / took:.0f} deliveries/s); "
              f"{summary(latencies(receiver, 'burst'))}")

        endpoints.create({"url": hanging_receiver(), "events": ["joined"]}, datetime.now(UTC))
        send(client, "beside", 20, 2)
        wait_for(lambda: len(latencies(receiver, "beside")) == 20, timeout=600)
        print(f"20 events at 2/s with a receiver that never answers beside it (timeout 1 s, cut at 2 s): "
              f"{summary(latencies(receiver, 'beside'))}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument("--rate", type=float, default=20.0)
    parser.add_argument("--burst", type=int, default=500)
    arguments = parser.parse_args()
    run(arguments.events, arguments.rate, arguments.burst)


if __name__ == "__main__":
    main()
