"""Counters kept in Redis, for what happens in processes that do not live long enough to keep
their own: RQ runs each job in a work horse forked for it, so a count made there would die with
it. The worker's metrics endpoint (workers/metrics.py) reads them. A count only grows, as a
Prometheus counter must; it survives a worker's restart, which Prometheus reads as no reset."""

from __future__ import annotations

import redis

KEY = "kamconf:counts:{}"


def add(client: redis.Redis, name: str, label: str, amount: int = 1) -> None:
    client.hincrby(KEY.format(name), label, amount)


def read(client: redis.Redis, name: str) -> dict[str, int]:
    raw = client.hgetall(KEY.format(name))
    return {(k.decode() if isinstance(k, bytes) else k): int(v) for k, v in raw.items()}
