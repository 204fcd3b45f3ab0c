"""What a relay leg adds to a dial-in caller's mouth-to-ear delay: p50/p99, relayed against local.

Starts its own stack with two bridge nodes on random loopback ports. A scheduled conference with open
dial-in is placed on bridge-2 (relayed) or bridge-1 (local); the dial-in service is on bridge-1.
Two callers of bench.mouth_to_ear (plain RTP endpoints, PCMU, a packet every 20 ms) dial in and
type the code (RFC 4733): relayed, each click goes talker -> rtpengine -> bridge-1 -> rtpengine ->
bridge-2 (the conference's mix) -> rtpengine -> bridge-1 -> rtpengine -> listener, so the figure
holds two relays; local, one mix. A silent third caller, the chair (its password), stays in all
along: the others hear each other only while a chair is in, and the last one leaving a scheduled
conference ends it. Each round is a
fresh pair of calls (a fresh mixer phase), as in bench.mouth_to_ear.

Usage: .venv/bin/python -m bench.relay_delay [--rounds 8] [--clicks 30] [--gap 0.5]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.join_latency import percentile
from bench.mouth_to_ear import LATE, Leg, delays
from conference import address
from stack.supervisor import wait_for
from store import live
from tests.e2e.test_scheduled_conferences import schedule
from tests.support.stack import Stack, running_stack

AHEAD = 4.0  # seconds from scheduling to the start: time to place the conference first
CHAIR, GUEST = "1357", "2468"  # the conference's passwords


def dial_in(stack: Stack, code: str, password: str = GUEST) -> Leg:
    leg = Leg(stack, stack.config.conferences.dial_in)
    time.sleep(1.5)  # "enter the conference code": keys typed over it are taken, but let it start
    leg.press(f"{code}*")
    time.sleep(2.5)  # "enter the password"
    leg.press(f"{password}#")
    return leg


def one_round(stack: Stack, code: str, clicks: int, gap: float) -> tuple[list[float], int]:
    room = str(address.scheduled(code))
    talker, listener = dial_in(stack, code), dial_in(stack, code)
    stack.wait_in_conference(room, 3)
    time.sleep(2)  # entry prompts over, jitter buffers settled (setup, not what is measured)
    first = time.monotonic() + 0.1
    talker.click_at = [first + i * gap for i in range(clicks)]
    while talker.click_at:
        time.sleep(0.1)
    time.sleep(LATE + 0.2)
    talker.hang_up()
    listener.hang_up()
    if not wait_for(lambda: stack.in_conference(room) == 1, 10):
        raise SystemExit(f"{room}: the pair did not leave")
    found, _ = delays(talker.clicks, listener.heard)
    return found, len(talker.clicks)


def measure(stack: Stack, home: str, rounds: int, clicks: int, gap: float) -> tuple[list[float], int, list[float]]:
    client = live.connect(stack.config.redis_url)
    made = schedule(stack, AHEAD, owner={"number": "299"}, auto_invite=False, chair_password=CHAIR,
                    guest_password=GUEST)
    code = made["code"]
    client.set(live.AFFINITY.format(str(address.scheduled(code))), home)
    wait = datetime.fromisoformat(made["start_utc"]).timestamp() - datetime.now(UTC).timestamp()
    time.sleep(max(0.0, wait) + 1.0)  # the service turns a caller away before the start
    keeper = dial_in(stack, code, CHAIR)
    stack.wait_in_conference(str(address.scheduled(code)), 1)
    found: list[float] = []
    sent, medians = 0, []
    for _ in range(rounds):
        heard, clicked = one_round(stack, code, clicks, gap)
        found, sent = found + heard, sent + clicked
        medians.append(percentile(heard, 50) * 1000 if heard else float("nan"))
    keeper.hang_up()
    return [d * 1000 for d in found], sent, medians


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--clicks", type=int, default=30, help="per round")
    parser.add_argument("--gap", type=float, default=0.5, help="seconds between clicks")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, running_stack(Path(tmp) / "var", nodes=2) as stack:
        client = live.connect(stack.config.redis_url)
        if not wait_for(lambda: len(live.live_nodes(client)) == 2, 30):
            raise SystemExit("two bridge nodes did not come up")
        client.set(live.AFFINITY.format(str(address.DIAL_IN)), "bridge-1")
        for home, what in (("bridge-1", "local (conference on the service's node)"),
                           ("bridge-2", "relayed (conference on the other node)")):
            ms, sent, medians = measure(stack, home, args.rounds, args.clicks, args.gap)
            if not ms:
                raise SystemExit(f"{what}: no click was heard")
            print(f"{what}: {len(ms)} of {sent} clicks heard in {args.rounds} rounds: p50 {percentile(ms, 50):.1f} ms, "
                  f"p99 {percentile(ms, 99):.1f} ms, min {min(ms):.1f} ms, max {max(ms):.1f} ms; medians by round "
                  f"(ms): {' '.join(f'{m:.0f}' for m in medians)}", flush=True)


if __name__ == "__main__":
    main()
