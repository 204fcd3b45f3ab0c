"""One read of the SIP request into a small value, so routes never re-query KSR.pv."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class SipRequest:
    method: str
    user: str | None  # user part of the request URI
    in_dialog: bool  # has a To tag
    source: str  # "ip:port" of the previous hop
    call_id: str

    @classmethod
    def read(cls, ksr: Any) -> SipRequest:
        user = ksr.pv.get("$rU")
        return cls(
            method=str(ksr.pv.get("$rm")),
            user=None if user is None else str(user),
            in_dialog=ksr.siputils.has_totag() > 0,
            source=f"{ksr.pv.get('$si')}:{ksr.pv.get('$sp')}",
            call_id=str(ksr.pv.get("$ci")),
        )
