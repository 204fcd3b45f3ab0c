"""Requests per second through Kamailio: kamconf's KEMI routing against a native yardstick, one run.

Starts a whole stack (KEMI routing with every wall on: pike, bans, scanner drop, sanity, digest
checks) and, beside it, a Kamailio running bench/native-kamailio.cfg (the same checks in Kamailio's
own language, every lookup in an in-memory htable). For each scenario (OPTIONS answered 200; INVITE
for an unknown number answered 404; REGISTER with its digest challenge and answer) sipp offers a
ladder of rates for a few seconds each, KEMI and native taking turns at each rate so that both
meet the same machine; a step is clean when every call succeeded and under 1 % of them needed a
retransmission (a busy machine stalls a process now and then, and UDP retransmits). Reported per
ladder: the highest clean rate of each side and their ratio, and the Redis reads per KEMI call
(store.tracking: what Redis served, heartbeats included); with --repeat, the median ratio too.
Usage: .venv/bin/python -m bench.sip_cps [--seconds 3] [--repeat 3] [--rates 250,500,...]
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import hashlib
import statistics
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import redis

from stack.components import sip_options_ok
from stack.supervisor import wait_for
from store import live
from tests.support.ports import free_port
from tests.support.stack import running_stack

HERE = Path(__file__).resolve().parent
ROOM, USER, PASSWORD = "7700", "301", "bench-password-301"
SCENARIOS = {"options": [], "invite_404": ["-s", "9999"], "register": ["-s", USER, "-au", USER, "-ap", PASSWORD]}
RATES = (250, 500, 1000, 1500, 2000, 3000, 4000, 6000, 8000, 12000)


@dataclass(frozen=True)
class Step:
    rate: int
    calls: int
    succeeded: int
    failed: int
    retransmissions: int
    redis_reads: int = 0  # Redis read commands during the step (KEMI only; heartbeats included)

    @property
    def clean(self) -> bool:
        return self.succeeded == self.calls and self.failed == 0 and self.retransmissions * 100 < self.calls


def run_sipp(target: str, scenario: str, rate: int, seconds: float, folder: Path) -> Step:
    calls = int(rate * seconds)
    stats = folder / f"{scenario}-{rate}-{time.monotonic_ns()}.csv"
    scenario_file = HERE / "sipp" / f"{scenario}.xml" if scenario != "invite_404" else (
        HERE.parent / "tests/e2e/sipp/invite_unknown.xml")
    argv = ["sipp", target, "-sf", str(scenario_file), *SCENARIOS[scenario], "-m", str(calls), "-r", str(rate),
            "-l", str(rate * 2), "-i", "127.0.0.1", "-p", str(free_port("udp")), "-nostdin",
            "-timeout", f"{seconds + 20:g}s", "-trace_stat", "-stf", str(stats), "-fd", "3600"]
    subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 40, cwd=folder)
    rows = list(csv.DictReader(stats.open(), delimiter=";")) if stats.exists() else []
    last = rows[-1] if rows else {}

    def count(name: str) -> int:
        return int(last.get(name) or 0)

    return Step(rate, calls, count("SuccessfulCall(C)"), count("FailedCall(C)"), count("Retransmissions(C)"))


READS = ("hexists", "hget", "hgetall", "smembers", "mget", "get", "exists")


def redis_reads(client: redis.Redis) -> int:
    stats = client.info("commandstats")
    return sum(int(stats.get(f"cmdstat_{name}", {}).get("calls", 0)) for name in READS)


def ladder(targets: dict[str, str], scenario: str, rates: list[int], seconds: float, folder: Path,
           client: redis.Redis) -> dict[str, tuple[int, list[Step]]]:
    """Each side's highest clean rate and its steps; the sides take turns at each rate."""
    best = {side: 0 for side in targets}
    steps: dict[str, list[Step]] = {side: [] for side in targets}
    climbing = set(targets)
    for rate in rates:
        for side in sorted(climbing):
            before = redis_reads(client)
            step = run_sipp(targets[side], scenario, rate, seconds, folder)
            step = dataclasses.replace(step, redis_reads=redis_reads(client) - before)
            steps[side].append(step)
            if step.clean:
                best[side] = rate
            else:
                climbing.discard(side)
            time.sleep(1)  # the step's transactions end before the next
        if not climbing:
            break
    return {side: (best[side], steps[side]) for side in targets}


@contextmanager
def native_kamailio(folder: Path, realm: str) -> Iterator[str]:
    port = free_port("udp")
    ha1 = hashlib.md5(f"{USER}:{realm}:{PASSWORD}".encode()).hexdigest()
    run = folder / "native-run"
    run.mkdir(parents=True, exist_ok=True)
    argv = ["kamailio", "-f", str(HERE / "native-kamailio.cfg"), "-DD", "-E", "-Y", str(run),
            "-A", "SIP_ADDR=127.0.0.1", "-A", f"SIP_PORT={port}", "-A", f'REALM="{realm}"',
            "-A", 'TRUSTED_ADDR="127.0.0.1"', "-A", f'BENCH_ROOM="{ROOM}"', "-A", f'BENCH_USER="{USER}"',
            "-A", f'BENCH_HA1="{ha1}"', "-A", f'CTL_SOCK="unixs:{run / "ctl.sock"}"']
    log = (folder / "native-kamailio.log").open("w")
    process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
    try:
        if not wait_for(lambda: sip_options_ok("127.0.0.1", port), 15):
            raise SystemExit(f"native Kamailio did not start: see {log.name}")
        yield f"127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=3.0, help="length of each rate step")
    parser.add_argument("--rates", default=",".join(map(str, RATES)))
    parser.add_argument("--scenarios", default=",".join(SCENARIOS))
    parser.add_argument("--repeat", type=int, default=1, help="ladders per scenario")
    args = parser.parse_args()
    rates = [int(rate) for rate in args.rates.split(",")]
    with tempfile.TemporaryDirectory() as tmp, running_stack(Path(tmp) / "var") as stack:
        folder = Path(tmp)
        stack.create_room(ROOM)
        status, body = stack.request("POST", "/extensions", {"number": USER, "password": PASSWORD})
        if status != 201:
            raise SystemExit(f"extension not created: {status} {body}")
        with native_kamailio(folder, stack.config.sip.realm) as native:
            client = live.connect(stack.config.redis_url)
            print(f"{'scenario':<11} {'KEMI clean/s':>12} {'native clean/s':>14} {'ratio':>6} {'reads/call':>11}   "
                  "first unclean steps")
            for scenario in args.scenarios.split(","):
                ratios = []
                for _ in range(args.repeat):
                    result = ladder({"KEMI": stack.sip, "native": native}, scenario, rates, args.seconds, folder,
                                    client)
                    (kemi, kemi_steps), (yardstick, _) = result["KEMI"], result["native"]
                    reads = sum(step.redis_reads for step in kemi_steps) / sum(step.calls for step in kemi_steps)
                    ratios.append(kemi / yardstick if yardstick else float("nan"))
                    unclean = [f"{side} {s.rate}/s: {s.succeeded}/{s.calls} ok, {s.failed} failed, "
                               f"{s.retransmissions} retrans" for side, (_, steps) in result.items()
                               for s in steps if not s.clean]
                    print(f"{scenario:<11} {kemi:>12} {yardstick:>14} {ratios[-1]:>6.2f} {reads:>11.3f}   "
                          f"{'; '.join(unclean)}", flush=True)
                if args.repeat > 1:
                    print(f"{scenario:<11} median ratio {statistics.median(ratios):.2f}", flush=True)


if __name__ == "__main__":
    main()
