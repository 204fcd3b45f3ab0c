"""The bridge node's CPU under load, and where it goes: a flame graph (py-spy) and before/after figures.

The load of bench.bridge_capacity (rooms of 5 called through Kamailio and rtpengine by bench.loadgen
on CPU 1, the node pinned to CPU 0, only the node's CPU read), in kinds of run alternated round by
round so every kind meets the same machine-day (the machine is shared: the load average is printed
beside each figure):
- `after`: this tree's bridge;
- `before`: the bridge of commit --before (exported with `git archive`; the rest of the stack is
  this tree's), so a change is measured against what it replaced in one run;
- `..., gate on` (--gate): each of those with [bridge] noise_gate on (its level sampling of gated legs
  every frame).
--sound noise makes every caller send low-level noise (every leg of every room gated: the gate's
worst case), tone a 440 Hz tone (nobody gated: every leg talks).
Each figure: the node's CPU, and its split into the Python loop (main thread) and PJSIP's media threads.
--flame FILE records one more `after` run with py-spy (native frames too) into an SVG; --perf FILE one
with `perf record -g` (every thread, C and kernel; read it with `perf report -i FILE`).
Usage: .venv/bin/python -m bench.profile_bridge [--participants 300] [--rounds 2] [--seconds 20]
       [--before REV] [--gate] [--sound tone|noise] [--flame bench/flame-bridge.svg] [--perf FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.bridge_capacity import loaded_stack, one_step
from tests.support.audio import write_samples, write_tone

ROOT = Path(__file__).resolve().parent.parent
NOISE_DB = -50.0  # dBFS RMS of the noise callers send with --sound noise: a quiet room's phone
JOINS_PER_SECOND, SETTLE = 100, 5.0  # bench.loadgen's pace: the measured window starts after both


def sound(kind: str, folder: Path) -> Path:
    if kind == "tone":
        return write_tone(folder / "tone.wav", 440.0, 120)
    rms = 10 ** (NOISE_DB / 20) / np.sqrt(2)  # write_tone's level is a sine's peak; noise at a sine's RMS
    return write_samples(folder / "noise.wav", np.random.default_rng(1).normal(0.0, rms, 120 * 8000))


def export(rev: str, folder: Path) -> Path:
    """The tree of commit `rev`, to run its bridge."""
    tree = folder / f"tree-{rev}"
    tree.mkdir()
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
    return tree


def profile_argv(tool: str, pid: int, seconds: float, out: Path) -> list[str]:
    """py-spy: the Python loop's stacks (native frames too: the process is paused at each sample, so
    that run's CPU figure is not comparable with the others'); perf: every thread's C and kernel time."""
    if tool == "perf":
        return ["perf", "record", "-F", "499", "-g", "-p", str(pid), "-o", str(out), "--", "sleep", str(seconds)]
    return [str(ROOT / ".venv/bin/py-spy"), "record", "--native", "--threads", "--rate", "100", "--pid", str(pid),
            "--duration", str(int(seconds)), "--output", str(out), "--format", "flamegraph"]


def thread_cpu(pid: int) -> dict[int, float]:
    """CPU seconds of each thread of the process, by thread id."""
    times = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:  # utime and stime, as in /proc/PID/stat (which sums every thread)
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue  # a thread that ended meanwhile
        times[int(task.name)] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return times


def split_cpu(pid: int, delay: float, seconds: float, into: dict[str, float]) -> None:
    """The node's CPU over `seconds` after `delay`, as % of a core: its Python loop (the main thread,
    pjsua2's one) and PJSIP's media threads (mixing clock, RTP receive), filled into `into`."""
    time.sleep(delay)
    before, wall = thread_cpu(pid), time.monotonic()
    time.sleep(seconds)
    after, wall = thread_cpu(pid), time.monotonic() - wall
    used = {tid: after[tid] - before.get(tid, 0.0) for tid in after}
    into["loop_cpu_pct"] = round(100 * used.get(pid, 0.0) / wall, 1)
    into["media_cpu_pct"] = round(100 * sum(v for tid, v in used.items() if tid != pid) / wall, 1)


def run(tree: Path, participants: int, seconds: float, noise: Path, tmp: Path, gate: bool,
        profile: tuple[str, Path] | None = None) -> dict[str, float]:
    # Named only when on: an older commit's bridge (--before) refuses a setting it does not know.
    gated: dict[str, Any] = {"noise_gate": True} if gate else {}
    var = tmp / f"var-{time.monotonic_ns()}"
    with loaded_stack(var, participants, bridge_tree=tree, **gated) as (config, supervisor):
        pid = supervisor.procs["bridge"].pid
        subprocess.run(["taskset", "-apc", "0", str(pid)], check=True, capture_output=True)
        profiler = None
        if profile is not None:  # from when the measured window starts (loadgen's pace) to its end
            argv = profile_argv(profile[0], pid, seconds - 2, profile[1])
            profiler = threading.Timer(participants / JOINS_PER_SECOND + SETTLE + 2, subprocess.run, [argv],
                                       {"check": True, "capture_output": True})
            profiler.start()
        load = os.getloadavg()
        split: dict[str, float] = {}
        window = threading.Thread(target=split_cpu, args=(pid, participants / JOINS_PER_SECOND + SETTLE + 2,
                                                          seconds - 4, split))
        window.start()
        result = one_step(f"{config.sip.address}:{config.sip.port}", participants, seconds, noise, pid)
        window.join()
        if profiler is not None:
            profiler.join()
        return {**result, **split, "load_avg_1m": round(load[0], 2)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--participants", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--before", help="a commit whose bridge is measured beside this tree's")
    parser.add_argument("--gate", action="store_true", help="measure [bridge] noise_gate on as well")
    parser.add_argument("--sound", choices=("tone", "noise"), default="tone")
    parser.add_argument("--flame", type=Path, help="an SVG flame graph (py-spy) of one more run of this tree's bridge")
    parser.add_argument("--perf", type=Path, help="a perf.data of one more run of this tree's bridge")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        calls = sound(args.sound, tmp)
        trees = {"after": ROOT, **({"before": export(args.before, tmp)} if args.before else {})}
        kinds = {f"{name}{', gate on' if gate else ''}": (tree, gate) for name, tree in trees.items()
                 for gate in ((False, True) if args.gate else (False,))}
        for round_no in range(args.rounds):
            order = list(kinds) if round_no % 2 == 0 else list(reversed(kinds))  # whatever order favours
            for kind in order:
                tree, gate = kinds[kind]
                for _ in range(3):  # a load generator that died (another bench held its RTP ports) is tried again
                    result = run(tree, args.participants, args.seconds, calls, tmp, gate)
                    if "bridge_cpu_pct" in result:
                        break
                print(json.dumps({"participants": args.participants, "sound": args.sound, "round": round_no + 1,
                                  "kind": kind, **result}), flush=True)
        for tool, out in (("py-spy", args.flame), ("perf", args.perf)):
            if out is not None:
                result = run(ROOT, args.participants, args.seconds, calls, tmp, False, (tool, out.resolve()))
                print(json.dumps({"participants": args.participants, "kind": f"profiled ({tool})", **result}),
                      flush=True)


if __name__ == "__main__":
    main()
