"""What per-leg call quality sampling costs a bridge node: CPU per participant with sampling off and on.

The load of bench.bridge_capacity (its load generator on CPU 1, rooms of 5, every caller sending a
tone; the node pinned to CPU 0) but through Kamailio and rtpengine, as real calls come: a node
takes only calls Kamailio signed for it (conference.vouch). At fixed loads, alternating a node
with `[bridge] quality_interval = 0` (off) and one with the default (on), so both meet the same
machine-day (in either order, round by round). The node's own counter of the time its loop spent sampling
(kamconf_bridge_quality_sampling_seconds_total) is read too: the direct cost, next to the CPU figures
whose run-to-run noise is larger than it.
Usage: .venv/bin/python -m bench.quality_cost [--participants 100 200] [--rounds 2] [--seconds 20]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import settings
from bench.bridge_capacity import loaded_stack, one_step
from tests.support.audio import write_tone

ON = 5.0  # the default interval (settings.BridgeConfig.quality_interval)


WATCHED = {"sampling": "kamconf_bridge_quality_sampling_seconds_total{",
           "turns": 'kamconf_bridge_loop_lag_seconds_bucket{le="+Inf"',
           "quick_turns": 'kamconf_bridge_loop_lag_seconds_bucket{le="0.01"'}


def node_counters(config: settings.Config) -> dict[str, float]:
    """The node's sampling time and its loop turns (all, and those at most 10 ms late)."""
    url = f"http://{config.bridge.address}:{config.bridge.metrics_port}/metrics"
    found = dict.fromkeys(WATCHED, 0.0)
    with urllib.request.urlopen(url, timeout=5) as response:
        for line in response.read().decode().splitlines():
            for name, prefix in WATCHED.items():
                if line.startswith(prefix):
                    found[name] = float(line.rsplit(" ", 1)[1])
    return found


def run(participants: int, interval: float, seconds: float, tmp: Path) -> dict[str, float]:
    """One node with this sampling interval, loaded with `participants` for `seconds`."""
    var = tmp / f"var-{participants}-{interval}-{time.monotonic_ns()}"
    with loaded_stack(var, participants, quality_interval=interval) as (config, supervisor):
        pid = supervisor.procs["bridge"].pid
        subprocess.run(["taskset", "-apc", "0", str(pid)], check=True, capture_output=True)
        before, since = node_counters(config), time.monotonic()
        result = one_step(f"{config.sip.address}:{config.sip.port}", participants, seconds,
                          write_tone(tmp / "tone.wav", 440.0, 60), pid)
        # Over the whole step (joins, the measured seconds, hang-ups): the load generator is done by now.
        after, elapsed = node_counters(config), time.monotonic() - since
        result["sampling_ms_per_s"] = round(1000 * (after["sampling"] - before["sampling"]) / elapsed, 2)
        turns = after["turns"] - before["turns"]
        late = turns - (after["quick_turns"] - before["quick_turns"])
        result["turns_over_10ms_pct"] = round(100 * late / max(turns, 1), 3)
        return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--participants", type=int, nargs="+", default=[100, 200])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for participants in args.participants:
            for round_no in range(args.rounds):
                # Off first in odd rounds, on first in even ones: whatever the order favours, both get it.
                for interval in (0.0, ON) if round_no % 2 == 0 else (ON, 0.0):
                    result = run(participants, interval, args.seconds, Path(tmp))
                    print(json.dumps({"participants": participants, "round": round_no + 1,
                                      "sampling": "on" if interval else "off", **result}), flush=True)


if __name__ == "__main__":
    main()
