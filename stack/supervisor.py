"""Starts the stack's processes in order, prefixes their logs, stops them in reverse.

`run` stays in the foreground (Ctrl-C stops everything it started); `up`
starts a detached `run` and returns once every component is healthy; `down`
stops exactly what `up` started; `status` prints one line per component.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO

from settings import Config
from stack.components import components, missing_programs, prepare_dirs

START_TIMEOUT = 60.0
STOP_TIMEOUT = 15.0
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    # A supervisor killed with SIGKILL must not leave its children running.
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class Supervisor:
    def __init__(self, config: Config, config_file: Path, echo: IO[str] | None = sys.stdout) -> None:
        self.config = config
        self.components = components(config, config_file)
        self.echo = echo
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self._echo_lock = threading.Lock()
        self._pumps: list[threading.Thread] = []

    def log_path(self, name: str) -> Path:
        return self.config.var_path / "log" / f"{name}.log"

    def start(self, timeout: float = START_TIMEOUT, only: set[str] | None = None) -> None:
        """Start every component (or those named) in order, each healthy before the next."""
        missing = missing_programs()
        if missing:
            raise StartError("setup", f"not installed: {', '.join(missing)} (run `make run`)")
        prepare_dirs(self.config)
        for component in self.components:
            if only is None or component.name in only:
                self.start_one(component.name, timeout)

    def start_one(self, name: str, timeout: float = START_TIMEOUT) -> None:
        component = next(c for c in self.components if c.name == name)
        if component.exclusive and component.healthy():
            raise StartError(component.name, f"something already answers on {component.address}")
        env = {**os.environ, **component.env}
        if component.before:
            done = subprocess.run(component.before, env=env, capture_output=True, text=True)
            self._write(component.name, done.stdout + done.stderr)
            if done.returncode != 0:
                raise StartError(component.name, (done.stderr or done.stdout).strip())
        proc = subprocess.Popen(
            component.argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True, preexec_fn=_die_with_parent,
        )
        self.procs[component.name] = proc
        pump = threading.Thread(target=self._pump, args=(component.name, proc), daemon=True)
        pump.start()
        self._pumps.append(pump)
        if not wait_for(component.healthy, timeout, alive=lambda: proc.poll() is None):
            state = "exited" if proc.poll() is not None else "not healthy"
            raise StartError(component.name, f"{state} after start ({component.address})")

    def _pump(self, name: str, proc: subprocess.Popen[bytes]) -> None:
        assert proc.stdout is not None
        with self.log_path(name).open("ab") as log:
            for raw in proc.stdout:
                log.write(raw)
                log.flush()
                self._write(name, raw.decode(errors="replace"))

    def _write(self, name: str, text: str) -> None:
        if self.echo is None or not text:
            return
        with self._echo_lock:
            for line in text.rstrip("\n").splitlines():
                self.echo.write(f"{name:<9} | {line}\n")
            self.echo.flush()

    def first_exited(self) -> str | None:
        return next((n for n, p in self.procs.items() if p.poll() is not None), None)

    def stop(self) -> None:
        """SIGTERM in reverse start order, waiting for each (the bridge hangs up its calls)."""
        for component in reversed(self.components):
            self.stop_one(component.name)
        for pump in self._pumps:
            pump.join(timeout=2)

    def stop_one(self, name: str) -> int | None:
        """Stop one component; its exit code, or None if it was not running."""
        proc = self.procs.pop(name, None)
        if proc is None or proc.poll() is not None:
            return None
        proc.terminate()
        try:
            return proc.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self._write(name, "did not stop in time; killed")
            proc.kill()
            return proc.wait()

    def tail(self, name: str, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path(name).read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


class StartError(Exception):
    def __init__(self, component: str, reason: str) -> None:
        super().__init__(f"{component}: {reason}")
        self.component = component


def wait_for(check: Callable[[], bool], timeout: float, alive: Callable[[], bool] = lambda: True) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        if not alive():
            return False
        time.sleep(0.1)
    return check()
