"""A SIP client that writes exactly what a test wants sent, from any loopback address, and the
parties attackers meet at the edge (extensions, a carrier's gateway): for the tests that play the
attacker (test_edge_walls, test_toll_fraud, test_torture)."""

from __future__ import annotations

import hashlib
import itertools
import socket
import struct
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

from tests.support import rtpengine
from tests.support.ports import free_port
from tests.support.stack import Stack

_numbers = itertools.count(600)


def _loopback_addresses() -> Iterator[str]:
    """127.0.0.10 and up, then 127.0.1.1 ...: Linux answers the whole of 127/8 on lo."""
    for third in range(256):
        for fourth in range(10 if third == 0 else 1, 255):
            yield f"127.0.{third}.{fourth}"


_addresses = _loopback_addresses()


def fresh_source() -> str:
    """A loopback address no test has sent from: pike and the ban list see a new stranger."""
    return next(_addresses)


@dataclass
class Reply:
    """A SIP message as the tests read it: a reply's status code (0 for a request) and its headers."""

    code: int
    headers: list[tuple[str, str]]
    text: str

    def header(self, name: str) -> str:
        return next((value for key, value in self.headers if key == name.lower()), "")

    def all(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key == name.lower()]


def parse(data: bytes) -> Reply:
    text = data.decode(errors="replace")
    head = text.split("\r\n\r\n", 1)[0].split("\r\n")
    headers = [(k.strip().lower(), v.strip()) for k, _, v in (line.partition(":") for line in head[1:])]
    code = int(head[0].split(" ", 2)[1]) if head[0].startswith("SIP/2.0 ") else 0  # 0: a request
    return Reply(code, headers, text)


class RawUA:
    """A SIP client on one loopback address that writes exactly what a test wants sent."""

    def __init__(self, source_ip: str, target: str, bind_port: int = 0) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((source_ip, bind_port))
        self.ip, self.port = self.sock.getsockname()
        host, port = target.split(":")
        self.target = (host, int(port))

    def send(self, message: str | bytes) -> None:
        self.sock.sendto(message.encode() if isinstance(message, str) else message, self.target)

    def final(self, message: str | bytes, timeout: float = 5.0) -> Reply | None:
        """Send once; the first final reply, or None if nothing final came within `timeout`."""
        self.send(message)
        return self.wait_final(timeout)

    def wait_final(self, timeout: float = 5.0) -> Reply | None:
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            self.sock.settimeout(left)
            try:
                reply = parse(self.sock.recv(65535))
            except TimeoutError:
                return None
            if reply.code >= 200:
                return reply
        return None

    def close(self) -> None:
        self.sock.close()


def request(ua: RawUA, method: str, uri: str, *, user: str, call_id: str, tag: str, cseq: int = 1,
            to_tag: str = "", extra: tuple[str, ...] = (), body: str = "", to_user: str | None = None,
            contact: str | None = None) -> str:
    host = f"{ua.target[0]}:{ua.target[1]}"
    lines = [
        f"{method} {uri} SIP/2.0",
        f"Via: SIP/2.0/UDP {ua.ip}:{ua.port};branch=z9hG4bK{uuid.uuid4().hex[:12]};rport",
        "Max-Forwards: 70",
        f"From: <sip:{user}@{host}>;tag={tag}",
        f"To: <sip:{to_user or user}@{host}>" + (f";tag={to_tag}" if to_tag else ""),
        f"Call-ID: {call_id}", f"CSeq: {cseq} {method}",
        f"Contact: <{contact or f'sip:{user}@{ua.ip}:{ua.port}'}>", *extra,
    ]
    if body:
        lines.append("Content-Type: application/sdp")
    lines.append(f"Content-Length: {len(body.encode())}")
    return "\r\n".join(lines) + "\r\n\r\n" + body


def sdp(ua: RawUA) -> str:
    return (f"v=0\r\no=- 1 1 IN IP4 {ua.ip}\r\ns=-\r\nc=IN IP4 {ua.ip}\r\nt=0 0\r\n"
            f"m=audio {free_port('udp')} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n")


def media_address(answer: Reply) -> tuple[str, int]:
    """Where an SDP answer wants the audio sent (its c= address and m=audio port)."""
    body = answer.text.split("\r\n\r\n", 1)[1]
    host = body.split("c=IN IP4 ", 1)[1].split("\r\n", 1)[0].strip()
    port = int(body.split("m=audio ", 1)[1].split(" ", 1)[0])
    return host, port


class SilenceSender:
    """PCMU silence every 20 ms into calls (a raw caller that sends no RTP is hung up by the bridge)."""

    def __init__(self, calls: list[tuple[str, tuple[str, int]]]) -> None:  # (source ip, media address)
        self.targets = []
        for source, target in calls:
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.bind((source, 0))
            self.targets.append((sock, target))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        ssrc, seq, stamp = 0x5EED, 0, 0
        while not self._stop.wait(0.02):
            packet = struct.pack("!BBHII", 0x80, 0, seq & 0xFFFF, stamp & 0xFFFFFFFF, ssrc) + b"\xff" * 160
            for sock, target in self.targets:
                sock.sendto(packet, target)
            seq, stamp = seq + 1, stamp + 160

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        for sock, _ in self.targets:
            sock.close()


def digest(challenge: str, user: str, password: str, method: str, uri: str, nc: int = 1) -> str:
    fields = dict(part.strip().split("=", 1) for part in challenge.removeprefix("Digest ").split(","))
    realm, nonce = fields["realm"].strip('"'), fields["nonce"].strip('"')
    ha1 = hashlib.md5(f"{user}:{realm}:{password}".encode()).hexdigest()
    ha2 = hashlib.md5(f"{method}:{uri}".encode()).hexdigest()
    cnonce, count = uuid.uuid4().hex[:8], f"{nc:08x}"
    answer = hashlib.md5(f"{ha1}:{nonce}:{count}:{cnonce}:auth:{ha2}".encode()).hexdigest()
    return (f'Digest username="{user}", realm="{realm}", nonce="{nonce}", uri="{uri}", response="{answer}", '
            f'algorithm=MD5, qop=auth, nc={count}, cnonce="{cnonce}"')


def authenticate(ua: RawUA, method: str, uri: str, user: str, password: str, body: str = "",
                 contact: str | None = None, extra: tuple[str, ...] = ()) -> str:
    """Send a request, take its challenge; the same request with the digest answer (not sent)."""
    call_id, tag = uuid.uuid4().hex, uuid.uuid4().hex[:8]
    first = ua.final(request(ua, method, uri, user=user, call_id=call_id, tag=tag, body=body, contact=contact,
                             extra=extra))
    assert first is not None and first.code in (401, 407), first
    challenge = first.header("www-authenticate") or first.header("proxy-authenticate")
    header = "Authorization" if first.code == 401 else "Proxy-Authorization"
    answer = f"{header}: {digest(challenge, user, password, method, uri)}"
    return request(ua, method, uri, user=user, call_id=call_id, tag=tag, cseq=2, body=body, contact=contact,
                   extra=(*extra, answer))


def respond(ua: RawUA, message: Reply, code: int = 200, reason: str = "OK") -> None:
    """Answer a request that reached `ua`, without a body (a BYE, an OPTIONS)."""
    copied = [f"{name.title()}: {value}" for name, value in message.headers
              if name in ("via", "from", "to", "call-id", "cseq")]
    ua.send("\r\n".join([f"SIP/2.0 {code} {reason}", *copied, "Content-Length: 0"]) + "\r\n\r\n")


def waiting(sock: socket.socket) -> bytes | None:
    """What the socket has received so far, without waiting."""
    sock.setblocking(False)
    try:
        return sock.recv(65535)
    except BlockingIOError:
        return None


@dataclass
class Call:
    """A call a RawUA placed and the bridge answered: what its in-dialog requests need."""

    ua: RawUA
    call_id: str
    tag: str
    to_tag: str
    target: str  # the callee's Contact URI
    route: str  # Route header value (the Record-Route set, as the caller uses it)
    answer: Reply  # the 200 that established it

    @classmethod
    def answered(cls, ua: RawUA, answer: Reply | None, call_id: str, tag: str) -> Call:
        """The call a 200 answer established; acknowledged."""
        assert answer is not None and answer.code == 200, answer
        to_tag = answer.header("to").rpartition("tag=")[2].split(";")[0]
        target = answer.header("contact").strip("<>").split(">")[0]
        route = ", ".join(reversed(", ".join(answer.all("record-route")).split(", ")))
        call = cls(ua, call_id, tag, to_tag, target, route, answer)
        ua.send(call.in_dialog("ACK", int(answer.header("cseq").split()[0])))  # the INVITE's CSeq
        return call

    def in_dialog(self, method: str, cseq: int, ua: RawUA | None = None, as_callee: bool = False) -> str:
        """A request of this dialog, from its caller (or with the callee's tags, as the callee would)."""
        tag, to_tag = (self.to_tag, self.tag) if as_callee else (self.tag, self.to_tag)
        return request(ua or self.ua, method, self.target, user="caller", call_id=self.call_id, tag=tag,
                       cseq=cseq, to_tag=to_tag, extra=(f"Route: {self.route}",))


def join(stack: Stack, ua: RawUA, room: str) -> Call:
    call_id, tag = uuid.uuid4().hex, uuid.uuid4().hex[:8]
    message = request(ua, "INVITE", stack.room_uri(room), user="caller", call_id=call_id, tag=tag,
                      to_user=room, body=sdp(ua))
    return Call.answered(ua, ua.final(message, timeout=10), call_id, tag)


def new_extension(stack: Stack, **options: object) -> tuple[str, str]:
    number, password = str(next(_numbers)), f"secret-{uuid.uuid4().hex[:8]}"
    status, body = stack.request("POST", "/extensions", {"number": number, "password": password, **options})
    assert status == 201, body
    return number, password


def new_gateway(stack: Stack, prefix: str) -> socket.socket:
    """A UDP socket standing in for a carrier's gateway, and a trunk to it for numbers with `prefix`."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    where = f"127.0.0.1:{sock.getsockname()[1]}"
    status, body = stack.request("POST", "/trunks", {"name": f"gw{prefix}", "gateway": where, "sources": [where],
                                                    "prefixes": [prefix]})
    assert status == 201, body
    return sock


def rtpengine_knows(stack: Stack, call_id: str) -> bool:
    reply = rtpengine.query(stack.config.rtpengine.ng_address, stack.config.rtpengine.ng_port, call_id)
    return reply.get("result") == "ok"
