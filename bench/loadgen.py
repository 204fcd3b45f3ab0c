"""Load generator for bench/bridge_capacity.py: N calls from one pjsua2 process.

Every call sends the same tone and listens through its jitter buffer (each
call feeds the null playback device), so the buffer's `lost` counter tells how
many 20 ms frames from the bridge came too late or never.
Usage: python -m bench.loadgen TARGET CALLS ROOM_SIZE SECONDS TONE_WAV  -> one JSON line
"""

from __future__ import annotations

import json
import sys
import time

import pjsua2 as pj

from bridge import sip
from settings import BridgeConfig


class LoadCall(pj.Call):
    def __init__(self, account: pj.Account, sink: pj.AudioMedia, player: pj.AudioMediaPlayer) -> None:
        super().__init__(account)
        self.sink, self.player = sink, player
        self.confirmed = self.ended = False
        self.last_code = 0

    def onCallState(self, prm: pj.OnCallStateParam) -> None:  # noqa: N802
        info = self.getInfo()
        state, self.last_code = info.state, info.lastStatusCode
        self.confirmed = self.confirmed or state == pj.PJSIP_INV_STATE_CONFIRMED
        self.ended = state == pj.PJSIP_INV_STATE_DISCONNECTED

    def onCallMediaState(self, prm: pj.OnCallMediaStateParam) -> None:  # noqa: N802
        media = self.getAudioMedia(-1)
        self.player.startTransmit(media)
        media.startTransmit(self.sink)


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


def main() -> None:
    target, tone = sys.argv[1], sys.argv[5]
    calls, room_size, seconds = int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
    endpoint = start(calls)
    acc_cfg = pj.AccountConfig()
    acc_cfg.idUri = "sip:loadgen@127.0.0.1"
    acc_cfg.mediaConfig.transportConfig.boundAddress = "127.0.0.1"
    acc_cfg.mediaConfig.transportConfig.port = 50000
    account = pj.Account()
    account.create(acc_cfg)
    player = pj.AudioMediaPlayer()
    player.createPlayer(tone)
    sink = endpoint.audDevManager().getPlaybackDevMedia()
    legs: list[LoadCall] = []
    for index in range(calls):
        leg = LoadCall(account, sink, player)
        leg.makeCall(f"sip:{8000 + index // room_size}@{target}", pj.CallOpParam(True))
        legs.append(leg)
        pump(endpoint, 0.01)  # about 100 joins per second
    pump(endpoint, 5.0)  # settle: every room full, jitter buffers primed
    up = [leg for leg in legs if leg.confirmed and not leg.ended]
    before = {id(leg): leg.getStreamStat(0).jbuf.lost for leg in up}
    rx_before = {id(leg): leg.getStreamStat(0).rtcp.rxStat.pkt for leg in up}
    print(json.dumps({"measuring": seconds}), flush=True)
    pump(endpoint, seconds)
    alive = [leg for leg in up if not leg.ended]
    lost = sum(leg.getStreamStat(0).jbuf.lost - before[id(leg)] for leg in alive)
    received = sum(leg.getStreamStat(0).rtcp.rxStat.pkt - rx_before[id(leg)] for leg in alive)
    expected = len(alive) * seconds * 50
    print(json.dumps({
        "calls": calls, "connected": len(up), "survived": len(alive),
        "failed_codes": sorted({leg.last_code for leg in legs if leg not in up}),
        "frames_expected": int(expected), "packets_received": int(received), "frames_concealed": int(lost),
        "late_or_lost_pct": round(100 * max(lost, expected - received) / max(expected, 1), 3),
    }), flush=True)
    for leg in legs:
        if not leg.ended:
            leg.hangup(pj.CallOpParam())
    pump(endpoint, 3.0)
    # PJSIP asserts if a Call outlives the library.
    del up, alive, leg
    legs.clear()
    del player
    endpoint.libDestroy()


if __name__ == "__main__":
    main()
