"""rtpengine takes a leg's media only from that leg's peer: RTP sent to the port facing a phone from
anywhere else (another port of the same host included) is dropped, not mixed into the room."""

from __future__ import annotations

import socket
import struct
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from tests.support import rtpengine
from tests.support.audio import levels, ulaw, write_tone
from tests.support.phone import TestPhone
from tests.support.stack import Stack

SPEAKER, INJECTED = 700.0, 1800.0


def port_facing(stack: Stack, call_id: str) -> int:
    """rtpengine's port that receives the phone's RTP (the leg whose peer is not the bridge)."""
    info = rtpengine.query(stack.config.rtpengine.ng_address, stack.config.rtpengine.ng_port, call_id)
    bridge = range(stack.config.bridge.rtp_port_min, stack.config.bridge.rtp_port_max + 1)
    for leg in info["tags"].values():
        stream = next(s for s in leg["medias"][0]["streams"] if "RTP" in s["flags"])
        if stream["endpoint"]["port"] not in bridge:
            return int(stream["local port"])
    raise AssertionError(info)


def inject(port: int, seconds: float) -> None:
    """A loud tone as PCMU RTP, 20 ms a packet, from a socket of our own."""
    t = np.arange(160) / 8000
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        for n in range(int(seconds * 50)):
            payload = ulaw(0.8 * np.sin(2 * np.pi * INJECTED * (t + n * 0.02)))
            sock.sendto(struct.pack("!BBHII", 0x80, 0, n & 0xFFFF, n * 160, 0x4B414D43) + payload,
                        ("127.0.0.1", port))
            time.sleep(0.02)


def test_rtp_from_anyone_but_the_peer_is_not_heard(
    stack: Stack, phones: Callable[..., TestPhone], audio_dir: Path
) -> None:
    room = "4400"
    stack.create_room(room, announce_count=False, mute_notifications=True)
    speaker, listener = phones("speaker"), phones("listener")
    speaker.call(stack.room_uri(room), play=write_tone(audio_dir / "s.wav", SPEAKER, 60))
    call_id = speaker.wait_state("CONFIRMED")["call_id"]
    stack.wait_in_conference(room, 1)
    heard = audio_dir / "listener.wav"
    listener.call(stack.room_uri(room), record=heard)
    listener.wait_for("media")
    start = time.monotonic()
    stack.wait_in_conference(room, 2)
    time.sleep(1)
    injected_from = time.monotonic() - start
    inject(port_facing(stack, call_id), 3.0)
    injected_to = time.monotonic() - start
    listener.hangup()
    listener.wait_for("recorded", 10)
    speaker.hangup()
    during = levels(heard, [SPEAKER, INJECTED], injected_from + 0.5, injected_to)
    assert during[SPEAKER] > -25.0, during  # the room is heard as ever
    assert during[INJECTED] < -50.0, during  # the stranger's RTP is not
