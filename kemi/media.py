"""rtpengine anchoring: a call's media is relayed by rtpengine, unless its dialog was made direct
(conference.anchoring: a trunk or extension with direct_media and a plain offer, to or from a bridge
node). The choice is made once, at the initial INVITE, and kept in the dialog, where only Kamailio
writes: its answer, re-INVITEs, late answers in ACKs and its end all follow it (rtpengine is then
never asked), so both directions of a dialog always agree."""

from __future__ import annotations

from typing import Any

from conference import anchoring

# Loopback and trunk peers speak plain RTP/AVP; ICE is ours to strip. strict-source: once a stream's
# peer is known, packets from anywhere else are dropped (no RTP or RFC 2833 injection into a leg).
OFFER_FLAGS = ("replace-origin replace-session-connection ICE=remove RTP/AVP codec-transcode-PCMU codec-transcode-PCMA"
               " strict-source")
ANSWER_FLAGS = "replace-origin replace-session-connection ICE=remove strict-source"
# A phone's media comes from where its SIP came from, whatever its SDP says (NAT, and no reflection
# of a stream at an address of the caller's choosing). Trunks and bridge nodes keep their SDP: a
# carrier's media gateway is rarely its signalling address.
FROM_SIP_SOURCE = " SIP-source-address"
DIRECT = "direct"
DIRECT_DIALOG = "$dlg_var(media)"  # DIRECT when the dialog's media skips rtpengine
# The same in the initial INVITE's transaction: its failure route may not see the dialog's variables.
DIRECT_PENDING = "$avp(kamconf_media)"
# The kind of party (conference.anchoring.Leg) of a direct call into a bridge node, the caller: its
# later offers are judged as its first was.
JUDGED = "$dlg_var(media_judged)"
SECURE_TRANSPORTS = ("tls", "wss")


def has_sdp(ksr: Any) -> bool:
    """An SDP body, or a multipart one (SIP-I trunks add ISUP beside the SDP): rtpengine rewrites
    the SDP part of either, so no media reaches a bridge node around it."""
    return any(ksr.textops.has_body_type(kind) > 0 for kind in ("application/sdp", "multipart/mixed"))


def offered(ksr: Any) -> anchoring.Offer | None:
    """The request's SDP offer as conference.anchoring reads it; None if its body is not SDP alone
    (a multipart one goes through rtpengine, which rewrites its SDP part)."""
    content_type = str(ksr.pv.get("$cT") or "").partition(";")[0].strip().lower()
    body = ksr.pv.get("$rb")
    if content_type != "application/sdp" or body is None:
        return None
    return anchoring.Offer.parse(str(body))


def secure_transport(ksr: Any) -> bool:
    """Whether the request came over TLS or goes on over it: rtpengine gives such a party SRTP."""
    return str(ksr.pv.get("$pr") or "").lower() in SECURE_TRANSPORTS or secure_destination(ksr)


def go_direct(ksr: Any, judged: anchoring.Leg | None = None) -> None:
    """An initial INVITE (its dialog made): its media skips rtpengine for the dialog's whole life;
    the `judged` caller's later offers must stay fit for that (refused_offer)."""
    ksr.pv.sets(DIRECT_DIALOG, DIRECT)
    ksr.pv.sets(DIRECT_PENDING, DIRECT)
    if judged is not None:
        ksr.pv.sets(JUDGED, str(judged))


def refused_offer(ksr: Any, from_tag: str | None, source_ip: str) -> str | None:
    """Why an in-dialog SDP (re-INVITE, UPDATE, ACK) of a direct call's judged caller cannot go on
    direct (conference.anchoring.still_direct); None if it can, or is no such party's."""
    judged = ksr.pv.get(JUDGED)
    if not is_direct(ksr) or judged not in set(anchoring.Leg) or from_tag != ksr.pv.get("$dlg(from_tag)"):
        return None
    choice = anchoring.still_direct(anchoring.Leg(judged), offered(ksr), source_ip, secure_transport(ksr))
    return None if choice.direct else choice.reason


def is_direct(ksr: Any) -> bool:
    return DIRECT in (ksr.pv.get(DIRECT_DIALOG), ksr.pv.get(DIRECT_PENDING))


def offer(ksr: Any, from_sip_source: bool = False) -> bool:
    """Anchor an offer (nothing to do in a direct dialog). A callee reached over TLS gets SRTP (SDES
    keys made by rtpengine); everyone else plain RTP. A caller's own SRTP offer is answered in kind
    by rtpengine, which keeps each side's profile: a TLS phone talks SRTP to rtpengine, the bridge RTP."""
    if is_direct(ksr):
        return True
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
    return is_direct(ksr) or ksr.rtpengine.rtpengine_answer(ANSWER_FLAGS) > 0


def delete(ksr: Any) -> None:
    if not is_direct(ksr):
        ksr.rtpengine.rtpengine_delete0()
