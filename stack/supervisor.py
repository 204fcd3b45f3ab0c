"""Starts the stack's processes in order, keeps them running, prefixes their logs, stops them in reverse.

`start()` brings every component up, each healthy before the next. `keep_running()`
then watches them: one that exits unexpectedly is started again alone (same `before`
step, same health wait) after a backoff that grows with quick repeated crashes
(`stack.restart`), while the others go on serving their calls. `stop()` ends the
watching first, so nothing it stops is started again, then stops in reverse order.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
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
from stack.components import Component, components, missing_programs, prepare_dirs
from stack.restart import BACKOFF, Backoff, RestartState

START_TIMEOUT = 60.0
STOP_TIMEOUT = 15.0
WATCH_INTERVAL = 0.2
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    # A supervisor killed with SIGKILL must not leave its children running.
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class Supervisor:
    def __init__(self, config: Config, config_file: Path, echo: IO[str] | None = sys.stdout,
                 backoff: Backoff = BACKOFF, parts: list[Component] | None = None) -> None:
        self.config = config
        # `parts` replaces the stack's own components (tests of the supervision itself).
        self.components = components(config, config_file) if parts is None else parts
        self.echo = echo
        self.backoff = backoff
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.restarts: dict[str, int] = {c.name: 0 for c in self.components}
        self._started_at: dict[str, float] = {}
        # Guards procs and _wanted: a process is only spawned, or stopped, under it.
        self._state = threading.Lock()
        # Components that should be running: started and not stopped on purpose.
        self._wanted: set[str] = set()
        # One launch (before step, spawn, health wait) at a time per component.
        self._launching = {c.name: threading.Lock() for c in self.components}
        self._stopping = threading.Event()
        self._stopped = threading.Event()
        self._keepers: list[threading.Thread] = []
        self._echo_lock = threading.Lock()
        self._publish_lock = threading.Lock()
        self._pumps: list[threading.Thread] = []
        # Processes whose session was killed once: their group id may belong to someone else later.
        self._cleaned: set[subprocess.Popen[bytes]] = set()

    def log_path(self, name: str) -> Path:
        return self.config.var_path / "log" / f"{name}.log"

    @staticmethod
    def status_file(config: Config) -> Path:
        """Restart counts and pids of the running stack, read by `python -m stack status`."""
        return config.var_path / "run" / "supervisor.json"

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
        """Start a component unless it runs already (the watcher may have restarted it); wait until healthy."""
        component = self._component(name)
        with self._state:
            self._wanted.add(name)
        try:
            with self._launching[name]:
                proc = self._running(name)
                if proc is None:
                    proc = self._launch(component)
                self._wait_healthy(component, proc, timeout)
        except StartError:
            with self._state:
                self._wanted.discard(name)  # a failed explicit start is the caller's to handle
            raise
        self._publish()

    def _component(self, name: str) -> Component:
        return next(c for c in self.components if c.name == name)

    def _running(self, name: str) -> subprocess.Popen[bytes] | None:
        with self._state:
            proc = self.procs.get(name)
        return proc if proc is not None and proc.poll() is None else None

    def _launch(self, component: Component) -> subprocess.Popen[bytes]:
        """The before step, then the process; not if the component was stopped meanwhile."""
        if component.exclusive and component.healthy():
            raise StartError(component.name, f"something already answers on {component.address}")
        env = {**os.environ, **component.env}
        if component.before:
            done = subprocess.run(component.before, env=env, capture_output=True, text=True)
            self._log(component.name, done.stdout + done.stderr)
            if done.returncode != 0:
                raise StartError(component.name, (done.stderr or done.stdout).strip())
        with self._state:
            if component.name not in self._wanted or self._stopping.is_set():
                raise StartError(component.name, "stopped while starting")
            proc = subprocess.Popen(
                component.argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True, preexec_fn=_die_with_parent,
            )
            self.procs[component.name] = proc
            self._started_at[component.name] = time.monotonic()
        pump = threading.Thread(target=self._pump, args=(component.name, proc), daemon=True)
        pump.start()
        self._pumps.append(pump)
        return proc

    def _wait_healthy(self, component: Component, proc: subprocess.Popen[bytes], timeout: float) -> None:
        def alive() -> bool:
            # Give up at once if it exited or someone stopped it (then it is no longer ours).
            return proc.poll() is None and self.procs.get(component.name) is proc

        if not wait_for(component.healthy, timeout, alive=alive):
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

    def _note(self, name: str, text: str) -> None:
        """A supervisor message about one component: on the console and in that component's log."""
        self._log(name, f"kamconf: {text}\n")

    def _log(self, name: str, text: str) -> None:
        """Text that is not the process's own output (its before step's, ours): console and log file."""
        self._write(name, text)
        if not text:
            return
        try:
            with self.log_path(name).open("a") as log:
                log.write(text if text.endswith("\n") else text + "\n")
        except OSError as exc:
            self._write(name, f"kamconf: cannot write {self.log_path(name)}: {exc}")

    # Watching ----------------------------------------------------------------

    def keep_running(self) -> None:
        """Watch every started component from now until stop(), restarting any that exits."""
        self._publish()
        for component in self.components:
            keeper = threading.Thread(target=self._keep, args=(component.name,), name=f"keep-{component.name}",
                                      daemon=True)
            keeper.start()
            self._keepers.append(keeper)

    @property
    def watching(self) -> bool:
        return any(keeper.is_alive() for keeper in self._keepers)

    def _keep(self, name: str) -> None:
        try:
            self._keep_restarting(name)
        finally:
            # What this thread started gets SIGTERM when the thread ends (PR_SET_PDEATHSIG follows
            # the forking thread, not the process): stay until stop() has stopped it in order.
            self._stopped.wait()

    def _keep_restarting(self, name: str) -> None:
        state = RestartState()
        while True:
            ended = self._wait_for_exit(name)
            if ended is None:
                return
            proc, started_at = ended
            crashed_at = time.monotonic()
            self._kill_leftovers(proc)
            reason = f"exited with code {describe_exit(proc.returncode)}"
            while True:
                restart = state.after_crash(started_at, crashed_at, self.backoff)
                state = restart.state
                self._note(name, f"{name} {reason} (crash {state.crashes}); "
                                 f"starting it again in {restart.delay:g} s")
                if self._stopping.wait(restart.delay):
                    return
                started_at = time.monotonic()
                failure = self._restart(name)
                if failure is None:
                    break
                crashed_at, reason = time.monotonic(), f"failed to come back: {failure}"

    def _wait_for_exit(self, name: str) -> tuple[subprocess.Popen[bytes], float] | None:
        """The process that exited while wanted, and when it had started; None once stopping."""
        while not self._stopping.wait(WATCH_INTERVAL):
            with self._state:
                proc = self.procs.get(name)
                if name in self._wanted and proc is not None and proc.poll() is not None:
                    return proc, self._started_at[name]
        return None

    def _restart(self, name: str) -> str | None:
        """Start a crashed component again; None once healthy (or no longer wanted), else why not."""
        component = self._component(name)
        with self._launching[name]:
            if self._stopping.is_set() or name not in self._wanted or self._running(name) is not None:
                return None  # stopping, stopped on purpose, or someone started it already
            self.restarts[name] += 1
            dead = self.procs.get(name)
            try:
                proc = self._launch(component)
                self._wait_healthy(component, proc, START_TIMEOUT)
            except Exception as exc:  # a boundary: the watcher must outlive any failed start, and says why
                if self._stopping.is_set() or name not in self._wanted:
                    return None
                if self.procs.get(name) is not dead:
                    self._stop_proc(name, self.procs.get(name))  # an unhealthy process counts as crashed
                return str(exc) if isinstance(exc, StartError) else f"{name}: {exc!r}"
        self._note(name, f"{name} restarted (pid {proc.pid}, restarts {self.restarts[name]})")
        self._publish()
        return None

    def _kill_leftovers(self, proc: subprocess.Popen[bytes]) -> None:
        # What the component forked (RQ's scheduler and work horses, Kamailio's children) would
        # outlive it, hold its ports and locks, and fight its successor: end its whole session,
        # once, right after it ended (its id is not reused while any of the group lives).
        if proc in self._cleaned:
            return
        self._cleaned.add(proc)
        with contextlib.suppress(ProcessLookupError, PermissionError):  # the group is gone: nothing left
            os.killpg(proc.pid, signal.SIGKILL)

    def _publish(self) -> None:
        """Write restart counts and pids for `python -m stack status` (atomically: it may read any time)."""
        with self._state:
            entries = {name: {"restarts": self.restarts[name], "pid": proc.pid}
                       for name, proc in self.procs.items() if name in self._wanted}
        path = self.status_file(self.config)
        try:
            with self._publish_lock:
                path.parent.mkdir(parents=True, exist_ok=True)
                scratch = path.with_suffix(".tmp")
                scratch.write_text(json.dumps(entries))
                scratch.replace(path)
        except OSError as exc:
            self._write("stack", f"kamconf: cannot write {path}: {exc}")

    # Stopping ----------------------------------------------------------------

    def stop(self) -> None:
        """End the watching, then SIGTERM in reverse start order, waiting for each (the bridge hangs up)."""
        self._stopping.set()  # from here on nothing is started: a restart in progress gives up
        for component in reversed(self.components):
            self.stop_one(component.name)
        self._stopped.set()
        for keeper in self._keepers:
            keeper.join(timeout=5)
        for pump in self._pumps:
            pump.join(timeout=2)
        self.status_file(self.config).unlink(missing_ok=True)

    def stop_one(self, name: str) -> int | None:
        """Stop one component on purpose (it is not restarted); its exit code, or None if it was not running."""
        with self._state:
            self._wanted.discard(name)
            proc = self.procs.pop(name, None)
        code = self._stop_proc(name, proc)
        self._publish()
        return code

    def _stop_proc(self, name: str, proc: subprocess.Popen[bytes] | None) -> int | None:
        """SIGTERM, then SIGKILL after STOP_TIMEOUT; its exit code if it was running, else None."""
        if proc is None:
            return None
        code = None
        if proc.poll() is None:
            proc.terminate()
            try:
                code = proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self._write(name, "did not stop in time; killed")
                proc.kill()
                code = proc.wait()
        self._kill_leftovers(proc)
        return code

    def tail(self, name: str, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path(name).read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


class StartError(Exception):
    def __init__(self, component: str, reason: str) -> None:
        super().__init__(f"{component}: {reason}")
        self.component = component


def describe_exit(code: int | None) -> str:
    """`1`, or `-9 (SIGKILL)` for a process a signal ended."""
    if code is None or code >= 0:
        return str(code)
    try:
        return f"{code} ({signal.Signals(-code).name})"
    except ValueError:
        return str(code)


def wait_for(check: Callable[[], bool], timeout: float, alive: Callable[[], bool] = lambda: True) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        if not alive():
            return False
        time.sleep(0.1)
    return check()
