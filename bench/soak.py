"""Holds N participants through the whole path (Kamailio, rtpengine, the bridge) for a long while,
with leaves and joins at a steady rate: dropped calls, late or lost frames, and the memory and file
descriptors of every process at the start and the end.

N defaults to 80 % of the full-path capacity (bench.fullpath; --capacity, default CAPACITY, the
figure in bench/RESULTS.md). bench.loadgen places the calls (rooms of 5) and, once all are up,
hangs up the longest-standing call --churn times a minute, each time calling the same room again
at once; a call that ends without its hang-up is dropped (and called again). Memory is counted
once every call is up, again at the first report --warm minutes on (when the churn has cycled the
processes' pools of ports and buffers once), and as the hold ends, before anyone hangs up; growth is
given from the start and from the warm mark. Kamailio's and Redis's children count with them.
Usage: .venv/bin/python -m bench.soak [--participants N | --capacity C] [--minutes 30] [--churn 30] [--report 60]
       [--warm 5]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from bench import procs
from bench.bridge_capacity import loaded_stack, loadgen_messages
from tests.support.audio import write_tone

# bench.fullpath, 2026-11-30 (bench/RESULTS.md, issue 17): the most participants with at most 1 % of frames
# late or lost in both rounds of every run, on the 2 shared vCPUs (400 passed in quiet rounds only).
CAPACITY = 200
SHARE = 0.8
PROCESSES = ("redis", "rtpengine", "kamailio", "bridge")


def growth(start: dict[str, dict[str, int]], end: dict[str, dict[str, int]]) -> dict[str, dict[str, Any]]:
    """Each process's memory and descriptors at the start and the end, and its memory's growth in %."""
    found: dict[str, dict[str, Any]] = {}
    for name in start:
        found[name] = {key: [start[name][key], end[name][key]] for key in ("rss_kib", "pss_kib", "fds")}
        for key in ("rss_kib", "pss_kib"):
            before = max(start[name][key], 1)
            found[name][key.replace("_kib", "_growth_pct")] = round(100 * (end[name][key] - before) / before, 2)
    return found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--participants", type=int, help=f"default: {SHARE:.0%} of --capacity")
    parser.add_argument("--capacity", type=int, default=CAPACITY, help="bench.fullpath's figure")
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--churn", type=float, default=30, help="leaves (each followed by a join) per minute")
    parser.add_argument("--report", type=float, default=60, help="seconds between running totals")
    parser.add_argument("--warm", type=float, default=5, help="minutes before the second memory mark")
    args = parser.parse_args()
    participants = args.participants or int(SHARE * args.capacity)
    with tempfile.TemporaryDirectory() as tmp, loaded_stack(Path(tmp) / "var", participants) as (config, supervisor):
        roots = {name: supervisor.procs[name].pid for name in PROCESSES}
        target = f"{config.sip.address}:{config.sip.port}"
        tone = write_tone(Path(tmp) / "tone.wav", 440.0, 60)
        start: dict[str, dict[str, int]] = {}
        warm: dict[str, dict[str, int]] = {}
        messages = loadgen_messages(target, participants, 60 * args.minutes, tone, None,
                                    "--churn", str(args.churn), "--report", str(args.report))
        for message in messages:
            if "holding" in message:
                start = procs.read_footprint(roots)
                print(json.dumps({"participants": participants, "minutes": args.minutes, "churn_per_minute":
                                  args.churn, "load": os.getloadavg()[0], "start": start}), flush=True)
            elif "elapsed" in message:
                now = procs.read_footprint(roots)
                if not warm and message["elapsed"] >= 60 * args.warm:
                    warm = now
                print(json.dumps({**message, "load": os.getloadavg()[0], "now": now}), flush=True)
            else:
                end = procs.read_footprint(roots)  # before the load generator hangs up
                print(json.dumps({**message, "load": os.getloadavg()[0], "footprint": growth(start, end),
                                  "footprint_after_warm": growth(warm, end) if warm else None}), flush=True)


if __name__ == "__main__":
    main()
