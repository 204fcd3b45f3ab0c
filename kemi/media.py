"""rtpengine anchoring: every call to a bridge node has its media relayed by rtpengine."""

from __future__ import annotations

from typing import Any

# Loopback and trunk peers speak plain RTP/AVP; ICE is ours to strip. strict-source: once a stream's
# peer is known, packets from anywhere else are dropped (no RTP or RFC 2833 injection into a leg).
OFFER_FLAGS = ("replace-origin replace-session-connection ICE=remove RTP/AVP codec-transcode-PCMU codec-transcode-PCMA"
               " strict-source")
ANSWER_FLAGS = "replace-origin replace-session-connection ICE=remove strict-source"
# A phone's media comes from where its SIP came from, whatever its SDP says (NAT, and no reflection
# of a stream at an address of the caller's choosing). Trunks and bridge nodes keep their SDP: a
# carrier's media gateway is rarely its signalling address.
FROM_SIP_SOURCE = " SIP-source-address"


def has_sdp(ksr: Any) -> bool:
    """An SDP body, or a multipart one (SIP-I trunks add ISUP beside the SDP): rtpengine rewrites
    the SDP part of either, so no media reaches a bridge node around it."""
    return any(ksr.textops.has_body_type(kind) > 0 for kind in ("application/sdp", "multipart/mixed"))


def offer(ksr: Any, from_sip_source: bool = False) -> bool:
    """Anchor an offer. A callee reached over TLS gets SRTP (SDES keys made by rtpengine); everyone
    else plain RTP. A caller's own SRTP offer is answered in kind by rtpengine, which keeps each side's
    profile: a TLS phone talks SRTP to rtpengine, the bridge RTP."""
    flags = OFFER_FLAGS + (FROM_SIP_SOURCE if from_sip_source else "")
    if secure_destination(ksr):
        flags = flags.replace("RTP/AVP", "RTP/SAVP")
    return ksr.rtpengine.rtpengine_offer(flags) > 0


def secure_destination(ksr: Any) -> bool:
    """Whether the request goes on over TLS (a sips: URI or transport=tls, of $du or the R-URI)."""
    for uri in ("$du", "$ru"):
        text = ksr.pv.get(uri)
        if text is not None:
            lowered = str(text).lower()
            return lowered.startswith("sips:") or ";transport=tls" in lowered
    return False


def answer(ksr: Any) -> bool:
    return ksr.rtpengine.rtpengine_answer(ANSWER_FLAGS) > 0


def delete(ksr: Any) -> None:
    ksr.rtpengine.rtpengine_delete0()
