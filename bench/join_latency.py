"""Join latency: INVITE -> 200 OK through Kamailio, rtpengine and the bridge, p50/p99 over N joins.

Starts its own stack on random loopback ports (like the e2e tests), creates a
room and runs sipp's invite_bye scenario N times (a few calls at once, as
people join a meeting), reading sipp's per-call response times.
Usage: .venv/bin/python -m bench.join_latency [--calls 100] [--rate 10]
"""

from __future__ import annotations

import argparse
import csv
import statistics
import tempfile
from pathlib import Path

from tests.support.sip import sipp
from tests.support.stack import running_stack


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=100)
    parser.add_argument("--rate", type=int, default=10, help="new calls per second")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, running_stack(Path(tmp) / "var") as stack:
        stack.create_room("7700")
        done = sipp(stack.sip, "invite_bye", "-s", "7700", "-m", str(args.calls), "-r", str(args.rate),
                    "-l", str(args.rate * 3), "-trace_rtt", "-rtt_freq", "1",
                    "-set", "pt", "0", "-set", "codec", "PCMU/8000", timeout=args.calls, cwd=Path(tmp))
        # sipp's per-call response times (timer 1: INVITE -> 200), whole milliseconds.
        samples = [float(row["response_time_ms"]) for f in Path(tmp).glob("invite_bye_*_rtt.csv")
                   for row in csv.DictReader(f.open(), delimiter=";") if row["rtd_no"] == "1"]
    if done.returncode != 0 or len(samples) < args.calls:
        raise SystemExit(f"sipp failed ({done.returncode}, {len(samples)} samples): {done.stdout[-800:]}")
    print(f"join latency over {len(samples)} joins at {args.rate}/s: "
          f"p50 {percentile(samples, 50):.1f} ms, p99 {percentile(samples, 99):.1f} ms, "
          f"max {max(samples):.1f} ms, mean {statistics.mean(samples):.1f} ms")


if __name__ == "__main__":
    main()
