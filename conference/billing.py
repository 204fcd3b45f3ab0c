"""Call detail records: how one leg the bridge dialled is billed (seed 002), and a call Kamailio
relays itself. Pure.

A "#" call bills the original call and an outgoing call to every number added;
a *8 invitation bills the inviter for an outgoing call; a relayed call bills the
calling extension. Billable time runs from the answer to the hang-up.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from conference.quality import Summary


class LegKind(StrEnum):
    ORIGINAL = "original"  # the call a "#" conference was built on
    ADDED = "added"  # a number consulted (and maybe merged) by "#"
    INVITED = "invited"  # a number invited into a conference by *8
    SCHEDULED = "scheduled"  # a scheduled conference calling a participant at its start (its owner's)
    RELAYED = "relayed"  # a call Kamailio relayed without a bridge: extension to extension, to or from a trunk
    CALLBACK = "callback"  # a caller called back (a trunk's call-back number, an operator's click-to-call)


class Disposition(StrEnum):
    ANSWERED = "answered"
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    CANCELLED = "cancelled"
    FAILED = "failed"


@dataclass(frozen=True)
class Leg:
    """What the bridge knows when it dials; the record is made when the leg ends."""

    call: str  # the room the leg belongs to
    kind: LegKind
    caller: str  # who is calling: an extension number, or the caller's SIP URI
    callee: str  # the number dialled
    billed_to: str  # the extension paying for it; "" when nobody in kamconf does (an incoming call)


MAX_CALL = 64  # characters of the call a record groups by (a SIP Call-ID may be longer)


def relayed(call_id: str, caller: str, callee: str, extension: str | None) -> Leg:
    """A call Kamailio relays itself: billed to the calling extension; a trunk's call in is nobody's."""
    return Leg(call_id[:MAX_CALL], LegKind.RELAYED, caller, callee, extension or "")


def disposition(status: int, answered: bool, cancelled: bool) -> Disposition:
    if answered:
        return Disposition.ANSWERED
    if cancelled:
        return Disposition.CANCELLED
    if status in (486, 600):
        return Disposition.BUSY
    if status in (408, 480):
        return Disposition.NO_ANSWER
    return Disposition.FAILED


def record(leg: Leg, record_id: str, node: str, status: int, started: float, answered: float | None,
           ended: float, cancelled: bool, quality: Summary | None = None) -> dict[str, object]:
    """The CDR of a finished leg, as the spool file and the API hold it (times are Unix seconds), with
    its call quality (conference.quality; None figures: the leg never had media to judge)."""
    return {
        "id": record_id, "call": leg.call, "kind": str(leg.kind), "caller": leg.caller, "callee": leg.callee,
        "billed_to": leg.billed_to, "node": node, "status": status,
        "disposition": str(disposition(status, answered is not None, cancelled)),
        "started_at": started, "answered_at": answered, "ended_at": ended,
        "billable_seconds": 0 if answered is None else max(0, round(ended - answered)),
        **(quality or Summary()).to_record(),
    }


def closed(cdr: dict[str, Any], ended: float | None) -> dict[str, Any]:
    """An answered leg's record left open by a node that died, ended at `ended` (the node's last
    sign of life; None: unknown, then at its answer, billing nothing rather than too much)."""
    answered = float(cdr["answered_at"])
    end = answered if ended is None else max(answered, ended)
    return {**cdr, "ended_at": end, "billable_seconds": max(0, round(end - answered))}
