"""How many participants one bridge node mixes on one core, rooms of 5, before >1% of frames are late or lost.

The bridge process is pinned to CPU 0 and called through Kamailio (the node takes calls only from
Kamailio, signed) and rtpengine; only the bridge's CPU is read, so this still measures the mixer.
The load generator runs on CPU 1. Each
step adds participants until the listeners' jitter buffers conceal more than
1% of frames (late or missing) or packets go missing.
Usage: .venv/bin/python -m bench.bridge_capacity [--start 100] [--step 100] [--max 1000] [--seconds 20]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import settings
from conference.rooms import RoomSettings
from stack.supervisor import Supervisor
from store import live
from tests.support.audio import write_tone
from tests.support.stack import write_config

ROOM_SIZE = 5
LIMIT_PCT = 1.0


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def one_step(target: str, calls: int, seconds: float, tone: Path, bridge_pid: int) -> dict[str, float]:
    argv = ["taskset", "-c", "1", sys.executable, "-m", "bench.loadgen", target, str(calls), str(ROOM_SIZE),
            str(seconds), str(tone)]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": os.getcwd()})
    assert proc.stdout is not None
    result: dict[str, float] = {}
    cpu0 = wall0 = 0.0
    for line in proc.stdout:
        if not line.startswith("{"):
            continue  # pjsua's own console lines
        message = json.loads(line)
        if "measuring" in message:
            cpu0, wall0 = cpu_seconds(bridge_pid), time.monotonic()
        else:
            result = message
            result["bridge_cpu_pct"] = round(100 * (cpu_seconds(bridge_pid) - cpu0) / (time.monotonic() - wall0), 1)
    proc.wait()
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--start", type=int, default=100)
    parser.add_argument("--step", type=int, default=100)
    parser.add_argument("--max", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        var = Path(tmp) / "var"
        path = write_config(var, capacity=1000)
        config = settings.load(path)
        supervisor = Supervisor(config, path, echo=None)
        supervisor.start(only={"redis", "rtpengine", "kamailio", "bridge"})
        try:
            bridge_pid = supervisor.procs["bridge"].pid
            subprocess.run(["taskset", "-apc", "0", str(bridge_pid)], check=True, capture_output=True)
            rooms = live.connect(config.redis_url)
            for number in range(8000, 8000 + args.max // ROOM_SIZE + 1):  # loadgen's room numbers
                room = RoomSettings(str(number), announce_count=False, mute_notifications=True)
                live.put_entry(rooms, live.ROOMS, str(number), room.as_dict())
            tone = write_tone(Path(tmp) / "tone.wav", 440.0, 30)
            target = f"{config.sip.address}:{config.sip.port}"
            for calls in range(args.start, args.max + 1, args.step):
                result = one_step(target, calls, args.seconds, tone, bridge_pid)
                print(json.dumps(result), flush=True)
                if result.get("late_or_lost_pct", 100) > LIMIT_PCT or result.get("survived", 0) < calls:
                    break
                time.sleep(3)  # let the node clear the previous step's calls
        finally:
            supervisor.stop()


if __name__ == "__main__":
    main()
