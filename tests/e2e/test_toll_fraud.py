"""Toll fraud, end to end (issue 9): every caller that may not call outside tries every way out it
has, and the carrier's gateway receives nothing; a caller that may gets there, with only the identity
kamconf asserts.

Callers: anonymous (a stranger), a trunk (a carrier's call in), an extension with external_calls
false. Paths: dialling the outside number; a To tag and Route of its own making (with no dialog, and
inside a real call); registering the gateway as its Contact, then calling itself; another's identity
in P-Asserted-Identity / P-Preferred-Identity / Remote-Party-ID / Diversion (and From); `*8NUMBER#`
from inside a room. The gateway is a bare UDP socket: whatever reaches it is counted.
"""

from __future__ import annotations

import itertools
import socket
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

from stack.supervisor import wait_for
from tests.support.rawsip import (
    Call,
    RawUA,
    Reply,
    SilenceSender,
    authenticate,
    fresh_source,
    media_address,
    new_extension,
    new_gateway,
    parse,
    request,
    rtpengine_knows,
    sdp,
    waiting,
)
from tests.support.stack import Stack

PREFIX = "85"
OUTSIDE = "85123456"  # a number behind the gateway's trunk
SPOOFED = ("P-Asserted-Identity", "P-Preferred-Identity", "Remote-Party-ID", "Diversion")
_rooms = itertools.count(6600)


@dataclass
class World:
    stack: Stack
    gateway: socket.socket
    victim: tuple[str, str]  # an extension allowed to call outside: whom a fraudster would pass for

    @property
    def gateway_at(self) -> str:
        return "{}:{}".format(*self.gateway.getsockname())

    def gateway_received(self, seconds: float = 1.0) -> list[Reply]:
        """What reached the gateway (waiting `seconds` for anything late, such as a dial-out)."""
        got: list[Reply] = []
        wait_for(lambda: bool(drain(self.gateway, got)), timeout=seconds)
        return got


def busy(world: World, invite: Reply) -> None:
    """The gateway answers 486, and takes Kamailio's ACK: nothing of this call reaches later tests."""
    host, port = world.stack.sip.split(":")
    copied = [f"{name.title()}: {value}" for name, value in invite.headers
              if name in ("via", "from", "call-id", "cseq")]
    answer = ["SIP/2.0 486 Busy Here", *copied, f"To: {invite.header('to')};tag=gw", "Content-Length: 0"]
    world.gateway.sendto(("\r\n".join(answer) + "\r\n\r\n").encode(), (host, int(port)))
    acked: list[Reply] = []
    assert wait_for(lambda: any(r.text.startswith("ACK ") for r in drain(world.gateway, acked)), timeout=5)


def drain(sock: socket.socket, into: list[Reply]) -> list[Reply]:
    while (data := waiting(sock)) is not None:
        into.append(parse(data))
    return into


@pytest.fixture(scope="module")
def world(walls: Stack) -> Iterator[World]:
    gateway = new_gateway(walls, PREFIX)
    yield World(walls, gateway, new_extension(walls, external_calls=True))
    gateway.close()


@dataclass
class Party:
    """A caller of one kind, on an address of its own."""

    kind: str
    ua: RawUA
    number: str = "stranger"  # its From user (an extension's number)
    password: str | None = None  # an extension's

    def invite(self, uri: str, extra: tuple[str, ...] = (), to_user: str | None = None) -> tuple[str, str]:
        """An initial INVITE (authenticated for an extension), not sent: (message, Call-ID)."""
        body = sdp(self.ua)
        if self.password is not None:
            message = authenticate(self.ua, "INVITE", uri, self.number, self.password, body=body, extra=extra)
        else:
            message = request(self.ua, "INVITE", uri, user=self.number, call_id=uuid.uuid4().hex,
                              tag=uuid.uuid4().hex[:8], extra=extra, body=body, to_user=to_user)
        return message, message.split("Call-ID: ", 1)[1].split("\r\n", 1)[0]

    def call_room(self, stack: Stack, room: str) -> Call:
        message, call_id = self.invite(stack.room_uri(room), to_user=room)
        tag = message.split(";tag=", 1)[1].split("\r\n", 1)[0]
        return Call.answered(self.ua, self.ua.final(message, timeout=10), call_id, tag)


def anonymous(world: World) -> Party:
    return Party("anonymous", RawUA(fresh_source(), world.stack.sip))


def trunk(world: World) -> Party:
    """A carrier's trunk (its calls come in from this address) with no number of its own to go out by."""
    ua = RawUA(fresh_source(), world.stack.sip)
    name = "in-" + ua.ip.replace(".", "-")
    status, body = world.stack.request("POST", "/trunks", {"name": name, "gateway": f"{ua.ip}:{ua.port}",
                                                          "sources": [ua.ip], "prefixes": []})
    assert status == 201, body
    return Party("trunk", ua, number="carrier-caller")


def restricted_extension(world: World) -> Party:
    number, password = new_extension(world.stack, external_calls=False)
    return Party("extension", RawUA(fresh_source(), world.stack.sip), number, password)


CALLERS: dict[str, Callable[[World], Party]] = {
    "anonymous": anonymous, "trunk": trunk, "extension without outside calls": restricted_extension}


def refused(reply: Reply | None, *codes: int) -> bool:
    """Answered by Kamailio itself with one of `codes` (had it relayed, the gateway would answer, or none)."""
    return reply is not None and reply.code in codes and reply.header("server") == "kamconf"


def direct(world: World, party: Party) -> None:
    message, _ = party.invite(f"sip:{OUTSIDE}@{world.stack.sip}")
    reply = party.ua.final(message)
    assert refused(reply, 403), reply


def forged_dialog(world: World, party: Party) -> None:
    """A To tag and a Route of its own: with no dialog at all, then inside a real call in a room."""
    for route in (f"<sip:{world.stack.sip};lr>", f"<sip:{world.gateway_at};lr>"):
        forged = request(party.ua, "INVITE", f"sip:{OUTSIDE}@{world.gateway_at}", user=party.number,
                         call_id=uuid.uuid4().hex, tag="t1", to_tag="forged", extra=(f"Route: {route}",),
                         body=sdp(party.ua))
        reply = party.ua.final(forged)
        assert refused(reply, 404), reply
        assert not rtpengine_knows(world.stack, forged.split("Call-ID: ", 1)[1].split("\r\n", 1)[0])
    room = str(next(_rooms))
    world.stack.create_room(room)
    call = party.call_room(world.stack, room)
    # A re-INVITE of that call, its Request-URI at the gateway: loose_route would take it there.
    reinvite = request(party.ua, "INVITE", f"sip:{OUTSIDE}@{world.gateway_at}", user=party.number,
                       call_id=call.call_id, tag=call.tag, to_tag=call.to_tag, cseq=10,
                       extra=(f"Route: {call.route}",), body=sdp(party.ua))
    reply = party.ua.final(reinvite)
    assert refused(reply, 403), reply
    reply = party.ua.final(call.in_dialog("BYE", 11))
    assert reply is not None and reply.code == 200, reply


def register_gateway_then_call_itself(world: World, party: Party) -> None:
    """Register the gateway as where the extension's calls go, then call it."""
    gateway_contact = f"sip:{party.number}@{world.gateway_at}"
    if party.password is not None:
        message = authenticate(party.ua, "REGISTER", f"sip:{world.stack.sip}", party.number, party.password,
                               contact=gateway_contact)
        assert refused(party.ua.final(message), 403)
        target = party.number
    else:  # no password to register with: it tries the restricted extension's number, and a guess
        target, _ = new_extension(world.stack, external_calls=False)
        message = authenticate(party.ua, "REGISTER", f"sip:{world.stack.sip}", target, "a-guess",
                               contact=gateway_contact)
        assert refused(party.ua.final(message), 401)
    message, _ = party.invite(f"sip:{target}@{world.stack.sip}", to_user=target)
    reply = party.ua.final(message)
    # Nowhere registered: 480; a stranger may not call an extension at all: 403.
    assert refused(reply, 480, 403), reply


def spoofed_identity(world: World, party: Party) -> None:
    victim = world.victim[0]
    claims = tuple(f"{name}: <sip:{victim}@{world.stack.config.sip.address}>" for name in SPOOFED)
    message, _ = party.invite(f"sip:{OUTSIDE}@{world.stack.sip}", extra=claims)
    assert refused(party.ua.final(message), 403)
    if party.kind == "anonymous":  # and in From: challenged as the victim, whose password it lacks
        impostor = Party(party.kind, party.ua, number=victim)
        message, _ = impostor.invite(f"sip:{OUTSIDE}@{world.stack.sip}", extra=claims)
        assert refused(party.ua.final(message), 407)


def star8_from_a_room(world: World, party: Party) -> None:
    room = str(next(_rooms))
    world.stack.create_room(room)
    call = party.call_room(world.stack, room)
    media = SilenceSender([(party.ua.ip, media_address(call.answer))])  # else the bridge drops a silent leg
    try:
        world.stack.wait_in_conference(room, 1)
        for cseq, key in enumerate(f"*8{OUTSIDE}#", start=10):
            body = f"Signal={key}\r\nDuration=160\r\n"
            info = call.in_dialog("INFO", cseq).replace(
                "Content-Length: 0\r\n", f"Content-Type: application/dtmf-relay\r\nContent-Length: {len(body)}\r\n")
            reply = party.ua.final(info + body)
            assert reply is not None and reply.code == 200, reply
        # The keys reached the room, whose rules let this caller invite no one outside.
        assert wait_for(lambda: f"room {room}: Invite" in world.stack.log("bridge"), 10)
        reply = party.ua.final(call.in_dialog("BYE", 99))
        assert reply is not None and reply.code == 200, reply
    finally:
        media.stop()


PATHS: dict[str, Callable[[World, Party], None]] = {
    "direct": direct, "forged To tag and Route": forged_dialog,
    "gateway registered, then a self-call": register_gateway_then_call_itself,
    "another's identity": spoofed_identity, "*8 from a room": star8_from_a_room}


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("caller", CALLERS)
def test_no_forbidden_call_reaches_the_gateway(world: World, caller: str, path: str) -> None:
    party = CALLERS[caller](world)
    try:
        PATHS[path](world, party)
    finally:
        party.ua.close()
    assert [reply.text.split("\r\n", 1)[0] for reply in world.gateway_received()] == []


def test_an_extension_allowed_outside_arrives_with_only_the_identity_kamconf_asserts(world: World) -> None:
    number, password = world.victim
    party = Party("extension", RawUA(fresh_source(), world.stack.sip), number, password)
    claims = ("P-Asserted-Identity: <sip:+74950000001@bank.example>",
              "P-Preferred-Identity: <sip:+74950000002@bank.example>",
              "Remote-Party-ID: <sip:+74950000003@bank.example>;party=calling",
              "Diversion: <sip:+74950000004@bank.example>;reason=unconditional")
    message, _ = party.invite(f"sip:{OUTSIDE}@{world.stack.sip}", extra=claims)
    party.ua.send(message)
    arrived = world.gateway_received(5)
    assert arrived and arrived[0].text.startswith(f"INVITE sip:{OUTSIDE}@"), arrived
    busy(world, arrived[0])
    reply = party.ua.wait_final()
    party.ua.close()
    assert reply is not None and reply.code == 486, reply
    identity = {name: arrived[0].all(name) for name in (n.lower() for n in SPOOFED) if arrived[0].all(name)}
    assert identity == {"p-asserted-identity": [f"<sip:{number}@{world.stack.config.sip.address}>"]}, identity
