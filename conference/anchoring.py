"""Whether a call's media is anchored through rtpengine or goes straight between the party and a
bridge node (issue 17: rtpengine's userspace relay costs more CPU than the mixing itself).

The bridge node is a media endpoint of its own: a leg that needs none of rtpengine's help can skip
it. rtpengine stays for what only it does here: NAT help (media sent where the SIP came from),
SRTP/DTLS/ICE, transcoding to the bridge's codecs, strict-source RTP. So a leg goes direct only
when its trunk or extension asks for it (`direct_media`, off by default) and its SDP offer shows
none of those needs; everything else stays anchored, the safe answer.

Pure (standard library only): Kamailio reads the offer's body and the settings, this decides, and
kemi keeps the answer for the whole dialog (the answer, re-INVITEs and the BYE follow it).
"""

from __future__ import annotations

import dataclasses
import ipaddress
from dataclasses import dataclass
from enum import StrEnum

# What a bridge node decodes itself (bridge/sip.py offers and accepts only these).
BRIDGE_CODECS = frozenset({"PCMU", "PCMA", "G722"})
# RFC 3551's static payload types of those codecs; dynamic ones are named by a=rtpmap.
STATIC_CODECS = {"0": "PCMU", "8": "PCMA", "9": "G722"}
# Attributes by which an offer asks for what only rtpengine gives here: SDES keys (RFC 4568),
# DTLS-SRTP (RFC 5763), ICE (RFC 8839).
SECURE_ATTRIBUTES = ("crypto:", "fingerprint:", "ice-ufrag:", "ice-pwd:", "candidate:")
MAX_LINES = 200  # an offer longer than this is not judged (a real audio offer has a few dozen)
HOLD = "0.0.0.0"  # RFC 2543 hold: a later offer may name no address at all


class Leg(StrEnum):
    """Who is on the other side of a bridge node's leg, as far as media goes."""

    EXTENSION = "extension"  # a registered phone: its media must come from where its SIP came from
    TRUNK = "trunk"  # a carrier: its media gateway is often not its signalling address
    OTHER = "other"  # anonymous callers, bridge nodes: always anchored


@dataclass(frozen=True)
class Offer:
    """What an SDP offer says that matters to the choice."""

    addresses: frozenset[str]  # every c= address (session and media level)
    secure: bool  # asks for SRTP, DTLS or ICE
    codecs: frozenset[str]  # encoding names of its audio formats, upper case

    @classmethod
    def parse(cls, body: str) -> Offer | None:
        """The offer of an SDP body; None if it has no audio stream or is too long to be judged."""
        lines = body.split("\n", MAX_LINES)
        if len(lines) > MAX_LINES:
            return None
        addresses: set[str] = set()
        codecs: set[str] = set()
        formats: list[str] = []
        names: dict[str, str] = {}
        secure = audio = False
        for raw in lines:
            line = raw.strip()
            if line.startswith("c="):
                parts = line[2:].split()
                addresses.add(parts[2].split("/", 1)[0] if len(parts) == 3 else line)
            elif line.startswith("m="):
                parts = line[2:].split()
                audio = len(parts) >= 3 and parts[0] == "audio"
                if audio:
                    secure = secure or "SAVP" in parts[2].upper() or "TLS" in parts[2].upper()
                    formats.extend(parts[3:])
            elif line.startswith("a="):
                attribute = line[2:]
                secure = secure or attribute.lower().startswith(SECURE_ATTRIBUTES)
                if attribute.startswith("rtpmap:"):
                    number, _, encoding = attribute[len("rtpmap:"):].partition(" ")
                    names[number] = encoding.split("/", 1)[0].upper()
        if not formats:
            return None
        for number in formats:
            name = names.get(number, STATIC_CODECS.get(number))
            if name is not None:
                codecs.add(name)
        return cls(frozenset(addresses), secure, frozenset(codecs))


@dataclass(frozen=True)
class Choice:
    direct: bool
    reason: str  # why, for the log


def choose(leg: Leg, direct_media: bool, offer: Offer | None, offerer: str | None = None,
           secure_transport: bool = False) -> Choice:
    """Direct or anchored, for a call between a bridge node and an extension or trunk.

    `offer` is the INVITE's SDP (None: none, or not one we judge: late offer, multipart, too long);
    `offerer` the signalling source of the party that made it, when that party is the extension or
    trunk (a call into the bridge); None when the bridge node offers (a call it places). A party
    reached or calling over TLS stays anchored: rtpengine gives it SRTP."""
    if leg == Leg.OTHER or not direct_media:
        return Choice(False, "anchored by setting")
    if secure_transport:
        return Choice(False, "over TLS: SRTP by rtpengine")
    if offer is None:
        return Choice(False, "no SDP offer to judge")
    if offer.secure:
        return Choice(False, "offer asks for SRTP, DTLS or ICE")
    if not offer.codecs & BRIDGE_CODECS:
        return Choice(False, "offer needs transcoding")
    if offerer is not None:
        elsewhere = next((address for address in sorted(offer.addresses) if _behind_nat(leg, address, offerer)), None)
        if elsewhere is not None:
            return Choice(False, f"media address {elsewhere} is not where its SIP came from ({offerer})")
    return Choice(True, "direct")


def still_direct(leg: Leg, offer: Offer | None, offerer: str, secure_transport: bool = False) -> Choice:
    """A later offer (re-INVITE, UPDATE, an answer in an ACK) of the judged party of a direct call
    (the extension or trunk that called into the bridge): it must pass the first offer's tests, or a
    re-INVITE could point the node's stream at any address, or ask for SRTP the node cannot do. Only
    an address of 0.0.0.0 (hold, the RFC 2543 way) is allowed in it."""
    if offer is not None:
        offer = dataclasses.replace(offer, addresses=frozenset(a for a in offer.addresses if a != HOLD))
    return choose(leg, True, offer, offerer, secure_transport)


def _behind_nat(leg: Leg, address: str, source: str) -> bool:
    """Whether media at `address` needs rtpengine's NAT help (or is no address at all). A phone's
    media must be at the address its SIP came from: else it is behind a NAT, or names somewhere
    else for the bridge to stream at. A carrier's media gateway may be elsewhere, but not at a
    private address when its SIP came from a public one (a NAT between)."""
    try:
        media = ipaddress.ip_address(address)
    except ValueError:
        return True
    if media.is_unspecified:
        return True
    if leg == Leg.EXTENSION:
        return address != source
    try:
        signalling = ipaddress.ip_address(source)
    except ValueError:
        return True
    return media != signalling and not media.is_global and signalling.is_global
