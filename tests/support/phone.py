"""Drive tests/phone.py processes from tests: send commands, wait for events."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
Event = dict[str, Any]


class TestPhone:
    __test__ = False  # not a pytest test class

    def __init__(self, name: str, codec: str | None = None) -> None:
        self.name = name
        argv = [sys.executable, "-m", "tests.phone"] + (["--codec", codec] if codec else [])
        self.proc = subprocess.Popen(
            argv, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        self.events: queue.Queue[Event] = queue.Queue()
        self.seen: list[Event] = []
        threading.Thread(target=self._read, daemon=True).start()
        self.sip_port = self.wait_for("ready", timeout=15)["sip_port"]

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if line.startswith("{"):
                self.events.put(json.loads(line))

    def send(self, **command: Any) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(command) + "\n")
        self.proc.stdin.flush()

    def call(self, uri: str, play: Path | None = None, record: Path | None = None,
             headers: list[tuple[str, str]] | None = None, parts: list[tuple[str, str]] | None = None) -> None:
        self.send(cmd="call", uri=uri, play=str(play) if play else None, record=str(record) if record else None,
                  headers=headers or [], parts=parts or [])

    def register(self, registrar: str, user: str, password: str, expect: int = 200) -> Event:
        self.send(cmd="register", registrar=registrar, user=user, password=password)
        return self.wait_for("registered", 10, lambda e: e["code"] == expect)

    def become(self, user: str) -> None:
        """Call from sip:USER@ this phone (as a carrier's caller with that number would)."""
        self.send(cmd="become", user=user)

    def answer(self, play: Path | None = None, record: Path | None = None) -> None:
        self.send(cmd="answer", play=str(play) if play else None, record=str(record) if record else None)

    def early(self, play: Path | None = None, record: Path | None = None) -> None:
        self.send(cmd="early", play=str(play) if play else None, record=str(record) if record else None)

    def reject(self, code: int = 486) -> None:
        self.send(cmd="reject", code=code)

    def hangup(self) -> None:
        self.send(cmd="hangup")

    def dtmf(self, digits: str, method: str = "rfc2833") -> None:
        self.send(cmd="dtmf", digits=digits, method=method)

    def wait_for(self, event: str, timeout: float = 10, where: Callable[[Event], bool] = lambda e: True) -> Event:
        """The first event of that kind (seen before or arriving) matching `where`."""
        for seen in self.seen:
            if seen["event"] == event and where(seen):
                return seen
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"{self.name}: no {event!r} within {timeout}s; saw {self.seen}")
            try:
                got = self.events.get(timeout=min(remaining, 0.5))
            except queue.Empty:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"{self.name} exited: {self.stderr_tail()}") from None
                continue
            self.seen.append(got)
            if got["event"] == event and where(got):
                return got

    def forget(self) -> None:
        """Drop every event so far, so waits see only what a next call brings."""
        self.seen.clear()
        while not self.events.empty():
            self.events.get_nowait()

    def wait_state(self, state: str, timeout: float = 10) -> Event:
        return self.wait_for("state", timeout, lambda e: e["state"] == state)

    def stderr_tail(self) -> str:
        if self.proc.poll() is None or self.proc.stderr is None:
            return ""
        return self.proc.stderr.read()[-2000:]

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                self.send(cmd="quit")
                self.proc.wait(10)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()
