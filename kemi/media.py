"""rtpengine anchoring: every call to a bridge node has its media relayed by rtpengine."""

from __future__ import annotations

from typing import Any

# Loopback and trunk peers speak plain RTP/AVP; ICE is ours to strip.
OFFER_FLAGS = "replace-origin replace-session-connection ICE=remove RTP/AVP codec-transcode-PCMU codec-transcode-PCMA"
ANSWER_FLAGS = "replace-origin replace-session-connection ICE=remove"


def has_sdp(ksr: Any) -> bool:
    """An SDP body, or a multipart one (SIP-I trunks add ISUP beside the SDP): rtpengine rewrites
    the SDP part of either, so no media reaches a bridge node around it."""
    return any(ksr.textops.has_body_type(kind) > 0 for kind in ("application/sdp", "multipart/mixed"))


def offer(ksr: Any) -> bool:
    return ksr.rtpengine.rtpengine_offer(OFFER_FLAGS) > 0


def answer(ksr: Any) -> bool:
    return ksr.rtpengine.rtpengine_answer(ANSWER_FLAGS) > 0


def delete(ksr: Any) -> None:
    ksr.rtpengine.rtpengine_delete0()
