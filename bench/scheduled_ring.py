"""How long after a scheduled conference's start time the last of its 50 participants' phones rings.

Starts its own stack on random loopback ports, points a trunk at a tiny SIP endpoint here that
notes when each INVITE arrives (and answers 486, so nothing lingers), schedules a conference
a few seconds ahead with 50 external numbers behind that trunk, and reports, per run, the
delay from the start time to the first, median and last INVITE.
Usage: .venv/bin/python -m bench.scheduled_ring [--participants 50] [--runs 3]
"""

from __future__ import annotations

import argparse
import socket
import statistics
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.support.stack import Stack, running_stack
from tests.support.wall import same_day


class RingCounter:
    """Notes the first INVITE for each number and refuses it (486), like busy phones."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.rung: dict[str, float] = {}
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self) -> None:
        while True:
            data, peer = self.sock.recvfrom(65535)
            text = data.decode(errors="replace")
            if not text.startswith("INVITE "):
                continue
            number = text.split(" ", 2)[1].split(":", 1)[1].split("@", 1)[0]
            self.rung.setdefault(number, time.time())
            self.sock.sendto(busy(text).encode(), peer)


def busy(invite: str) -> str:
    head = invite.split("\r\n\r\n", 1)[0].split("\r\n")[1:]
    keep = [line for line in head if line.split(":", 1)[0].strip().lower() in ("via", "from", "call-id", "cseq")]
    to = next(line for line in head if line.split(":", 1)[0].strip().lower() == "to")
    return "\r\n".join(["SIP/2.0 486 Busy Here", *keep, f"{to};tag=bench", "Content-Length: 0", "", ""])


def one_run(stack: Stack, counter: RingCounter, participants: int, run: int) -> list[float]:
    numbers = [f"8{run}{index:09d}" for index in range(participants)]
    zone, start, end = same_day((datetime.now(UTC) + timedelta(seconds=8)).replace(microsecond=0),
                                timedelta(minutes=30))
    status, made = stack.request("POST", "/conferences", {
        "topic": "bench", "zone": zone, "date": start.date().isoformat(), "start": f"{start:%H:%M:%S}",
        "end": f"{end:%H:%M:%S}", "owner": {"number": numbers[0]},
        "participants": [{"number": n} for n in numbers[1:]], "open_dial_in": True})
    assert status == 201, made
    deadline = time.time() + 60
    while time.time() < deadline and len([n for n in numbers if n in counter.rung]) < participants:
        time.sleep(0.1)
    return sorted(counter.rung[n] - start.timestamp() for n in numbers if n in counter.rung)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--participants", type=int, default=50)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    counter = RingCounter()
    with tempfile.TemporaryDirectory() as tmp, running_stack(Path(tmp) / "var") as stack:
        gateway = f"127.0.0.1:{counter.port}"
        status, body = stack.request("POST", "/trunks", {"name": "bench", "gateway": gateway, "sources": [gateway],
                                                          "prefixes": ["8"]})
        assert status == 201, body
        for run in range(args.runs):
            delays = one_run(stack, counter, args.participants, run)
            print(f"run {run + 1}: {len(delays)}/{args.participants} rang; after the start time: first "
                  f"{delays[0]:.2f} s, median {statistics.median(delays):.2f} s, last {delays[-1]:.2f} s", flush=True)


if __name__ == "__main__":
    main()
