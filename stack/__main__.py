"""`python -m stack run|up|down|status` - what the Makefile targets call."""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import settings
from stack.components import components, rtpengine_mode
from stack.supervisor import START_TIMEOUT, StartError, Supervisor, wait_for

FAILED_MARK = "kamconf: start failed: "


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m stack")
    parser.add_argument("command", choices=["run", "up", "down", "status"])
    args = parser.parse_args(argv)
    config_file = Path(os.environ.get("KAMCONF_CONFIG") or settings.DEFAULT_FILE).resolve()
    try:
        config = settings.load(config_file if config_file.exists() else None)
    except settings.ConfigError as exc:
        print(f"kamconf: bad configuration: {exc}", file=sys.stderr)
        return 2
    handler = {"run": run, "up": up, "down": down, "status": status}[args.command]
    return handler(config, config_file)


def pid_file(config: settings.Config) -> Path:
    return config.var_path / "run" / "stack.pid"


def run(config: settings.Config, config_file: Path) -> int:
    supervisor = Supervisor(config, config_file)
    stopping = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopping.set())
    try:
        supervisor.start()
    except StartError as exc:
        print(f"{FAILED_MARK}{exc}", flush=True)
        supervisor.stop()
        return 1
    # A component that exits from now on is restarted alone; only a signal stops them all.
    supervisor.keep_running()
    pid_file(config).write_text(str(os.getpid()))
    print("kamconf: all components up; Ctrl-C stops them", flush=True)
    while not stopping.wait(1.0):
        pass  # the signal handlers run on this thread between waits
    supervisor.stop()
    pid_file(config).unlink(missing_ok=True)
    print("kamconf: stopped", flush=True)
    return 0


def running_pid(config: settings.Config) -> int | None:
    try:
        pid = int(pid_file(config).read_text().strip())
        os.kill(pid, 0)
        return pid
    except (OSError, ValueError):
        return None


def up(config: settings.Config, config_file: Path) -> int:
    if running_pid(config):
        print("kamconf: already up")
        return status(config, config_file)
    (config.var_path / "log").mkdir(parents=True, exist_ok=True)
    (config.var_path / "run").mkdir(parents=True, exist_ok=True)
    log_path = config.var_path / "log" / "stack.log"
    with log_path.open("ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "stack", "run"],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True, env={**os.environ, "KAMCONF_CONFIG": str(config_file)},
        )
    started = wait_for(lambda: running_pid(config) == proc.pid, START_TIMEOUT * 2,
                       alive=lambda: proc.poll() is None)
    if started:
        return status(config, config_file)
    if proc.poll() is None:
        proc.terminate()
        proc.wait(30)
    report_failure(config, log_path)
    return 1


def report_failure(config: settings.Config, log_path: Path) -> None:
    lines = log_path.read_text(errors="replace").splitlines()
    failed = [line for line in lines if line.startswith(FAILED_MARK)]
    if not failed:
        print("kamconf: the stack did not start; last lines of var/log/stack.log:", file=sys.stderr)
        print("\n".join(lines[-30:]), file=sys.stderr)
        return
    reason = failed[-1][len(FAILED_MARK):]
    component = reason.split(":", 1)[0]
    print(f"kamconf: {reason}", file=sys.stderr)
    component_log = config.var_path / "log" / f"{component}.log"
    if component_log.exists():
        tail = component_log.read_text(errors="replace").splitlines()[-30:]
        print(f"--- last lines of {component_log} ---", file=sys.stderr)
        print("\n".join(tail), file=sys.stderr)


def down(config: settings.Config, config_file: Path) -> int:
    pid = running_pid(config)
    if pid is None:
        print("kamconf: not running")
        return 0
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and running_pid(config) == pid:
        time.sleep(0.2)
    if running_pid(config) == pid:
        print("kamconf: the stack did not stop in time", file=sys.stderr)
        return 1
    print("kamconf: down")
    return 0


def status(config: settings.Config, config_file: Path) -> int:
    all_up = True
    kept = supervised(config)
    for component in components(config, config_file):
        healthy = component.healthy()
        all_up = all_up and healthy
        line = f"{component.name:<10} {'up' if healthy else 'down':<5} {component.address}"
        if component.name in kept:
            line += f"  restarts {kept[component.name].get('restarts', 0)}"
        if healthy and component.argv[0] == "rtpengine":
            # The running process's own command line: the table it was given when it started.
            line += f"  {rtpengine_mode(command_line(kept.get(component.name, {}).get('pid')) or component.argv)}"
        print(line)
    return 0 if all_up else 1


def command_line(pid: int | None) -> list[str]:
    if pid is None:
        return []
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return []


def supervised(config: settings.Config) -> dict[str, dict[str, int]]:
    """What the running supervisor reports per component (restarts, pid); empty if none runs."""
    if running_pid(config) is None:
        return {}
    path = Supervisor.status_file(config)
    try:
        return dict(json.loads(path.read_text()))
    except (OSError, ValueError):
        return {}


if __name__ == "__main__":
    sys.exit(main())
