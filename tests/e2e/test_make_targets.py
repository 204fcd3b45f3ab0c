"""`make up`, `make status`, `make token` and `make down` as a newcomer runs them (on random ports)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
from pathlib import Path

import settings
from stack.components import KERNEL_TABLES, components
from stack.supervisor import wait_for
from tests.support.stack import write_config

ROOT = Path(__file__).resolve().parents[2]


def make(target: str, config: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "KAMCONF_CONFIG": str(config)}
    return subprocess.run(["make", "-s", target], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


def test_up_status_token_down(tmp_path: Path) -> None:
    config = write_config(tmp_path / "var")
    try:
        up = make("up", config)
        assert up.returncode == 0, up.stdout + up.stderr
        status = make("status", config)
        assert status.returncode == 0
        lines = status.stdout.splitlines()
        assert [line.split()[:2] for line in lines] == [
            [name, "up"] for name in ("redis", "redis-exporter", "rtpengine", "kamailio", "bridge", "web", "worker")]
        # The forwarding mode the host offers (these test machines cannot load rtpengine's kernel module).
        kernel = os.access(KERNEL_TABLES / "control", os.W_OK)
        assert lines[2].endswith("kernel forwarding, table 0" if kernel else "userspace forwarding"), lines[2]
        token = make("token", config)
        assert token.returncode == 0 and len(token.stdout.splitlines()) == 1 and len(token.stdout.strip()) >= 40
    finally:
        down = make("down", config)
    assert down.returncode == 0, down.stdout + down.stderr
    after = make("status", config)
    assert after.returncode != 0  # make reports the status command's exit 1 as 2
    assert all(line.split()[1] == "down" for line in after.stdout.splitlines())


def test_up_names_the_component_that_failed(tmp_path: Path) -> None:
    config = write_config(tmp_path / "var")
    sip_port = settings.load(config).sip.port
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.0.1", sip_port))  # something else holds Kamailio's port
        up = make("up", config)
    make("down", config)
    assert up.returncode != 0
    assert "kamailio" in up.stderr
    assert "last lines of" in up.stderr


def test_ctrl_c_stops_everything_make_run_started(tmp_path: Path) -> None:
    config_file = write_config(tmp_path / "var")
    config = settings.load(config_file)
    # make and the supervisor share a process group, as in a terminal; Ctrl-C signals the group.
    run = subprocess.Popen(["make", "-s", "run"], cwd=ROOT, env={**os.environ, "KAMCONF_CONFIG": str(config_file)},
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    checks = [c.healthy for c in components(config, config_file)]
    try:
        assert wait_for(lambda: all(check() for check in checks), 120, alive=lambda: run.poll() is None)
    finally:
        os.killpg(run.pid, signal.SIGINT)
        output, _ = run.communicate(timeout=120)
    assert "kamailio  |" in output and "bridge    |" in output  # per-component log prefixes
    assert "kamconf: stopped" in output
    assert not any(check() for check in checks)
