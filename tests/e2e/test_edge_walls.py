"""The SIP edge as an attacker meets it: forged in-dialog requests, floods, scanners, password
guessing, digest replay, toll-fraud registrations (issue 9).

Its own stack, since bans would disturb the shared one. Every test process runs on 127.0.0.1, which
is Kamailio's and the bridge's own address and so never banned; attackers and their victims send
from other loopback addresses (127.0.0.2 and up), which pike and the ban list treat as strangers.
"""

from __future__ import annotations

import hashlib
import itertools
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from stack.supervisor import wait_for
from tests.support import rtpengine
from tests.support.ports import free_port
from tests.support.sip import SCENARIOS, sipp
from tests.support.stack import Stack, running_stack

AUTH_FAILURES = 3  # this stack bans a source after 3 wrong digest answers
KEEPALIVE = 30  # and asks both sides of each call every 30 s whether they are still there
_numbers = itertools.count(600)
_addresses = itertools.count(10)  # 127.0.0.<n>: a fresh source for each attack


@pytest.fixture(scope="module")
def walls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with pytest.MonkeyPatch.context() as env:
        env.setenv("KAMCONF_EDGE_AUTH_FAILURES", str(AUTH_FAILURES))
        env.setenv("KAMCONF_EDGE_DIALOG_KEEPALIVE", str(KEEPALIVE))
        with running_stack(tmp_path_factory.mktemp("walls")) as stack:
            yield stack


def fresh_source() -> str:
    return f"127.0.0.{next(_addresses)}"


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

    def __init__(self, source_ip: str, target: str) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((source_ip, 0))
        self.ip, self.port = self.sock.getsockname()
        host, port = target.split(":")
        self.target = (host, int(port))

    def send(self, message: str) -> None:
        self.sock.sendto(message.encode(), self.target)

    def final(self, message: str, timeout: float = 5.0) -> Reply | None:
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
                 contact: str | None = None) -> str:
    """Send a request, take its challenge; the same request with the digest answer (not sent)."""
    call_id, tag = uuid.uuid4().hex, uuid.uuid4().hex[:8]
    first = ua.final(request(ua, method, uri, user=user, call_id=call_id, tag=tag, body=body, contact=contact))
    assert first is not None and first.code in (401, 407), first
    challenge = first.header("www-authenticate") or first.header("proxy-authenticate")
    header = "Authorization" if first.code == 401 else "Proxy-Authorization"
    answer = f"{header}: {digest(challenge, user, password, method, uri)}"
    return request(ua, method, uri, user=user, call_id=call_id, tag=tag, cseq=2, body=body, contact=contact,
                   extra=(answer,))


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


def waiting(sock: socket.socket) -> bytes | None:
    """What the socket has received so far, without waiting."""
    sock.setblocking(False)
    try:
        return sock.recv(65535)
    except BlockingIOError:
        return None


def rtpengine_knows(stack: Stack, call_id: str) -> bool:
    reply = rtpengine.query(stack.config.rtpengine.ng_address, stack.config.rtpengine.ng_port, call_id)
    return reply.get("result") == "ok"


@dataclass
class Call:
    """A call a RawUA placed and the bridge answered: what its in-dialog requests need."""

    ua: RawUA
    call_id: str
    tag: str
    to_tag: str
    target: str  # the callee's Contact URI
    route: str  # Route header value (the Record-Route set, as the caller uses it)

    @classmethod
    def answered(cls, ua: RawUA, answer: Reply | None, call_id: str, tag: str) -> Call:
        """The call a 200 answer established; acknowledged."""
        assert answer is not None and answer.code == 200, answer
        to_tag = answer.header("to").rpartition("tag=")[2].split(";")[0]
        target = answer.header("contact").strip("<>").split(">")[0]
        route = ", ".join(reversed(", ".join(answer.all("record-route")).split(", ")))
        call = cls(ua, call_id, tag, to_tag, target, route)
        ua.send(call.in_dialog("ACK", 1))
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


def test_a_forged_in_dialog_request_reaches_no_gateway(walls: Stack) -> None:
    gateway = new_gateway(walls, "81")
    gateway_at = "{}:{}".format(*gateway.getsockname())
    ua = RawUA(fresh_source(), walls.sip)
    # Kamailio's own Route, then the gateway's own: both lead through loose_route.
    for route in (f"<sip:{walls.sip};lr>", f"<sip:{gateway_at};lr>"):
        call_id = uuid.uuid4().hex
        forged = request(ua, "INVITE", f"sip:81123456@{gateway_at}", user="intruder", call_id=call_id, tag="t1",
                         to_tag="forged", extra=(f"Route: {route}",), body=sdp(ua))
        reply = ua.final(forged)
        # Kamailio answers it itself: had it relayed, the answer would be the gateway's (or none).
        assert reply is not None and reply.code == 404 and reply.header("server") == "kamconf", reply
        assert not rtpengine_knows(walls, call_id)
    assert waiting(gateway) is None

    # The gateway is reachable: an extension allowed outside calls gets there.
    number, password = new_extension(walls)
    caller = RawUA(fresh_source(), walls.sip)
    caller.send(authenticate(caller, "INVITE", f"sip:81123456@{walls.sip}", number, password, body=sdp(caller)))
    gateway.settimeout(5)
    assert gateway.recv(65535).startswith(b"INVITE sip:81123456@")


def test_in_dialog_requests_pass_only_for_the_parties_of_a_known_dialog(walls: Stack) -> None:
    walls.create_room("6100")
    caller = RawUA(fresh_source(), walls.sip)
    call = join(walls, caller, "6100")
    stranger = RawUA(fresh_source(), walls.sip)
    for as_callee in (False, True):  # the tags of either party are not enough
        reply = stranger.final(call.in_dialog("BYE", 2, ua=stranger, as_callee=as_callee))
        assert reply is not None and reply.code == 403, reply
    reply = caller.final(call.in_dialog("INFO", 3))  # the caller itself still reaches the bridge
    assert reply is not None and reply.code != 403 and reply.header("server") != "kamconf", reply
    reply = caller.final(call.in_dialog("BYE", 4))
    assert reply is not None and reply.code == 200, reply
    assert wait_for(lambda: not rtpengine_knows(walls, call.call_id), timeout=5)
    # An ended dialog is no longer known: only a BYE with our Route cookie passes (as after a restart).
    reply = caller.final(call.in_dialog("INFO", 5))
    assert reply is not None and reply.code == 404 and reply.header("server") == "kamconf", reply


def options(ua: RawUA, *extra: str) -> str:
    return request(ua, "OPTIONS", f"sip:{ua.target[0]}:{ua.target[1]}", user="probe", call_id=uuid.uuid4().hex,
                   tag=uuid.uuid4().hex[:8], extra=extra)


def answered_options(source_ip: str, target: str) -> bool:
    ua = RawUA(source_ip, target)
    try:
        reply = ua.final(options(ua), timeout=2)
        return reply is not None and reply.code == 200
    finally:
        ua.close()


def test_a_flood_is_banned_within_two_seconds_while_others_still_join(walls: Stack, tmp_path: Path) -> None:
    walls.create_room("6200")
    flooder = fresh_source()
    started = time.monotonic()
    flood = subprocess.Popen(
        ["sipp", walls.sip, "-sf", str(SCENARIOS / "options.xml"), "-i", flooder, "-p", str(free_port("udp")),
         "-r", "200", "-m", "1000", "-recv_timeout", "500", "-timeout", "20s", "-nostdin"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tmp_path)
    try:
        assert wait_for(lambda: f"flood from {flooder}: banned" in walls.log("kamailio"), timeout=10)
        banned_after = time.monotonic() - started
        # While the flood goes on: a caller joins a room, another stranger is answered, the flooder is not.
        done = sipp(walls.sip, "invite_bye", "-s", "6200", "-set", "pt", "0", "-set", "codec", "PCMU/8000",
                    cwd=tmp_path)
        assert done.returncode == 0, done.stdout + done.stderr
        assert answered_options(fresh_source(), walls.sip)
        assert flood.poll() is None, "the flood ended before the checks: raise its length"
        assert not answered_options(flooder, walls.sip)
    finally:
        flood.kill()
        flood.wait(timeout=10)
    print(f"flood from {flooder} at 200 requests/s banned {banned_after:.2f} s after sipp started")
    assert banned_after < 2.5


def test_scanners_are_dropped_and_malformed_or_oversized_requests_refused(walls: Stack) -> None:
    ua = RawUA(fresh_source(), walls.sip)
    for agent in ("friendly-scanner", "SIPVicious 0.3.4", "sipcli/v1.8", "VaxSIPUserAgent/3.1"):
        assert ua.final(options(ua, f"User-Agent: {agent}"), timeout=1) is None, agent
    reply = ua.final(options(ua, "User-Agent: Linphone/5.2"))  # dropped, not banned
    assert reply is not None and reply.code == 200
    reply = ua.final(options(ua, "X-Padding: " + "a" * 17000))
    assert reply is not None and reply.code == 513
    long_uri = request(ua, "OPTIONS", f"sip:{'1' * 600}@{walls.sip}", user="probe", call_id=uuid.uuid4().hex,
                       tag="t")
    reply = ua.final(long_uri)
    assert reply is not None and reply.code == 414
    reply = ua.final(options(ua, "Proxy-Require: com.example.unknown"))  # sanity: an extension we lack
    assert reply is not None and reply.code == 420


def test_register_tells_nobody_which_extensions_exist(walls: Stack) -> None:
    number, _ = new_extension(walls)
    ua = RawUA(fresh_source(), walls.sip)

    def challenge(user: str) -> tuple[str, str]:
        reply = ua.final(request(ua, "REGISTER", f"sip:{walls.sip}", user=user, call_id=uuid.uuid4().hex, tag="t"))
        assert reply is not None
        status_line = reply.text.split("\r\n", 1)[0]
        header = reply.header("www-authenticate")
        nonce = header.split('nonce="', 1)[1].split('"', 1)[0]
        return status_line, header.replace(nonce, "N")

    known, unknown = challenge(number), challenge("999999")
    assert known == unknown and known[0] == "SIP/2.0 401 Unauthorized", (known, unknown)


def test_wrong_passwords_ban_their_source(walls: Stack) -> None:
    number, password = new_extension(walls)
    guesser = RawUA(fresh_source(), walls.sip)
    uri = f"sip:{walls.sip}"
    for _ in range(AUTH_FAILURES - 1):
        reply = guesser.final(authenticate(guesser, "REGISTER", uri, number, "guess-" + uuid.uuid4().hex[:6]))
        assert reply is not None and reply.code == 401, reply
    assert guesser.final(authenticate(guesser, "REGISTER", uri, number, "one-guess-too-many"), timeout=2) is None
    assert not answered_options(guesser.ip, walls.sip)  # nothing from there is answered any more
    owner = RawUA(fresh_source(), walls.sip)
    reply = owner.final(authenticate(owner, "REGISTER", uri, number, password))
    assert reply is not None and reply.code == 200, reply


def test_a_captured_authenticated_invite_cannot_be_replayed(walls: Stack) -> None:
    number, password = new_extension(walls)
    walls.create_room("6300")
    ua = RawUA(fresh_source(), walls.sip)
    signed = authenticate(ua, "INVITE", walls.room_uri("6300"), number, password, body=sdp(ua))
    call_id = signed.split("Call-ID: ", 1)[1].split("\r\n", 1)[0]
    tag = signed.split(";tag=", 1)[1].split("\r\n", 1)[0]
    call = Call.answered(ua, ua.final(signed, timeout=10), call_id, tag)
    reply = ua.final(call.in_dialog("BYE", 3))
    assert reply is not None and reply.code == 200, reply
    # The attacker sends the captured INVITE again, with a new branch so it is no retransmission.
    branch = signed.split("branch=", 1)[1].split(";", 1)[0]
    for source in (ua, RawUA(fresh_source(), walls.sip)):
        reply = source.final(signed.replace(branch, f"z9hG4bK{uuid.uuid4().hex[:12]}"))
        assert reply is not None and reply.code == 407, reply
    assert not rtpengine_knows(walls, call_id)


def test_no_registration_points_at_a_gateway_or_at_kamconf_nor_beyond_max_contacts(walls: Stack) -> None:
    number, password = new_extension(walls)
    gateway = new_gateway(walls, "82")
    ua = RawUA(fresh_source(), walls.sip)
    uri = f"sip:{walls.sip}"

    def register(contact: str) -> int:
        reply = ua.final(authenticate(ua, "REGISTER", uri, number, password, contact=contact))
        assert reply is not None
        return reply.code

    gateway_host, gateway_port = gateway.getsockname()
    bridge = walls.config.bridge
    for forbidden in (f"sip:{number}@{gateway_host}:{gateway_port}", f"sip:{number}@{walls.sip}",
                      f"sip:{number}@{bridge.address}:{bridge.sip_port};transport=udp"):
        assert register(forbidden) == 403, forbidden
    devices = [f"sip:{number}@{ua.ip}:{7000 + n}" for n in range(walls.config.edge.max_contacts + 1)]
    assert [register(device) for device in devices[:-1]] == [200] * walls.config.edge.max_contacts
    assert register(devices[-1]) == 503  # registrar: "Too many registered contacts"
    assert waiting(gateway) is None


def answer(ua: RawUA, invite: Reply, user: str) -> None:
    """Answer a relayed INVITE with 200 and SDP, as a phone would."""
    copied = [f"{name.title()}: {value}" for name, value in invite.headers
              if name in ("via", "record-route", "from", "call-id", "cseq")]
    body = sdp(ua)
    ua.send("\r\n".join(["SIP/2.0 200 OK", *copied, f"To: {invite.header('to')};tag={uuid.uuid4().hex[:8]}",
                          f"Contact: <sip:{user}@{ua.ip}:{ua.port}>", "Content-Type: application/sdp",
                          f"Content-Length: {len(body)}"]) + "\r\n\r\n" + body)


def received_bye(ua: RawUA) -> bool:
    """Whether a BYE has arrived (keepalive OPTIONS, unanswered, are passed over)."""
    while (data := waiting(ua.sock)) is not None:
        if data.startswith(b"BYE "):
            return True
    return False


def test_a_call_whose_sides_vanished_is_ended_with_a_bye_to_both(walls: Stack) -> None:
    (caller_number, caller_password), (callee_number, callee_password) = new_extension(walls), new_extension(walls)
    caller, callee = RawUA(fresh_source(), walls.sip), RawUA(fresh_source(), walls.sip)
    reply = callee.final(authenticate(callee, "REGISTER", f"sip:{walls.sip}", callee_number, callee_password))
    assert reply is not None and reply.code == 200, reply
    signed = authenticate(caller, "INVITE", f"sip:{callee_number}@{walls.sip}", caller_number, caller_password,
                          body=sdp(caller))
    caller.send(signed)
    callee.sock.settimeout(5)
    invite = parse(callee.sock.recv(65535))
    answer(callee, invite, callee_number)
    call_id = invite.header("call-id")
    tag = invite.header("from").rpartition("tag=")[2]
    Call.answered(caller, caller.wait_final(), call_id, tag)
    # Neither side answers the keepalive OPTIONS: after ka_interval (+ up to 10 s timer steps), the
    # 408 and 10 s more, Kamailio ends the dialog and tells both.
    assert wait_for(lambda: received_bye(caller), timeout=KEEPALIVE + 40), "no BYE to the caller"
    assert wait_for(lambda: received_bye(callee), timeout=5), "no BYE to the callee"
