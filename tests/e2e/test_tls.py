"""SIP over TLS: Kamailio serves the certificate made at the first start (or configured), and a caller
over TLS gets SRTP (SDES) from rtpengine while the bridge's side of its call stays plain RTP."""

from __future__ import annotations

import base64
import contextlib
import os
import socket
import ssl
import stat
import struct
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from tests.support import rtpengine, srtp
from tests.support.audio import from_ulaw, last_seconds, levels, ulaw, write_samples, write_tone
from tests.support.phone import TestPhone
from tests.support.rawsip import Reply, parse
from tests.support.stack import Stack

HEARD_ABOVE_DBFS = -25.0

KEY = base64.b64encode(os.urandom(30)).decode()  # SDES master key and salt (RFC 4568)


class TlsUA:
    """A SIP client over one TLS connection to Kamailio, verifying its certificate."""

    def __init__(self, stack: Stack) -> None:
        certificate, _ = stack.config.tls_files
        context = ssl.create_default_context(cafile=str(certificate))
        host = stack.config.sip.address
        raw = socket.create_connection((host, stack.config.sip.tls_port), timeout=10)
        self.sock = context.wrap_socket(raw, server_hostname=host)
        self.ip, self.port = self.sock.getsockname()
        self.target = f"{host}:{stack.config.sip.tls_port}"
        self.buffer = b""

    def send(self, message: str) -> None:
        self.sock.sendall(message.encode())

    def final(self, message: str) -> Reply:
        self.send(message)
        while True:
            reply = self.read()
            if reply.code >= 200:
                return reply

    def read(self) -> Reply:
        """The next whole message on the stream."""
        while True:
            head, blank, rest = self.buffer.partition(b"\r\n\r\n")
            if blank:
                length = next((int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                               if line.lower().startswith(b"content-length:")), 0)
                if len(rest) >= length:
                    self.buffer = rest[length:]
                    return parse(head + blank + rest[:length])
            chunk = self.sock.recv(65535)
            assert chunk, "Kamailio closed the connection"
            self.buffer += chunk

    def request(self, method: str, uri: str, call_id: str, cseq: int, to_tag: str = "", route: str = "",
                body: str = "") -> str:
        lines = [f"{method} {uri} SIP/2.0",
                 f"Via: SIP/2.0/TLS {self.ip}:{self.port};branch=z9hG4bK{uuid.uuid4().hex[:12]};rport",
                 "Max-Forwards: 70", f"From: <sip:tls-caller@{self.target}>;tag=tls1",
                 f"To: <{uri}>" + (f";tag={to_tag}" if to_tag else ""), f"Call-ID: {call_id}",
                 f"CSeq: {cseq} {method}", f"Contact: <sip:tls-caller@{self.ip}:{self.port};transport=tls>"]
        if route:
            lines.append(f"Route: {route}")
        if body:
            lines.append("Content-Type: application/sdp")
        lines.append(f"Content-Length: {len(body.encode())}")
        return "\r\n".join(lines) + "\r\n\r\n" + body


@contextmanager
def tls_ua(stack: Stack) -> Iterator[TlsUA]:
    ua = TlsUA(stack)
    try:
        yield ua
    finally:
        ua.sock.close()


def srtp_offer(ip: str) -> str:
    return (f"v=0\r\no=- 1 1 IN IP4 {ip}\r\ns=-\r\nc=IN IP4 {ip}\r\nt=0 0\r\n"
            "m=audio 40000 RTP/SAVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
            f"a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:{KEY}\r\na=sendrecv\r\n")


def test_the_tls_listener_serves_its_certificate_and_keeps_the_key_private(stack: Stack) -> None:
    certificate, key = stack.config.tls_files
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    with tls_ua(stack) as ua:
        assert ua.sock.getpeercert(binary_form=True) == ssl.PEM_cert_to_DER_cert(certificate.read_text())
        reply = ua.final(ua.request("OPTIONS", f"sip:{ua.target}", uuid.uuid4().hex, 1))
    assert reply.code == 200, reply


def test_a_caller_over_tls_gets_srtp_and_the_bridge_plain_rtp(stack: Stack) -> None:
    stack.create_room("3960")
    call_id = uuid.uuid4().hex
    with tls_ua(stack) as ua:
        room = f"sip:3960@{ua.target}"
        answer = ua.final(ua.request("INVITE", room, call_id, 1, body=srtp_offer(ua.ip)))
        assert answer.code == 200, answer
        sdp = answer.text.split("\r\n\r\n", 1)[1]
        # rtpengine answers the caller's SDES offer with SRTP and keys of its own.
        assert " RTP/SAVP " in sdp and "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" in sdp, sdp
        assert KEY not in sdp
        legs = rtpengine.query(stack.config.rtpengine.ng_address, stack.config.rtpengine.ng_port, call_id)
        protocols = sorted(media["protocol"] for tag in legs["tags"].values() for media in tag["medias"])
        assert protocols == ["RTP/AVP", "RTP/SAVP"], protocols  # the bridge's leg is plain
        to_tag = answer.header("to").rpartition("tag=")[2]
        route = ", ".join(reversed(", ".join(answer.all("record-route")).split(", ")))
        target = answer.header("contact").strip("<>").split(">")[0]
        ua.send(ua.request("ACK", target, call_id, 1, to_tag=to_tag, route=route))
        bye = ua.final(ua.request("BYE", target, call_id, 2, to_tag=to_tag, route=route))
        assert bye.code == 200, bye


class SrtpPhone:
    """The TLS caller's media: a tone sent as SRTP, and what rtpengine sends back decrypted and kept."""

    def __init__(self, ip: str, tone: float) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((ip, 0))
        self.port = self.sock.getsockname()[1]
        self.tone = tone
        self.outgoing = srtp.Context(KEY)
        self.heard: list[np.ndarray] = []
        self.stop = threading.Event()

    def offer(self) -> str:
        ip = self.sock.getsockname()[0]
        return (f"v=0\r\no=- 1 1 IN IP4 {ip}\r\ns=-\r\nc=IN IP4 {ip}\r\nt=0 0\r\n"
                f"m=audio {self.port} RTP/SAVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
                f"a=crypto:1 {srtp.SUITE} inline:{KEY}\r\na=sendrecv\r\n")

    def talk(self, answer_sdp: str) -> threading.Thread:
        host = answer_sdp.split("c=IN IP4 ", 1)[1].split("\r\n", 1)[0]
        port = int(answer_sdp.split("m=audio ", 1)[1].split(" ", 1)[0])
        incoming = srtp.Context(answer_sdp.split(f"{srtp.SUITE} inline:", 1)[1].split("\r\n", 1)[0])
        thread = threading.Thread(target=self._run, args=((host, port), incoming), daemon=True)
        thread.start()
        return thread

    def _run(self, target: tuple[str, int], incoming: srtp.Context) -> None:
        t = np.arange(160) / 8000
        self.sock.settimeout(0.02)
        n = 0
        while not self.stop.is_set():
            payload = ulaw(0.3 * np.sin(2 * np.pi * self.tone * (t + n * 0.02)))
            packet = struct.pack("!BBHII", 0x80, 0, n & 0xFFFF, (n * 160) & 0xFFFFFFFF, 0x54534C31) + payload
            self.sock.sendto(self.outgoing.protect(packet), target)
            n += 1
            with contextlib.suppress(TimeoutError):
                rtp = incoming.unprotect(self.sock.recv(2048))
                if rtp is not None and rtp[1] & 0x7F == 0:  # PCMU
                    self.heard.append(from_ulaw(rtp[12:]))


def test_a_phone_over_tls_and_srtp_and_two_over_udp_hear_each_other(
    stack: Stack, phones: Callable[..., TestPhone], audio_dir: Path
) -> None:
    room, tls_tone, udp_tones = "3961", 1500.0, (600.0, 1000.0)
    stack.create_room(room, mute_notifications=True)
    recordings = []
    for index, tone in enumerate(udp_tones):
        phone = phones(f"udp{index}")
        recordings.append((phone, audio_dir / f"udp{index}.wav"))
        phone.call(stack.room_uri(room), play=write_tone(audio_dir / f"tone{index}.wav", tone, 30),
                   record=recordings[-1][1])
        phone.wait_state("CONFIRMED")
    call_id = uuid.uuid4().hex
    with tls_ua(stack) as ua:
        media = SrtpPhone(ua.ip, tls_tone)
        answer = ua.final(ua.request("INVITE", f"sip:{room}@{ua.target}", call_id, 1, body=media.offer()))
        assert answer.code == 200, answer
        talking = media.talk(answer.text.split("\r\n\r\n", 1)[1])
        to_tag = answer.header("to").rpartition("tag=")[2]
        route = ", ".join(reversed(", ".join(answer.all("record-route")).split(", ")))
        target = answer.header("contact").strip("<>").split(">")[0]
        ua.send(ua.request("ACK", target, call_id, 1, to_tag=to_tag, route=route))
        stack.wait_in_conference(room, 3)
        time.sleep(5)  # the length of the mix each side records, not a wait for a condition
        media.stop.set()
        talking.join(timeout=5)
        ua.final(ua.request("BYE", target, call_id, 2, to_tag=to_tag, route=route))
    for phone, _ in recordings:
        phone.hangup()
    for phone, _ in recordings:
        phone.wait_for("recorded", 10)
    heard_over_tls = write_samples(audio_dir / "tls.wav", np.concatenate(media.heard))
    over_tls = levels(heard_over_tls, [*udp_tones, tls_tone], *last_seconds(heard_over_tls, 3.0))
    assert all(over_tls[tone] > HEARD_ABOVE_DBFS for tone in udp_tones), over_tls
    assert over_tls[udp_tones[0]] - over_tls[tls_tone] > 30, over_tls  # not itself
    for _, recording in recordings:
        heard = levels(recording, [tls_tone], *last_seconds(recording, 3.0))
        assert heard[tls_tone] > HEARD_ABOVE_DBFS, (recording.name, heard)
        print(f"{recording.name} hears the TLS phone at {heard[tls_tone]:.1f} dBFS")
    print("the TLS phone hears " + ", ".join(f"{tone:g} Hz at {level:.1f} dBFS" for tone, level in over_tls.items()))
