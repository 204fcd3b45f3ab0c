"""A throw-away real redis-server on a free loopback port."""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

import redis

from stack.supervisor import wait_for
from tests.support.ports import free_port


@contextmanager
def redis_server() -> Iterator[RedisServer]:
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        proc = subprocess.Popen(
            ["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--dir", tmp,
             "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        server = RedisServer(proc, f"redis://127.0.0.1:{port}/0")
        try:
            if not wait_for(server.answers, 10, alive=lambda: proc.poll() is None):
                raise RuntimeError("redis-server did not start")
            yield server
        finally:
            proc.terminate()
            proc.wait(10)


class RedisServer:
    def __init__(self, proc: subprocess.Popen[bytes], url: str) -> None:
        self.proc, self.url = proc, url

    def answers(self) -> bool:
        try:
            return bool(redis.Redis.from_url(self.url, socket_timeout=0.5).ping())
        except redis.RedisError:
            return False
