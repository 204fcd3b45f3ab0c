"""`make up`, `make status`, `make token` and `make down` as a newcomer runs them (on random ports)."""

from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path

from stack import config as stack_config
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
            [name, "up"] for name in ("redis", "rtpengine", "kamailio", "bridge", "web", "worker")]
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
    sip_port = stack_config.load(config).sip.port
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.0.1", sip_port))  # something else holds Kamailio's port
        up = make("up", config)
    make("down", config)
    assert up.returncode != 0
    assert "kamailio" in up.stderr
    assert "last lines of" in up.stderr
