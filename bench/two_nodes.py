"""Two bridge nodes on one host, one per core (issue 13): what 2N participants cost next to N.

One run starts Redis, rtpengine, Kamailio and two bridge nodes (bench.bridge_capacity.loaded_stack),
bridge-1 pinned to CPU 0 and bridge-2 to CPU 1. Each round measures, in turn:
- one node: N participants in rooms of 5, every room on bridge-1 (its affinity set there);
- two nodes: 2N participants, half the rooms on each node.
The load generator (unpinned) calls through Kamailio as a direct_media trunk's calls
(bench.bridge_capacity.calls_direct), so rtpengine relays nothing and the two cores go to the nodes and the
load generator; --anchored puts rtpengine back in the path. Reported per window: each node's CPU,
late or lost frames, calls kept, the load average; per round, the nodes' CPU for 2N over that for N
(the goal: at most 2.2) and the participants one core would carry at each node's cost.
Usage: .venv/bin/python -m bench.two_nodes [--participants 200] [--seconds 15] [--rounds 2] [--anchored]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import settings
from bench.bridge_capacity import ROOM_SIZE, calls_direct, loaded_stack, loadgen_messages
from bench.fullpath import windowed
from store import live
from tests.support.audio import write_tone

NODES = ("bridge-1", "bridge-2")
FIRST_ROOM = 8000  # bench.loadgen's


def place(config: settings.Config, participants: int, nodes: tuple[str, ...]) -> None:
    """The loadgen's rooms for `participants`, shared out over `nodes` in equal runs."""
    client = live.connect(config.redis_url)
    rooms = participants // ROOM_SIZE
    for index in range(rooms):
        client.set(live.AFFINITY.format(FIRST_ROOM + index), nodes[index * len(nodes) // rooms])


def per_core(participants: int, cpu_pct: float) -> int | None:
    """Participants one core would carry at this cost (none measured: None)."""
    return round(participants * 100 / cpu_pct) if cpu_pct > 0 else None


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--participants", type=int, default=200, help="N: on one node, then 2N on two")
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--anchored", action="store_true", help="the calls through rtpengine too")
    args = parser.parse_args()
    n = args.participants
    with tempfile.TemporaryDirectory() as tmp, loaded_stack(Path(tmp) / "var", 2 * n, nodes=2) as (config, supervisor):
        roots = {node: supervisor.procs[node].pid for node in NODES}
        for cpu, pid in enumerate(roots.values()):
            subprocess.run(["taskset", "-apc", str(cpu), str(pid)], check=True, capture_output=True)
        if not args.anchored:
            calls_direct(config)
        tone = write_tone(Path(tmp) / "tone.wav", 440.0, 60)
        target = f"{config.sip.address}:{config.sip.port}"
        print(json.dumps({"participants": n, "anchored": args.anchored}), flush=True)
        for round_no in range(args.rounds):
            cost: dict[int, float] = {}
            steps = [(n, NODES[:1]), (2 * n, NODES)]
            for participants, nodes in steps if round_no % 2 == 0 else reversed(steps):
                place(config, participants, nodes)
                found = windowed(loadgen_messages(target, participants, args.seconds, tone, None), roots)
                time.sleep(3)  # the nodes clear the step's calls
                if found is None:
                    raise SystemExit(f"{participants} on {len(nodes)} node(s): the load generator failed")
                result, window = found
                pct = {node: round(100 * window.cpu[node] / window.seconds, 1) for node in NODES}
                cost[participants] = sum(pct.values())
                row: dict[str, Any] = {
                    "round": round_no + 1, "participants": participants, "nodes": len(nodes),
                    "survived": result["survived"], "late_or_lost_pct": result["late_or_lost_pct"],
                    "cpu_pct": pct, "per_core": per_core(participants // len(nodes), pct[nodes[0]]),
                    "load": [round(x, 2) for x in window.load]}
                print(json.dumps(row), flush=True)
            print(json.dumps({"round": round_no + 1, "cost_2n_over_n": round(cost[2 * n] / cost[n], 2)}), flush=True)


if __name__ == "__main__":
    main()
