"""Direct media (issue 17): an extension with direct_media calls a room with its audio going straight
to the bridge node (the SDP it gets names the node's own media address, rtpengine never hears of the
call), and it and a phone in the room hear each other; one without stays anchored through rtpengine;
an SRTP offer is anchored whatever the setting; hold and resume (re-INVITEs) keep each call's mode, and a
direct caller's re-INVITE naming another media address is refused. A direct_media trunk's call into a room,
and a node's call out through one, skip rtpengine too."""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from conference import address
from tests.e2e.test_extensions_and_trunks import extension, gateway
from tests.support.audio import duration, from_ulaw, levels, ulaw, write_samples, write_tone
from tests.support.phone import TestPhone
from tests.support.rawsip import (
    Call,
    RawUA,
    Reply,
    authenticate,
    fresh_source,
    media_address,
    new_extension,
    request,
    rtpengine_knows,
)
from tests.support.stack import Stack

HEARD_ABOVE_DBFS = -25.0
LEG_TONE, ROOM_TONE = 600.0, 1000.0
KEY = "WnD7c1ePZmV0b2tlbnRoYXRpc2xvbmdlbm91Z2hmb3I="  # SDES key material (RFC 4568) of the SRTP offer


class ToneLeg:
    """A raw extension's media, on the address of its SIP: a tone sent as PCMU to where the latest
    SDP answer says, and what arrives kept."""

    def __init__(self, ip: str, tone: float) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((ip, 0))
        self.ip, self.port = self.sock.getsockname()
        self.tone, self.target = tone, ("", 0)
        self.heard: list[np.ndarray] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def offer(self, direction: str = "sendrecv", proto: str = "RTP/AVP", *extra: str) -> str:
        return "\r\n".join([
            "v=0", f"o=- 1 {uuid.uuid4().int % 1000} IN IP4 {self.ip}", "s=-", f"c=IN IP4 {self.ip}", "t=0 0",
            f"m=audio {self.port} {proto} 0", "a=rtpmap:0 PCMU/8000", *extra, f"a={direction}", ""])

    def talk(self, target: tuple[str, int]) -> None:
        self.target = target
        if not self.thread.is_alive():
            self.thread.start()

    def _run(self) -> None:
        t = np.arange(160) / 8000
        self.sock.settimeout(0.02)
        n = 0
        while not self.stop.is_set():
            payload = ulaw(0.3 * np.sin(2 * np.pi * self.tone * (t + n * 0.02)))
            packet = struct.pack("!BBHII", 0x80, 0, n & 0xFFFF, (n * 160) & 0xFFFFFFFF, 0x44495245) + payload
            self.sock.sendto(packet, self.target)
            n += 1
            with contextlib.suppress(TimeoutError):
                rtp = self.sock.recv(2048)
                if len(rtp) > 12 and rtp[1] & 0x7F == 0:  # PCMU
                    self.heard.append(from_ulaw(rtp[12:]))

    def close(self) -> None:
        self.stop.set()
        if self.thread.is_alive():
            self.thread.join(timeout=5)
        self.sock.close()


def invite(stack: Stack, ua: RawUA, room: str, number: str, password: str, body: str) -> Call:
    message = authenticate(ua, "INVITE", stack.room_uri(room), number, password, body=body)
    answer = ua.final(message, timeout=10)
    call_id = header(message, "Call-ID")
    tag = header(message, "From").rpartition("tag=")[2]
    return Call.answered(ua, answer, call_id, tag)


def header(message: str, name: str) -> str:
    return next(line.split(":", 1)[1].strip() for line in message.split("\r\n")
                if line.lower().startswith(name.lower() + ":"))


def reinvite(call: Call, number: str, cseq: int, body: str) -> Reply:
    """An in-dialog INVITE of the caller's (hold, resume), acknowledged; its 200."""
    message = request(call.ua, "INVITE", call.target, user=number, call_id=call.call_id, tag=call.tag, cseq=cseq,
                      to_tag=call.to_tag, extra=(f"Route: {call.route}",), body=body)
    answer = call.ua.final(message, timeout=10)
    assert answer is not None and answer.code == 200, answer
    call.ua.send(call.in_dialog("ACK", cseq))
    return answer


def where(stack: Stack, answer: Reply) -> str:
    """Whose media address an SDP answer gives: the bridge node's or rtpengine's."""
    host, port = media_address(answer)
    bridge, rtpengine = stack.config.bridge, stack.config.rtpengine
    if any(host == node.address and node.rtp_port_min <= port <= node.rtp_port_max
           for node in bridge.all_nodes):
        return "bridge"
    assert host == rtpengine.address and rtpengine.port_min <= port <= rtpengine.port_max, (host, port)
    return "rtpengine"


def hear_each_other(stack: Stack, phones: Callable[..., TestPhone], audio_dir: Path, room: str,
                    direct_media: bool) -> None:
    """An extension (direct_media as given) joins `room`, where a phone plays a tone; it holds and
    resumes; then each hears the other's tone, and its call went through rtpengine or not throughout."""
    expected = "bridge" if direct_media else "rtpengine"
    stack.create_room(room, mute_notifications=True)
    listener, recording = phones(f"listener{room}"), audio_dir / f"listener{room}.wav"
    listener.call(stack.room_uri(room), play=write_tone(audio_dir / f"room{room}.wav", ROOM_TONE, 40),
                  record=recording)
    listener.wait_state("CONFIRMED")
    number, password = new_extension(stack, direct_media=direct_media)
    ua = RawUA(fresh_source(), stack.sip)
    leg = ToneLeg(ua.ip, LEG_TONE)
    try:
        call = invite(stack, ua, room, number, password, leg.offer())
        assert where(stack, call.answer) == expected
        assert rtpengine_knows(stack, call.call_id) is not direct_media
        leg.talk(media_address(call.answer))
        stack.wait_in_conference(room, 2)
        for cseq, direction in ((3, "sendonly"), (4, "sendrecv")):  # hold, resume
            answer = reinvite(call, number, cseq, leg.offer(direction))
            assert where(stack, answer) == expected, direction
            assert rtpengine_knows(stack, call.call_id) is not direct_media, direction
            leg.talk(media_address(answer))
        if direct_media:  # a re-INVITE may not point the node's stream at another address: refused, call kept
            elsewhere = leg.offer().replace(f"c=IN IP4 {leg.ip}", "c=IN IP4 127.0.0.99")
            moved = ua.final(request(ua, "INVITE", call.target, user=number, call_id=call.call_id, tag=call.tag,
                                     cseq=5, to_tag=call.to_tag, extra=(f"Route: {call.route}",), body=elsewhere))
            assert moved is not None and moved.code == 488, moved
        resumed = len(leg.heard)
        time.sleep(4)  # the length of conversation each side records after the resume, not a wait for a condition
        leg.stop.set()
        listener.hangup()
        listener.wait_for("recorded", 10)
        bye = call.ua.final(call.in_dialog("BYE", 6), timeout=10)
        assert bye is not None and bye.code == 200, bye
    finally:
        leg.close()
        ua.close()
    heard_by_leg = write_samples(audio_dir / f"leg{room}.wav", np.concatenate(leg.heard[resumed:]))
    by_leg = levels(heard_by_leg, [ROOM_TONE, LEG_TONE], 1.0, duration(heard_by_leg) - 0.5)
    end = duration(recording)
    by_room = levels(recording, [LEG_TONE], end - 3.0, end - 0.5)
    print(f"room {room} ({expected}): the extension hears the room at {by_leg[ROOM_TONE]:.1f} dBFS (itself at "
          f"{by_leg[LEG_TONE]:.1f}), the room hears it at {by_room[LEG_TONE]:.1f} dBFS")
    assert by_leg[ROOM_TONE] > HEARD_ABOVE_DBFS, by_leg
    assert by_leg[ROOM_TONE] - by_leg[LEG_TONE] > 30, by_leg  # the mix, not its own tone sent back
    assert by_room[LEG_TONE] > HEARD_ABOVE_DBFS, by_room


def test_a_direct_media_extension_talks_straight_to_the_bridge_and_keeps_it_across_hold(
    stack: Stack, phones: Callable[..., TestPhone], audio_dir: Path
) -> None:
    hear_each_other(stack, phones, audio_dir, "5970", direct_media=True)


def test_an_extension_without_direct_media_stays_anchored_across_hold(
    stack: Stack, phones: Callable[..., TestPhone], audio_dir: Path
) -> None:
    hear_each_other(stack, phones, audio_dir, "5971", direct_media=False)


def test_a_direct_media_extension_offering_srtp_is_anchored(stack: Stack) -> None:
    stack.create_room("5972", mute_notifications=True)
    number, password = new_extension(stack, direct_media=True)
    ua = RawUA(fresh_source(), stack.sip)
    leg = ToneLeg(ua.ip, LEG_TONE)
    try:
        offer = leg.offer("sendrecv", "RTP/SAVP", f"a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:{KEY}")
        call = invite(stack, ua, "5972", number, password, offer)
        # rtpengine answers the SRTP offer in kind, with keys of its own; the bridge never sees SRTP.
        assert where(stack, call.answer) == "rtpengine" and rtpengine_knows(stack, call.call_id)
        assert " RTP/SAVP " in call.answer.text and KEY not in call.answer.text
        bye = ua.final(call.in_dialog("BYE", 3), timeout=10)
        assert bye is not None and bye.code == 200, bye
    finally:
        leg.close()
        ua.close()


@pytest.mark.parametrize(("room", "direct_media"), [("5973", True), ("5974", False)])
def test_the_bridges_call_to_an_extension_follows_its_direct_media(
    stack: Stack, phones: Callable[..., TestPhone], audio_dir: Path, room: str, direct_media: bool
) -> None:
    """The answer side: a call the node places (an operator's invitation) to a direct_media extension
    skips rtpengine; to one without, it is anchored. Either way both sides hear each other."""
    stack.create_room(room, mute_notifications=True)
    listener, by_room = phones(f"listener{room}"), audio_dir / f"listener{room}.wav"
    listener.call(stack.room_uri(room), play=write_tone(audio_dir / f"room{room}.wav", ROOM_TONE, 40), record=by_room)
    listener.wait_state("CONFIRMED")
    invitee, number = extension(stack, phones, direct_media=direct_media)
    assert stack.request("POST", f"/rooms/{room}/invite", {"number": number})[0] == 202
    invitee.wait_for("incoming", 10)
    by_invitee = audio_dir / f"invitee{room}.wav"
    invitee.answer(play=write_tone(audio_dir / f"invitee{room}-tone.wav", LEG_TONE, 40), record=by_invitee)
    call_id = invitee.wait_state("CONFIRMED")["call_id"]
    stack.wait_in_conference(room, 2)
    assert rtpengine_knows(stack, call_id) is not direct_media
    talk_and_judge(f"room {room} (direct_media {direct_media})", ("by the room", listener, by_room, LEG_TONE),
                   ("by the invitee", invitee, by_invitee, ROOM_TONE))


Side = tuple[str, TestPhone, Path, float]  # who, their phone, its recording, the tone it must hear


def talk_and_judge(label: str, *sides: Side) -> None:
    """The sides talk for a few seconds and hang up; each must have heard the other's tone, judged on
    a window that ends before either hung up."""
    time.sleep(4)  # the length of conversation each side records, not a wait for a condition
    for _, phone, _, _ in sides:
        phone.hangup()
    for _, phone, _, _ in sides:
        phone.wait_for("recorded", 15)
    heard = {}
    for who, _, recording, tone in sides:
        end = duration(recording)
        heard[who] = levels(recording, [tone], end - 3.0, end - 1.0)[tone]
    print(f"{label}: " + ", ".join(f"{who} at {level:.1f} dBFS" for who, level in heard.items()))
    assert min(heard.values()) > HEARD_ABOVE_DBFS, heard


def test_a_direct_media_trunks_call_into_a_room_skips_rtpengine(
    stack: Stack, phones: Callable[..., TestPhone], audio_dir: Path
) -> None:
    room, inbound = "5975", "74959750001"
    stack.create_room(room, mute_notifications=True)
    carrier = gateway(stack, phones, "direct90", prefixes=["90"], inbound={inbound: room}, direct_media=True)
    listener, by_room = phones("listener5975"), audio_dir / "listener5975.wav"
    listener.call(stack.room_uri(room), play=write_tone(audio_dir / "room.wav", ROOM_TONE, 40), record=by_room)
    listener.wait_state("CONFIRMED")
    by_carrier = audio_dir / "carrier.wav"
    carrier.call(f"sip:{inbound}@{stack.sip}", play=write_tone(audio_dir / "carrier-tone.wav", LEG_TONE, 40),
                 record=by_carrier)
    call_id = carrier.wait_state("CONFIRMED")["call_id"]
    stack.wait_in_conference(room, 2)
    assert not rtpengine_knows(stack, call_id)
    talk_and_judge(f"trunk into room {room}, direct", ("by the room", listener, by_room, LEG_TONE),
                   ("by the carrier", carrier, by_carrier, ROOM_TONE))


def test_a_nodes_call_out_through_a_direct_media_trunk_skips_rtpengine(
    stack: Stack, phones: Callable[..., TestPhone], audio_dir: Path
) -> None:
    """The answer side for a trunk: a *8 invitation from a local conference to a number behind it."""
    carrier = gateway(stack, phones, "direct91", prefixes=["91"], direct_media=True)
    owner, number = extension(stack, phones)
    by_owner = audio_dir / "owner.wav"
    owner.call(f"sip:*8{number}@{stack.sip}", play=write_tone(audio_dir / "owner-tone.wav", ROOM_TONE, 40),
               record=by_owner)
    stack.wait_in_conference(str(address.local(number)), 1)
    owner.dtmf("*8910001234#")
    carrier.wait_for("incoming", 10)
    by_carrier = audio_dir / "carrier.wav"
    carrier.answer(play=write_tone(audio_dir / "carrier-tone.wav", LEG_TONE, 40), record=by_carrier)
    call_id = carrier.wait_state("CONFIRMED")["call_id"]
    stack.wait_in_conference(str(address.local(number)), 2)
    assert not rtpengine_knows(stack, call_id)
    talk_and_judge("node's call out through a direct trunk", ("by the owner", owner, by_owner, LEG_TONE),
                   ("by the carrier", carrier, by_carrier, ROOM_TONE))
