"""How many participants one bridge node mixes on one core, rooms of 5, before >1% of frames are late or lost.

The bridge process is pinned to CPU 0 and called through Kamailio (the node takes calls only from
Kamailio, signed) as a direct_media trunk's calls, so rtpengine relays nothing and this measures the
mixer (--anchored: through rtpengine too, which then needs a core of its own near 1,000). The load
generator runs on CPU 1; with --listen-every K only every K-th of its calls decodes what it hears, so
it stays below a core where the node saturates (bench.loadgen). Each step adds participants until
the listeners' jitter buffers conceal more than 1% of frames (late or missing), packets go missing,
or calls fail; each step reports the node's and the load generator's CPU.
Usage: .venv/bin/python -m bench.bridge_capacity [--start 100] [--step 100] [--max 1000] [--seconds 20]
       [--listen-every 1] [--anchored]
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import settings
from bench import procs
from conference.extensions import TrunkSettings
from conference.rooms import RoomSettings
from stack.components import components
from stack.supervisor import Supervisor
from store import live
from tests.support.audio import write_tone
from tests.support.ports import free_range
from tests.support.stack import write_config

ROOM_SIZE = 5
LIMIT_PCT = 1.0
STACK_PORTS_END = 40000  # bench.loadgen's media ports are above it


def cpu_seconds(pid: int) -> float:
    return procs.read_cpu_seconds({"it": pid})["it"]


def loadgen_messages(target: str, calls: int, seconds: float, tone: Path, cpu: str | None = "1",
                     *extra: str) -> Iterator[dict[str, Any]]:
    """Runs bench.loadgen (on CPU `cpu`, or anywhere) and yields its JSON lines as they come:
    {"measuring": seconds} as its measured window opens, then its result."""
    pin = ["taskset", "-c", cpu] if cpu is not None else []
    yield from json_lines([*pin, sys.executable, "-m", "bench.loadgen", target, str(calls), str(ROOM_SIZE),
                           str(seconds), str(tone), *extra])


def json_lines(argv: list[str]) -> Iterator[dict[str, Any]]:
    """A bench helper process's JSON lines as they come (its other output is pjsua's console)."""
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": os.getcwd()})
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("{"):  # not pjsua's own console lines
            yield json.loads(line)
    proc.wait()


def one_step(target: str, calls: int, seconds: float, tone: Path, bridge_pid: int,
             *loadgen_args: str) -> dict[str, float]:
    result: dict[str, float] = {}
    cpu0 = wall0 = 0.0
    for message in loadgen_messages(target, calls, seconds, tone, "1", *loadgen_args):
        if "measuring" in message:
            cpu0, wall0 = cpu_seconds(bridge_pid), time.monotonic()
        else:
            result = message
            result["bridge_cpu_pct"] = round(100 * (cpu_seconds(bridge_pid) - cpu0) / (time.monotonic() - wall0), 1)
    return result


def calls_direct(config: settings.Config) -> None:
    """Kamailio takes the load generator's calls (from 127.0.0.1) as a direct_media trunk's: their
    media goes straight to the bridge (README "Direct media")."""
    trunk = TrunkSettings("loadgen", "127.0.0.1:9", (config.sip.address,), direct_media=True)
    live.put_entry(live.connect(config.redis_url), live.TRUNKS, trunk.name, trunk.as_dict())


def put_rooms(config: settings.Config, participants: int, **settings_: Any) -> None:
    """The rooms bench.loadgen calls (8000, 8001, ...: ROOM_SIZE callers each), quiet: no count
    announced, no join tones; with `settings_` (RoomSettings') besides."""
    rooms = live.connect(config.redis_url)
    for number in range(8000, 8000 + participants // ROOM_SIZE + 1):
        room = RoomSettings(str(number), announce_count=False, mute_notifications=True, **settings_)
        live.put_entry(rooms, live.ROOMS, str(number), room.as_dict())


@contextlib.contextmanager
def loaded_stack(var: Path, participants: int, rtpengine_args: Sequence[str] = (), nodes: int = 1,
                 bridge_tree: Path | None = None, **bridge: Any) -> Iterator[tuple[settings.Config, Supervisor]]:
    """Redis, rtpengine (given `rtpengine_args` after its own), Kamailio and `nodes` bridge nodes
    ("bridge", or "bridge-1", "bridge-2", ...; `bridge` settings added to [bridge]; their code from
    `bridge_tree` first, if given: another commit's), with the rooms bench.loadgen calls for
    `participants`; one caller places every call, so no flood limit."""
    capacity = max(participants, 1000)
    # The stack's media ports below STACK_PORTS_END, bench.loadgen's above: a load generator's range
    # drawn while a node's was not bound yet would take ports the node needs (calls failed with 500).
    low, high = free_range(2 * (capacity + settings.SPARE_CALLS) * nodes, highest=STACK_PORTS_END)
    path = write_config(var, capacity=capacity, nodes=nodes, rtp_port_min=low, rtp_port_max=high, **bridge)
    with path.open("a") as toml:
        toml.write("[edge]\nflood_requests = 1000000\n")
    # 8 a participant: its legs, and bench.fullpath's reference calls beside them. At most 5,000 (1,250
    # anchored participants): a wider range seldom misses the stack's other ports, drawn at random.
    config = widen_media_ports(path, min(8 * participants + 1000, 5000))
    parts = []
    for part in components(config, path):
        if part.name == "rtpengine":
            part = dataclasses.replace(part, argv=[*part.argv, *rtpengine_args])
        elif part.name.startswith("bridge") and bridge_tree is not None:
            path_first = f"{bridge_tree}{os.pathsep}{part.env['PYTHONPATH']}"
            part = dataclasses.replace(part, env={**part.env, "PYTHONPATH": path_first})
        parts.append(part)
    supervisor = Supervisor(config, path, echo=None, parts=parts)
    try:
        bridges = {part.name for part in parts if part.name.startswith("bridge")}
        supervisor.start(only={"redis", "rtpengine", "kamailio", *bridges})
        put_rooms(config, participants)
        yield config, supervisor
    finally:
        supervisor.stop()


def widen_media_ports(path: Path, ports: int) -> settings.Config:
    """rtpengine's media ports in `path` made `ports` wide (a test stack's 2000 hold 500 calls, and
    bench.fullpath's reference calls come while the last step's ports may still be held)."""
    text = path.read_text()
    for _ in range(100):
        low, high = free_range(ports, highest=STACK_PORTS_END)
        lines = [f"port_min = {low}" if line.startswith("port_min = ") else
                 f"port_max = {high}" if line.startswith("port_max = ") else line  # only [rtpengine] has these
                 for line in text.splitlines()]
        path.write_text("\n".join(lines) + "\n")
        try:
            return settings.load(path)
        except settings.ConfigError:
            continue  # it met another range of the stack
    raise SystemExit(f"no free range of {ports} ports for rtpengine")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--start", type=int, default=100)
    parser.add_argument("--step", type=int, default=100)
    parser.add_argument("--max", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--listen-every", type=int, default=1, help="only every K-th loadgen call listens")
    parser.add_argument("--anchored", action="store_true", help="the calls through rtpengine too")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, loaded_stack(Path(tmp) / "var", args.max) as (config, supervisor):
        bridge_pid = supervisor.procs["bridge"].pid
        subprocess.run(["taskset", "-apc", "0", str(bridge_pid)], check=True, capture_output=True)
        if not args.anchored:
            calls_direct(config)
        tone = write_tone(Path(tmp) / "tone.wav", 440.0, 30)
        target = f"{config.sip.address}:{config.sip.port}"
        for calls in range(args.start, args.max + 1, args.step):
            result = one_step(target, calls, args.seconds, tone, bridge_pid, "--listen-every", str(args.listen_every))
            print(json.dumps({**result, "load": round(os.getloadavg()[0], 1)}), flush=True)
            if result.get("late_or_lost_pct", 100) > LIMIT_PCT or result.get("survived", 0) < calls:
                break
            time.sleep(3)  # let the node clear the previous step's calls


if __name__ == "__main__":
    main()
