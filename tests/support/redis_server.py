"""A throw-away real redis-server on a free 127.0.0.1 port: temp dir, no persistence.

    with redis_server() as url: ...            # just the URL
    with RedisServer() as server: ...          # server.url, .port, .client(), .paused(), .stop()
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType

import redis

from tests.support.ports import free_port


class RedisServer:
    def __init__(self, executable: str = "redis-server", args: Sequence[str] = (), timeout: float = 10.0) -> None:
        self.executable, self.args, self.timeout = executable, tuple(args), timeout
        self.port = 0
        self._proc: subprocess.Popen[bytes] | None = None
        self._dir: str | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def pid(self) -> int:
        if self._proc is None:
            raise RuntimeError("redis-server is not running")
        return self._proc.pid

    def client(self, timeout: float = 2.0) -> redis.Redis:
        return redis.Redis.from_url(self.url, socket_timeout=timeout, decode_responses=True)

    def start(self) -> str:
        """Start and wait until PING answers; the URL."""
        if shutil.which(self.executable) is None:
            raise RuntimeError(f"{self.executable} is not installed (Debian: apt-get install redis-server)")
        self._dir = tempfile.mkdtemp(prefix="kamconf-redis-")
        # A port found free can be taken before redis-server binds it; then try another.
        for _ in range(3):
            if self._launch():
                return self.url
        log = Path(self._dir, "redis.log")
        tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
        self.stop()
        raise RuntimeError(f"redis-server did not answer PING:\n{tail}")

    def stop(self) -> None:
        if self._proc is not None:
            self._kill(self._proc)
            self._proc = None
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    @contextmanager
    def paused(self) -> Iterator[None]:
        """Redis hung (SIGSTOP): clients time out instead of being refused."""
        os.kill(self.pid, signal.SIGSTOP)
        try:
            yield
        finally:
            os.kill(self.pid, signal.SIGCONT)

    def __enter__(self) -> RedisServer:
        self.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    def _launch(self) -> bool:
        assert self._dir is not None
        self.port = free_port("tcp")
        argv = [self.executable, "--bind", "127.0.0.1", "--port", str(self.port), "--dir", self._dir,
                "--save", "", "--appendonly", "no", "--logfile", str(Path(self._dir, "redis.log")), *self.args]
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline and proc.poll() is None:
            if self._answers():
                self._proc = proc
                return True
            time.sleep(0.05)
        self._kill(proc)
        return False

    def _answers(self) -> bool:
        try:
            with redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=0.5) as probe:
                return bool(probe.ping())
        except redis.RedisError:
            return False

    @staticmethod
    def _kill(proc: subprocess.Popen[bytes]) -> None:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGCONT)  # a paused server would never handle SIGTERM
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)


@contextmanager
def redis_server(args: Sequence[str] = ()) -> Iterator[str]:
    """A running redis-server for the block; yields its URL."""
    with RedisServer(args=args) as server:
        yield server.url
