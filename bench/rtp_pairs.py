"""The reference load for bench.fullpath: rtpengine relaying plain two-party calls, no bridge.

CALLS calls are set up on rtpengine's ng socket with the offer and answer kamconf's Kamailio sends
(kemi/media.py's flags, as ng fields; --plain leaves out the codec-transcode ones), each side a UDP
socket on loopback sending a PCMU-sized RTP packet every 20 ms: rtpengine takes 2 * CALLS streams,
as many as it takes for CALLS conference participants (their leg in, the bridge's leg out to them).
What rtpengine sends on is left unread (the sockets' buffers overflow and the kernel drops it: the
receiving is no part of the relay's cost); rtpengine's own per-stream counts say what it took.
Usage: python -m bench.rtp_pairs NG_HOST NG_PORT CALLS SECONDS [--plain]  -> JSON lines
  ({"measuring": SECONDS} as the measured window opens, then the result)
"""

from __future__ import annotations

import argparse
import json
import re
import socket
import struct
import time
import uuid

from tests.support.rtpengine import command

SDP = ("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
       "m=audio {port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n")
PAYLOAD = bytes(160)  # 20 ms of PCMU
HEADER = struct.Struct("!BBHII")  # RTP: version 2, payload type 0, sequence, timestamp, SSRC
# kemi/media.py OFFER_FLAGS and ANSWER_FLAGS as ng fields (Kamailio's rtpengine module turns the one into the other).
COMMON = {"replace": ["origin", "session-connection"], "ICE": "remove", "flags": ["strict-source"]}
TRANSCODE = {"codec": {"transcode": ["PCMU", "PCMA"]}}
MEDIA_PORT = re.compile(r"m=audio (\d+) ")  # rtpengine's own answer, not a caller's text


class Side:
    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.setblocking(False)
        self.port = self.sock.getsockname()[1]
        self.ssrc = uuid.uuid4().int & 0xFFFFFFFF
        self.to: tuple[str, int] = ("127.0.0.1", 0)


def relay_port(reply: dict[str, object]) -> int:
    found = MEDIA_PORT.search(str(reply.get("sdp", "")))
    if reply.get("result") != "ok" or found is None:
        raise SystemExit(f"rtpengine refused the call: {reply}")
    return int(found.group(1))


def set_up(host: str, port: int, call_id: str, plain: bool) -> tuple[Side, Side]:
    caller, callee = Side(), Side()
    offer = command(host, port, command="offer", **{"call-id": call_id, "from-tag": "caller", "sdp":
                    SDP.format(port=caller.port), "transport-protocol": "RTP/AVP", **COMMON,
                    **({} if plain else TRANSCODE)})
    callee.to = ("127.0.0.1", relay_port(offer))
    answer = command(host, port, command="answer", **{"call-id": call_id, "from-tag": "caller", "to-tag": "callee",
                     "sdp": SDP.format(port=callee.port), **COMMON})
    caller.to = ("127.0.0.1", relay_port(answer))
    return caller, callee


def send(sides: list[Side], seconds: float) -> int:
    """A packet from every side every 20 ms for `seconds`; returns how many were sent."""
    sent, tick, start = 0, 0, time.monotonic()
    while time.monotonic() < start + seconds:
        for side in sides:
            packet = HEADER.pack(0x80, 0, tick & 0xFFFF, (tick * 160) & 0xFFFFFFFF, side.ssrc) + PAYLOAD
            try:
                side.sock.sendto(packet, side.to)
                sent += 1
            except BlockingIOError:
                continue
        tick += 1
        time.sleep(max(0.0, start + tick * 0.02 - time.monotonic()))
    return sent


def taken(host: str, port: int, call_id: str) -> int:
    """Packets rtpengine received on both legs of the call."""
    reply = command(host, port, command="query", **{"call-id": call_id})
    return sum(stream["stats"]["packets"] for tag in reply.get("tags", {}).values()
               for media in tag.get("medias", []) for stream in media.get("streams", [])
               if "RTP" in stream.get("flags", []))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("host")
    parser.add_argument("port", type=int)
    parser.add_argument("calls", type=int)
    parser.add_argument("seconds", type=float)
    parser.add_argument("--plain", action="store_true", help="no codec-transcode flags")
    args = parser.parse_args()
    call_ids = [f"bench-pair-{uuid.uuid4().hex}" for _ in range(args.calls)]
    sides = [side for call_id in call_ids for side in set_up(args.host, args.port, call_id, args.plain)]
    send(sides, 2.0)  # rtpengine learns every peer
    print(json.dumps({"measuring": args.seconds}), flush=True)
    sent = send(sides, args.seconds)
    took = sum(taken(args.host, args.port, call_id) for call_id in call_ids)
    for call_id in call_ids:
        command(args.host, args.port, command="delete", **{"call-id": call_id, "from-tag": "caller"})
    expected = 2 * args.calls * 50 * (args.seconds + 2.0)
    print(json.dumps({"calls": args.calls, "streams": len(sides), "sent": sent,
                      "taken_by_rtpengine_pct": round(100 * took / max(expected, 1), 2)}), flush=True)


if __name__ == "__main__":
    main()
