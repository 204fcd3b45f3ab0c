"""Load generator for the capacity benches: N calls from one pjsua2 process, rooms of ROOM_SIZE.

Every call sends the same tone and listens through its jitter buffer (each
call feeds the null playback device), so the buffer's `lost` counter tells how
many 20 ms frames from the bridge came too late or never.
Usage: python -m bench.loadgen TARGET CALLS ROOM_SIZE SECONDS TONE_WAV  -> JSON lines
  ({"measuring": SECONDS} as the measured window opens, then the result)
  --churn N: instead, hold the calls for SECONDS with N leaves per minute, each followed at once by
  a join to the same room, and print the running totals every --report seconds (bench.soak).
  --listen-every K: only every K-th call listens (decodes the bridge's frames through its jitter
  buffer); the others only count packets. A lighter load generator, for counts where listening to
  every leg would take its own core (bench.bridge_capacity).
"""

from __future__ import annotations

import argparse
import json
import time

import pjsua2 as pj

from bench.bridge_capacity import STACK_PORTS_END
from bridge import sip
from settings import BridgeConfig
from tests.support.ports import free_range

SETTLE = 2.0  # seconds from a leg's answer to counting its frames: its jitter buffer primes


class LoadCall(pj.Call):
    def __init__(self, account: pj.Account, sink: pj.AudioMedia, player: pj.AudioMediaPlayer, room: int,
                 listens: bool = True) -> None:
        super().__init__(account)
        self.sink, self.player, self.room, self.listens = sink, player, room, listens
        self.confirmed = self.ended = self.left = False
        self.last_code = 0
        self.answered_at = 0.0
        self.counted_from: tuple[int, int, float] | None = None  # jbuf lost, packets received, when

    def onCallState(self, prm: pj.OnCallStateParam) -> None:  # noqa: N802
        info = self.getInfo()
        state, self.last_code = info.state, info.lastStatusCode
        if state == pj.PJSIP_INV_STATE_CONFIRMED and not self.confirmed:
            self.confirmed, self.answered_at = True, time.monotonic()
        self.ended = state == pj.PJSIP_INV_STATE_DISCONNECTED

    def onCallMediaState(self, prm: pj.OnCallMediaStateParam) -> None:  # noqa: N802
        media = self.getAudioMedia(-1)
        self.player.startTransmit(media)
        if self.listens:
            media.startTransmit(self.sink)

    def counters(self) -> tuple[int, int]:
        stat = self.getStreamStat(0)
        return stat.jbuf.lost, stat.rtcp.rxStat.pkt


def start(calls: int) -> pj.Endpoint:
    # The bridge's own endpoint setup (8 kHz clock, null device), on any free port, PCMU only.
    endpoint = sip.start_endpoint(BridgeConfig(sip_port=0, capacity=calls, clock_rate=8000))
    for codec in endpoint.codecEnum2():
        endpoint.codecSetPriority(codec.codecId, 255 if codec.codecId.startswith("PCMU/") else 0)
    return endpoint


def pump(endpoint: pj.Endpoint, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        endpoint.libHandleEvents(10)


class Caller:
    """The load generator's account, tone and sink; places calls to rooms 8000, 8001, ..."""

    def __init__(self, target: str, calls: int) -> None:
        self.target = target
        acc_cfg = pj.AccountConfig()
        acc_cfg.idUri = "sip:loadgen@127.0.0.1"
        acc_cfg.mediaConfig.transportConfig.boundAddress = "127.0.0.1"
        # Media ports free now (another bench may run beside this one); with churn, leaving calls
        # hold theirs a moment while new ones take others.
        low, high = free_range(4 * calls + 200, lowest=STACK_PORTS_END)
        acc_cfg.mediaConfig.transportConfig.port = low
        acc_cfg.mediaConfig.transportConfig.portRange = high - low
        self.account = pj.Account()
        self.account.create(acc_cfg)
        self.player = pj.AudioMediaPlayer()
        self.sink = pj.Endpoint.instance().audDevManager().getPlaybackDevMedia()

    def call(self, room: int, listens: bool = True) -> LoadCall:
        leg = LoadCall(self.account, self.sink, self.player, room, listens)
        try:
            leg.makeCall(f"sip:{8000 + room}@{self.target}", pj.CallOpParam(True))
        except pj.Error as exc:
            raise SystemExit(f"loadgen: cannot call room {8000 + room}: {exc.info()}") from None
        return leg


def measure(endpoint: pj.Endpoint, legs: list[LoadCall], seconds: float) -> dict[str, object]:
    """Every leg's received packets, and the listening legs' concealed frames, over `seconds` after
    all joined; and this process's own CPU over them (% of one core)."""
    up = [leg for leg in legs if leg.confirmed and not leg.ended]
    before = {id(leg): leg.counters() for leg in up}
    print(json.dumps({"measuring": seconds}), flush=True)
    cpu0 = time.process_time()
    pump(endpoint, seconds)
    cpu_pct = 100 * (time.process_time() - cpu0) / seconds
    alive = [leg for leg in up if not leg.ended]
    listening = [leg for leg in alive if leg.listens]
    lost = sum(leg.counters()[0] - before[id(leg)][0] for leg in listening)
    received = sum(leg.counters()[1] - before[id(leg)][1] for leg in alive)
    expected = len(alive) * seconds * 50
    heard = len(listening) * seconds * 50
    late_or_lost = max(lost / max(heard, 1), (expected - received) / max(expected, 1))
    return {
        "calls": len(legs), "connected": len(up), "survived": len(alive), "listening": len(listening),
        "failed_codes": sorted({leg.last_code for leg in legs if leg not in up}),
        "frames_expected": int(expected), "packets_received": int(received), "frames_concealed": int(lost),
        "late_or_lost_pct": round(100 * late_or_lost, 3), "loadgen_cpu_pct": round(cpu_pct, 1),
    }


class Churn:
    """Holds the calls with leaves and joins at a steady rate; counts what a carrier would count."""

    def __init__(self, caller: Caller, legs: list[LoadCall]) -> None:
        self.caller, self.legs = caller, legs
        self.leaving: list[LoadCall] = []  # hung up by us, kept until PJSIP says they ended
        self.joins = self.leaves = self.dropped = self.failed = 0
        self.expected = self.received = self.concealed = 0.0

    def tick(self, now: float) -> None:
        for leg in list(self.legs):
            if leg.ended:  # not hung up by us: dropped if it was up, a failed join if never
                self.legs.remove(leg)
                self.leaving.append(leg)
                if leg.confirmed:
                    self.dropped += 1
                    self.legs.append(self.caller.call(leg.room))  # the participant calls back
                    self.joins += 1
                else:
                    self.failed += 1  # its room stays a caller short: no storm of retries at a stack refusing
            elif leg.confirmed and leg.counted_from is None and now - leg.answered_at >= SETTLE:
                leg.counted_from = (*leg.counters(), now)
        self.leaving = [leg for leg in self.leaving if not leg.ended]

    def count(self, leg: LoadCall, now: float) -> None:
        if leg.counted_from is None or leg.ended:
            return
        lost, received = leg.counters()
        self.concealed += lost - leg.counted_from[0]
        self.received += received - leg.counted_from[1]
        self.expected += (now - leg.counted_from[2]) * 50

    def swap(self, now: float) -> None:
        """The longest-standing answered leg leaves; a new one joins its room."""
        leg = next((leg for leg in self.legs if leg.confirmed and not leg.ended), None)
        if leg is None:
            return
        self.count(leg, now)
        leg.left = True
        leg.hangup(pj.CallOpParam())
        self.legs.remove(leg)
        self.leaving.append(leg)
        self.legs.append(self.caller.call(leg.room))
        self.leaves, self.joins = self.leaves + 1, self.joins + 1

    def totals(self, now: float) -> dict[str, object]:
        expected, received, concealed = self.expected, self.received, self.concealed
        for leg in self.legs:
            if leg.counted_from is not None and not leg.ended:
                lost, got = leg.counters()
                concealed += lost - leg.counted_from[0]
                received += got - leg.counted_from[1]
                expected += (now - leg.counted_from[2]) * 50
        return {
            "up": sum(leg.confirmed and not leg.ended for leg in self.legs), "joins": self.joins,
            "leaves": self.leaves, "dropped": self.dropped, "failed_joins": self.failed,
            "frames_expected": int(expected), "frames_concealed": int(concealed),
            "late_or_lost_pct": round(100 * max(concealed, expected - received) / max(expected, 1), 3),
        }


def hold(endpoint: pj.Endpoint, churn: Churn, seconds: float, per_minute: float, report: float) -> dict[str, object]:
    start = now = time.monotonic()
    next_swap, next_report = start + 60 / per_minute, start + report
    while now < start + seconds:
        pump(endpoint, 0.1)
        now = time.monotonic()
        churn.tick(now)
        if now >= next_swap:
            churn.swap(now)
            next_swap += 60 / per_minute
        if now >= next_report:
            print(json.dumps({"elapsed": round(now - start), **churn.totals(now)}), flush=True)
            next_report += report
    return churn.totals(now)


def hang_up(legs: list[LoadCall]) -> None:
    # A function of its own: no loop variable is left holding a Call when the library goes.
    for leg in legs:
        if not leg.ended:
            leg.hangup(pj.CallOpParam())


def main() -> None:
    parser = argparse.ArgumentParser()
    for name in ("target", "calls", "room_size", "seconds", "tone"):
        parser.add_argument(name)
    parser.add_argument("--churn", type=float, default=0.0, help="leaves (and joins) per minute")
    parser.add_argument("--report", type=float, default=60.0, help="seconds between running totals")
    parser.add_argument("--listen-every", type=int, default=1, help="only every K-th call listens")
    args = parser.parse_args()
    calls, room_size, seconds = int(args.calls), int(args.room_size), float(args.seconds)
    endpoint = start(calls)
    caller = Caller(args.target, calls)
    caller.player.createPlayer(args.tone)
    legs: list[LoadCall] = []
    for index in range(calls):
        legs.append(caller.call(index // room_size, index % args.listen_every == 0))
        pump(endpoint, 0.01)  # about 100 joins per second
    pump(endpoint, 5.0)  # settle: every room full, jitter buffers primed
    if args.churn > 0:
        churn = Churn(caller, legs)
        print(json.dumps({"holding": seconds}), flush=True)
        result = hold(endpoint, churn, seconds, args.churn, args.report)
        print(json.dumps({"calls": calls, **result}), flush=True)
        pump(endpoint, 5.0)  # every call still up while bench.soak reads the processes' memory
        legs = churn.legs + churn.leaving
        del churn
    else:
        print(json.dumps(measure(endpoint, legs, seconds)), flush=True)
    hang_up(legs)
    pump(endpoint, 3.0)
    # PJSIP asserts if a Call outlives the library.
    legs.clear()
    del caller
    endpoint.libDestroy()


if __name__ == "__main__":
    main()
