"""rtpengine anchoring: every call to a bridge node has its media relayed by rtpengine."""

from __future__ import annotations

from typing import Any

# Loopback and trunk peers speak plain RTP/AVP; ICE is ours to strip.
OFFER_FLAGS = "replace-origin replace-session-connection ICE=remove RTP/AVP codec-transcode-PCMU codec-transcode-PCMA"
ANSWER_FLAGS = "replace-origin replace-session-connection ICE=remove"


def has_sdp(ksr: Any) -> bool:
    return ksr.textops.has_body_type("application/sdp") > 0


def offer(ksr: Any) -> bool:
    return ksr.rtpengine.rtpengine_offer(OFFER_FLAGS) > 0


def answer(ksr: Any) -> bool:
    return ksr.rtpengine.rtpengine_answer(ANSWER_FLAGS) > 0


def delete(ksr: Any) -> None:
    ksr.rtpengine.rtpengine_delete0()
