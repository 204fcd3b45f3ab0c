"""One read of the SIP request into a small value, so routes never re-query KSR.pv."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class SipRequest:
    method: str
    user: str | None  # user part of the request URI
    in_dialog: bool  # has a To tag
    source_ip: str  # of the previous hop
    source_port: int
    call_id: str
    from_user: str | None = None
    to_user: str | None = None
    from_tag: str | None = None

    @classmethod
    def read(cls, ksr: Any) -> SipRequest:
        return cls(
            method=str(ksr.pv.get("$rm")),
            user=_text(ksr.pv.get("$rU")),
            in_dialog=ksr.siputils.has_totag() > 0,
            source_ip=str(ksr.pv.get("$si")),
            source_port=int(ksr.pv.get("$sp") or 0),
            call_id=str(ksr.pv.get("$ci")),
            from_user=_text(ksr.pv.get("$fU")),
            to_user=_text(ksr.pv.get("$tU")),
            from_tag=_text(ksr.pv.get("$ft")),
        )


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
