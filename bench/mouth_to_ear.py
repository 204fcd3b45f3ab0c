"""Added mouth-to-ear delay through rtpengine and the bridge: p50/p99 over many clicks.

Starts its own stack on random loopback ports (like the e2e tests). Two callers join a room
through Kamailio, each a plain RTP endpoint of this script (PCMU, 20 ms a packet, paced by the
monotonic clock): no phone's jitter buffer or sound card, so the figure is what kamconf adds. The
talker sends silence with a click (one 20 ms packet of a loud 1 kHz tone) every --gap seconds; the
listener timestamps each packet as it arrives. A click's delay is from the moment its packet left
the talker to the first packet the listener receives that carries it (rtpengine -> the bridge's
jitter buffer and mixer -> rtpengine). Packets are 20 ms, so a figure can be up to 20 ms later
than the sound's first sample within them.

The talker's packets and the bridge's mixing clock both tick every 20 ms, so within one call the
phase between them, and with it the delay, hardly moves; each round therefore places a fresh pair
of calls (a fresh phase), and the percentiles are over all rounds' clicks.

Usage: .venv/bin/python -m bench.mouth_to_ear [--rounds 10] [--clicks 30] [--gap 0.5]
"""

from __future__ import annotations

import argparse
import socket
import struct
import tempfile
import threading
import time
import uuid
from pathlib import Path

import numpy as np

from bench.join_latency import percentile
from stack.supervisor import wait_for
from tests.e2e.test_edge_walls import Call, RawUA, request  # the raw SIP client of the edge tests
from tests.e2e.test_media_walls import ulaw
from tests.support.stack import Stack, running_stack

FRAME = 0.02
SAMPLES = 160
SILENCE = b"\xff" * SAMPLES  # mu-law zero
CLICK = ulaw(0.8 * np.sin(2 * np.pi * 1000 * np.arange(SAMPLES) / 8000))
HEARD = 4000  # a received packet with a sample this loud (of 32767) carries the click
LATE = 0.3  # a click not heard within this long counts as lost


def ulaw_table() -> np.ndarray:
    """Linear value of each of the 256 G.711 mu-law codes."""
    code = ~np.arange(256) & 0xFF
    exponent, mantissa = (code >> 4) & 7, code & 0x0F
    magnitude = (((mantissa << 3) + 0x84) << exponent) - 0x84
    return np.where(code & 0x80, -magnitude, magnitude)


LINEAR = ulaw_table()


DTMF_PT = 101  # RFC 4733 telephone-event, offered beside PCMU
EVENTS = {**{str(d): d for d in range(10)}, "*": 10, "#": 11}
KEY_FRAMES, END_FRAMES, PAUSE_FRAMES = 5, 3, 5  # a key held 100 ms, its end sent 3 times, 100 ms apart


class Leg:
    """One caller: its SIP dialog and its RTP socket, sending a packet every 20 ms (and keys, RFC 4733)."""

    def __init__(self, stack: Stack, number: str) -> None:
        self.rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.rtp.bind(("127.0.0.1", 0))
        self.ua = RawUA("127.0.0.1", stack.sip)
        call_id, tag = uuid.uuid4().hex, uuid.uuid4().hex[:8]
        offer = (f"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
                 f"m=audio {self.rtp.getsockname()[1]} RTP/AVP 0 {DTMF_PT}\r\na=rtpmap:0 PCMU/8000\r\n"
                 f"a=rtpmap:{DTMF_PT} telephone-event/8000\r\na=fmtp:{DTMF_PT} 0-15\r\na=sendrecv\r\n")
        self.keys: list[str] = []  # keys to press, in order (press())
        answer = self.ua.final(request(self.ua, "INVITE", stack.room_uri(number), user="caller", call_id=call_id,
                                       tag=tag, to_user=number, body=offer), timeout=10)
        self.call = Call.answered(self.ua, answer, call_id, tag)
        assert answer is not None
        body = answer.text.split("\r\n\r\n", 1)[1]
        host = next(line[9:] for line in body.split("\r\n") if line.startswith("c=IN IP4 "))
        port = next(int(line.split()[1]) for line in body.split("\r\n") if line.startswith("m=audio "))
        self.far = (host, port)
        self.clicks: list[float] = []  # when each click left
        self.click_at: list[float] = []  # when to send clicks (monotonic), set by the bench
        self.heard: list[tuple[float, int]] = []  # (arrival, loudest sample) of each packet received
        self.running = True
        self.threads = [threading.Thread(target=self.send, daemon=True),
                        threading.Thread(target=self.receive, daemon=True)]
        for thread in self.threads:
            thread.start()

    def press(self, keys: str) -> None:
        self.keys += list(keys)

    def key_packets(self, key: str, n: int) -> list[bytes]:
        """One key as RFC 4733 packets, one per 20 ms from packet n on: held, ended, then a pause of silence."""
        stamp, packets = (n * SAMPLES) & 0xFFFFFFFF, []
        for i in range(KEY_FRAMES + END_FRAMES):
            ended = i >= KEY_FRAMES
            length = min(i + 1, KEY_FRAMES) * SAMPLES
            marker = 0x80 if i == 0 else 0
            header = struct.pack("!BBHII", 0x80, marker | DTMF_PT, (n + i) & 0xFFFF, stamp, id(self) & 0xFFFFFFFF)
            packets.append(header + struct.pack("!BBH", EVENTS[key], (0x80 if ended else 0) | 10, length))
        return packets + [b""] * PAUSE_FRAMES

    def send(self) -> None:
        started, n = time.monotonic(), 0
        queued: list[bytes] = []  # a key's packets, sent one per frame ("": a frame of silence)
        while self.running:
            if not queued and self.keys:
                queued = self.key_packets(self.keys.pop(0), n)
            if queued:
                packet = queued.pop(0)
                self.rtp.sendto(packet or struct.pack("!BBHII", 0x80, 0, n & 0xFFFF, (n * SAMPLES) & 0xFFFFFFFF,
                                                       id(self) & 0xFFFFFFFF) + SILENCE, self.far)
                n += 1
                time.sleep(max(0.0, started + n * FRAME - time.monotonic()))
                continue
            payload = SILENCE
            now = time.monotonic()
            if self.click_at and now >= self.click_at[0]:
                self.click_at.pop(0)
                payload = CLICK
            header = struct.pack("!BBHII", 0x80, 0, n & 0xFFFF, (n * SAMPLES) & 0xFFFFFFFF, id(self) & 0xFFFFFFFF)
            if payload is CLICK:
                self.clicks.append(time.monotonic())
            self.rtp.sendto(header + payload, self.far)
            n += 1
            time.sleep(max(0.0, started + n * FRAME - time.monotonic()))

    def receive(self) -> None:
        self.rtp.settimeout(0.5)
        while self.running:
            try:
                packet = self.rtp.recv(2048)
            except TimeoutError:
                continue
            except OSError:
                return
            arrived = time.monotonic()
            payload = np.frombuffer(packet[12:], dtype=np.uint8)
            self.heard.append((arrived, int(np.abs(LINEAR[payload]).max()) if len(payload) else 0))

    def hang_up(self) -> None:
        self.ua.send(self.call.in_dialog("BYE", 2))
        self.running = False
        for thread in self.threads:
            thread.join(timeout=2)
        self.rtp.close()
        self.ua.close()


def delays(sent: list[float], heard: list[tuple[float, int]]) -> tuple[list[float], int]:
    """Each click's delay to the first loud packet after it (within LATE), and how many loud packets
    arrived outside every click's window (should be 0: nothing else is loud in the room)."""
    found = []
    for at in sent:
        match = next((t for t, peak in heard if at <= t < at + LATE and peak >= HEARD), None)
        if match is not None:
            found.append(match - at)
    windows = [(at, at + LATE) for at in sent]
    stray = sum(1 for t, peak in heard if sent and t >= sent[0] and peak >= HEARD
                and not any(a <= t < b for a, b in windows))
    return found, stray


def one_round(stack: Stack, room: str, clicks: int, gap: float) -> tuple[list[float], int, int]:
    """A fresh pair of calls: (delays, clicks sent, stray loud packets)."""
    talker = Leg(stack, room)
    listener = Leg(stack, room)
    stack.wait_in_conference(room, 2)
    time.sleep(2)  # entry prompts over, jitter buffers settled (setup, not what is measured)
    first = time.monotonic() + 0.1
    talker.click_at = [first + i * gap for i in range(clicks)]
    while talker.click_at:
        time.sleep(0.1)
    time.sleep(LATE + 0.2)
    talker.hang_up()
    listener.hang_up()
    if not wait_for(lambda: stack.in_conference(room) == 0, 10):
        raise SystemExit(f"room {room} did not empty")
    found, stray = delays(talker.clicks, listener.heard)
    return found, len(talker.clicks), stray


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--clicks", type=int, default=30, help="per round")
    parser.add_argument("--gap", type=float, default=0.5, help="seconds between clicks")
    args = parser.parse_args()
    found: list[float] = []
    sent = stray = 0
    per_round = []
    with tempfile.TemporaryDirectory() as tmp, running_stack(Path(tmp) / "var") as stack:
        stack.create_room("7800", mute_notifications=True, announce_count=False)
        for _ in range(args.rounds):
            heard, clicks, strays = one_round(stack, "7800", args.clicks, args.gap)
            found += heard
            sent, stray = sent + clicks, stray + strays
            per_round.append(percentile(heard, 50) * 1000 if heard else float("nan"))
    ms = [d * 1000 for d in found]
    if not ms:
        raise SystemExit("no click was heard")
    print(f"mouth-to-ear through rtpengine and the bridge, {len(ms)} of {sent} clicks heard in {args.rounds} "
          f"rounds: p50 {percentile(ms, 50):.1f} ms, p99 {percentile(ms, 99):.1f} ms, min {min(ms):.1f} ms, "
          f"max {max(ms):.1f} ms; medians by round (ms): {' '.join(f'{m:.0f}' for m in per_round)}; "
          f"loud packets outside the clicks: {stray}")


if __name__ == "__main__":
    main()
