"""A whole kamconf stack on random loopback ports, for end-to-end tests and benchmarks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import settings
from stack.supervisor import Supervisor, wait_for
from store import live
from tests.support.ports import free_port, free_ports, free_range

# Short enough for a test to watch the bridge drop a silent leg.
E2E_RTP_TIMEOUT = 4.0
# What scheduled conferences' and operators' calls show ([conferences] caller_id): the PBX's multi-line number.
INSTALLATION_NUMBER = "74950001000"
# The stack attackers meet (tests/e2e/conftest.py `walls`): a source is banned after 3 wrong digest
# answers, and both sides of each call are asked every 30 s whether they are still there.
WALLS_AUTH_FAILURES = 3
WALLS_KEEPALIVE = 30
WALLS_CALLS_PER_SOURCE = 3  # calls up at once from one address
NODES_NET = "127.0.0."  # own_addresses: bridge nodes from .10, rtpengines from .20 (Kamailio and the rest on .1)


def write_config(var_dir: Path, mail_port: int | None = None, rtpengines: int = 1, redis_replicas: int = 0,
                 own_addresses: bool = False, **bridge: Any) -> Path:
    """var_dir/kamconf.toml with free ports; drawn again if two meet (a port the OS offered may lie
    in a media range drawn at random, which the settings refuse). `own_addresses`: every bridge node
    and rtpengine on a loopback address of its own, as if each ran on a host of its own."""
    for _ in range(20):
        path = _write_config(var_dir, mail_port, rtpengines, redis_replicas, own_addresses, **bridge)
        try:
            settings.load(path, env={})
        except settings.ConfigError:
            continue
        return path
    raise RuntimeError("no configuration without a port clash in 20 draws")


def _write_config(var_dir: Path, mail_port: int | None, rtpengines: int, redis_replicas: int,
                  own_addresses: bool, **bridge: Any) -> Path:
    rtp_min, rtp_max = free_range(2000 * rtpengines)
    nodes = int(bridge.get("nodes", 1))
    node_min, node_max = free_range(2000 * nodes)
    bridge_settings: dict[str, Any] = {
        "sip_port": free_ports(nodes, "udp"), "metrics_port": free_ports(nodes), "rtp_port_min": node_min,
        "rtp_port_max": node_max, "heartbeat_interval": 1.0, "rtp_timeout": E2E_RTP_TIMEOUT, **bridge,
    }
    rtpengine_addresses: dict[str, str] = {}
    if own_addresses:
        bridge_settings["node_addresses"] = ",".join(f"{NODES_NET}{10 + i}" for i in range(nodes))
        rtpengine_addresses["instance_addresses"] = ",".join(f"{NODES_NET}{20 + i}" for i in range(rtpengines))
    sections: dict[str, dict[str, Any]] = {
        "sip": {"port": free_port("both"), "metrics_port": free_port(), "tls_port": free_port()},
        "rtpengine": {"ng_port": free_ports(rtpengines, "udp"), "port_min": rtp_min, "port_max": rtp_max,
                      "metrics_port": free_ports(rtpengines), "instances": rtpengines, **rtpengine_addresses},
        "redis": {"port": free_ports(redis_replicas + 1), "exporter_port": free_port(),
                  **({"replicas": redis_replicas, "sentinel_port": free_ports(3)} if redis_replicas else {})},
        "bridge": bridge_settings,
        "web": {"port": free_port(), "workers": 1, "metrics_port": free_port()},
        "workers": {"metrics_port": free_port()},
        # Scheduled conferences' calls ring briefly and are retried soon, so tests watch it happen.
        "conferences": {"ring_seconds": 12, "retries": 1, "retry_seconds": 2, "caller_id": INSTALLATION_NUMBER},
        "mail": {"port": mail_port or free_port()},
        # Receivers are test servers on loopback; a dead one is given up on within seconds.
        "webhooks": {"allow_private": True, "attempts": 3, "retry_first": 1.0, "retry_longest": 2.0},
    }
    lines = [f'var_dir = "{var_dir}"']
    for name, values in sections.items():
        lines.append(f"[{name}]")
        lines += [f"{key} = {json.dumps(value)}" for key, value in values.items()]
    path = var_dir / "kamconf.toml"
    var_dir.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return path


@contextmanager
def running_stack(var_dir: Path, mail_port: int | None = None, rtpengines: int = 1, redis_replicas: int = 0,
                  own_addresses: bool = False, **bridge: Any) -> Iterator[Stack]:
    path = write_config(var_dir, mail_port, rtpengines, redis_replicas, own_addresses, **bridge)
    config = settings.load(path)
    supervisor = Supervisor(config, path, echo=None)
    try:
        supervisor.start()
        supervisor.keep_running()  # as `make run` does: a component that dies is restarted alone
        yield Stack(config, path, supervisor)
    finally:
        supervisor.stop()


@contextmanager
def walls_stack(var_dir: Path) -> Iterator[Stack]:
    env = {"KAMCONF_EDGE_AUTH_FAILURES": str(WALLS_AUTH_FAILURES),
           "KAMCONF_EDGE_DIALOG_KEEPALIVE": str(WALLS_KEEPALIVE),
           "KAMCONF_EDGE_CALLS_PER_SOURCE": str(WALLS_CALLS_PER_SOURCE)}
    saved = {name: os.environ.get(name) for name in env}
    os.environ.update(env)
    try:
        with running_stack(var_dir) as stack:
            yield stack
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


class Stack:
    def __init__(self, config: settings.Config, path: Path, supervisor: Supervisor) -> None:
        self.config = config
        self.config_file = path
        self.supervisor = supervisor
        self.sip = f"{config.sip.address}:{config.sip.port}"
        self.api = f"http://{config.web.address}:{config.web.port}/api/v1"
        self._token: str | None = None

    def room_uri(self, number: str) -> str:
        return f"sip:{number}@{self.sip}"

    def log(self, name: str) -> str:
        return self.supervisor.log_path(name).read_text(errors="replace")

    @property
    def token(self) -> str:
        if self._token is None:
            done = subprocess.run(
                [sys.executable, "-m", "web.token"], capture_output=True, text=True, check=True,
                env={**os.environ, "KAMCONF_CONFIG": str(self.config_file)},
            )
            self._token = done.stdout.strip()
        return self._token

    def request(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.api + path, data=data, method=method, headers={
            "Authorization": f"Bearer {self.token}", "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                raw = resp.read()
                return resp.status, json.loads(raw) if raw else None
        except urllib.error.HTTPError as err:
            raw = err.read()
            return err.code, json.loads(raw) if raw else None

    def in_conference(self, number: str) -> int:
        people = live.participants(live.connect(self.config.redis_url), number)
        return sum(1 for person in people if person["state"] == "in_conference")

    def wait_in_conference(self, number: str, count: int, timeout: float = 20) -> None:
        """Until `count` callers are past the entry prompts and in the mix."""
        if not wait_for(lambda: self.in_conference(number) == count, timeout):
            raise AssertionError(f"room {number}: {self.in_conference(number)} in conference, wanted {count}")

    def upload_sound(self, path: Path, name: str) -> dict[str, Any]:
        """POST a file to the sound library as a browser would (multipart/form-data)."""
        boundary = uuid.uuid4().hex
        body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\n{name}\r\n"
                f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{path.name}\"\r\n"
                "Content-Type: application/octet-stream\r\n\r\n").encode() + path.read_bytes() + (
                f"\r\n--{boundary}--\r\n").encode()
        req = urllib.request.Request(self.api + "/sounds", data=body, method="POST", headers={
            "Authorization": f"Bearer {self.token}", "Content-Type": f"multipart/form-data; boundary={boundary}"})
        with urllib.request.urlopen(req, timeout=30) as resp:
            assert resp.status == 201
            return dict(json.loads(resp.read()))

    def download(self, path: str) -> bytes:
        req = urllib.request.Request(self.api + path, headers={"Authorization": f"Bearer {self.token}"})
        with urllib.request.urlopen(req, timeout=10) as resp:
            return bytes(resp.read())

    def create_room(self, number: str, **fields: Any) -> dict[str, Any]:
        status, body = self.request("POST", "/rooms", {"number": number, **fields})
        assert status == 201, body
        return body
