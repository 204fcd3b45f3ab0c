"""The whole media path under load, and what it costs per participant next to a same-run reference.

One run starts Redis, rtpengine, Kamailio and one bridge node (bench.bridge_capacity.loaded_stack),
then for each participant count, twice (rounds; the second in the other order):
- full path: bench.loadgen calls rooms of 5 through Kamailio; every caller's media goes through
  rtpengine to the bridge and back. Reported: late or lost frames at the callers' jitter buffers,
  and the CPU of rtpengine, the bridge and Kamailio (every worker) read from /proc over the
  measured window;
- reference: bench.rtp_pairs makes rtpengine relay plain two-party calls at the same packet rate
  (as many streams in as the participants' legs and the bridge's legs to them), no bridge.
The ratios are what travels across machines and machine-days: the media processes' CPU over the
bridge's alone (the mixing), rtpengine in the full path over rtpengine relaying plain calls (per
packet), and the mixing over the plain relay. Nothing is pinned to a CPU: the stack shares the
host as it would in production. The load average (1 min) is recorded at the start and end of
each window, as other work on the host moves the absolute figures.
Usage: .venv/bin/python -m bench.fullpath [--participants 100 200 300 400] [--seconds 15] [--rounds 2]
       [--rtpengine-arg=--num-threads=1 ...] [--plain-reference] [--direct]
  --direct: the load generator's calls come as a direct_media trunk's (README "Direct media"): their
  media goes straight to the bridge, rtpengine only relays the reference.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import procs
from bench.bridge_capacity import LIMIT_PCT, calls_direct, json_lines, loaded_stack, loadgen_messages
from tests.support.audio import write_tone

PATH = ("rtpengine", "bridge", "kamailio")  # the media path's processes, as the supervisor names them


@dataclass(frozen=True)
class Window:
    seconds: float
    cpu: dict[str, float]  # CPU seconds each process tree used in the window
    load: tuple[float, float]  # 1-minute load average at its start and end


def figures(participants: int, full: Window, reference: Window) -> dict[str, Any]:
    """Per-participant CPU (ms of CPU per participant-second; 10 ms is 1 % of a core) and the ratios."""
    def per(window: Window, name: str) -> float:
        return 1000 * window.cpu[name] / window.seconds / participants

    media = sum(per(full, name) for name in PATH)
    rtpengine, bridge, relay = per(full, "rtpengine"), per(full, "bridge"), per(reference, "rtpengine")
    return {
        "cpu_pct": {name: round(100 * full.cpu[name] / full.seconds, 1) for name in PATH},
        "relay_reference_pct": round(100 * reference.cpu["rtpengine"] / reference.seconds, 1),
        "ms_per_participant_s": {**{name: round(per(full, name), 3) for name in PATH}, "media": round(media, 3),
                                 "relay_reference": round(relay, 3)},
        "media_over_bridge": ratio(media, bridge),
        "rtpengine_over_bridge": ratio(rtpengine, bridge),
        "rtpengine_over_relay_reference": ratio(rtpengine, relay),
        "bridge_over_relay_reference": ratio(bridge, relay),
        "load": [*full.load, *reference.load],
    }


def ratio(a: float, b: float) -> float | None:
    return round(a / b, 2) if b > 0 else None


def capacity(rows: list[dict[str, Any]]) -> int:
    """The most participants at which every round kept every call and at most LIMIT_PCT of frames
    were late or lost (0 if none did)."""
    ok: dict[int, bool] = {}
    for row in rows:
        good = row["survived"] == row["participants"] and row["late_or_lost_pct"] <= LIMIT_PCT
        ok[row["participants"]] = ok.get(row["participants"], True) and good
    return max((n for n, good in ok.items() if good), default=0)


def windowed(messages: Iterator[dict[str, Any]], roots: dict[str, int]) -> tuple[dict[str, Any], Window] | None:
    """A helper's result, and the CPU of `roots` between its {"measuring"} line and its result
    (None if the helper ended without one)."""
    result: dict[str, Any] = {}
    cpu0, wall0, load0 = procs.read_cpu_seconds(roots), time.monotonic(), os.getloadavg()[0]
    for message in messages:
        if "measuring" in message:
            cpu0, wall0, load0 = procs.read_cpu_seconds(roots), time.monotonic(), os.getloadavg()[0]
        else:
            cpu1, wall1 = procs.read_cpu_seconds(roots), time.monotonic()
            result = message
            window = Window(wall1 - wall0, {name: cpu1[name] - cpu0[name] for name in roots},
                            (load0, os.getloadavg()[0]))
    return (result, window) if result else None


def reference_messages(ng: tuple[str, int], calls: int, seconds: float, plain: bool) -> Iterator[dict[str, Any]]:
    return json_lines([sys.executable, "-m", "bench.rtp_pairs", ng[0], str(ng[1]), str(calls), str(seconds),
                       *(["--plain"] if plain else [])])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--participants", type=int, nargs="+", default=[100, 200, 300, 400])
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--rtpengine-arg", action="append", default=[], help="added to rtpengine's command line")
    parser.add_argument("--plain-reference", action="store_true", help="reference calls without codec-transcode")
    parser.add_argument("--direct", action="store_true", help="the calls as a direct_media trunk's: no rtpengine")
    args = parser.parse_args()
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp, \
            loaded_stack(Path(tmp) / "var", max(args.participants), args.rtpengine_arg) as (config, supervisor):
        roots = {name: supervisor.procs[name].pid for name in PATH}
        tone = write_tone(Path(tmp) / "tone.wav", 440.0, 60)
        target = f"{config.sip.address}:{config.sip.port}"
        ng = (config.rtpengine.ng_address, config.rtpengine.ng_port)
        if args.direct:
            calls_direct(config)
        print(json.dumps({"rtpengine_args": args.rtpengine_arg, "plain_reference": args.plain_reference,
                          "direct": args.direct}), flush=True)
        for participants in args.participants:
            for round_no in range(args.rounds):
                steps = ["full", "reference"] if round_no % 2 == 0 else ["reference", "full"]
                windows: dict[str, Window] = {}
                results: dict[str, dict[str, Any]] = {}
                for step in steps:
                    for attempt in (1, 2):  # once again if the helper failed (a port another bench took)
                        messages = (loadgen_messages(target, participants, args.seconds, tone, None)
                                    if step == "full"
                                    else reference_messages(ng, participants, args.seconds, args.plain_reference))
                        found = windowed(messages, roots)
                        time.sleep(3)  # the node and rtpengine clear the step's calls
                        if found is not None:
                            results[step], windows[step] = found
                            break
                        if attempt == 2:
                            raise SystemExit(f"{step} at {participants}: the helper failed twice")
                full = results["full"]
                row = {"participants": participants, "round": round_no + 1, "survived": full["survived"],
                       "late_or_lost_pct": full["late_or_lost_pct"],
                       **figures(participants, windows["full"], windows["reference"]),
                       "reference_taken_pct": results["reference"]["taken_by_rtpengine_pct"]}
                rows.append(row)
                print(json.dumps(row), flush=True)
        print(json.dumps({"capacity": capacity(rows), "limit_pct": LIMIT_PCT}), flush=True)


if __name__ == "__main__":
    main()
