"""Call detail records of the calls Kamailio relays itself (extension to extension, to and from a
trunk; issue 9): made as the bridge makes its own (conference.billing.record), spooled and filed the
same way (store.spool, then the worker's import_cdr job), so /api/v1/cdrs lists them beside the
bridge's. Calls through a bridge node are the node's to record.

The leg is written into the call's dialog (and, for the failure route, the transaction's AVP) when
its INVITE is relayed; a 2xx notes the answer; the record is made when the call ends: in the
failure route for a call never answered, at the dialog's end (BYE, timeout, a bridge's sweep) for
an answered one.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from typing import Any

from conference import billing

log = logging.getLogger("kamconf.kemi")

LEG = "$dlg_var(cdr)"  # the leg and its start, as JSON
ANSWERED = "$dlg_var(cdr_answered)"  # Unix time of its first 2xx
PENDING = "$avp(kamconf_cdr)"  # the same leg, for the failure route (a transaction's AVPs reach it)
NODE = "kamailio"  # in the record's node column: who made it
ENDED = "dialog:end"

Spool = Callable[[dict[str, object]], None]  # file one record (kemi.main: spool, then queue it)


def opened(ksr: Any, leg: billing.Leg, now: float) -> None:
    """An initial INVITE about to be relayed (its dialog made): the record to be."""
    data = json.dumps({"id": uuid.uuid4().hex, "started": now, "call": leg.call, "kind": str(leg.kind),
                       "caller": leg.caller, "callee": leg.callee, "billed_to": leg.billed_to})
    ksr.pv.sets(LEG, data)
    ksr.pv.sets(PENDING, data)


def answered(ksr: Any, now: float) -> None:
    """A 2xx to a recorded INVITE: billing runs from the first."""
    if ksr.pv.get(LEG) is not None and ksr.pv.get(ANSWERED) is None:
        ksr.pv.sets(ANSWERED, repr(now))


def failed(ksr: Any, spool: Spool, now: float) -> None:
    """The INVITE ended without an answer (busy, no answer, cancelled, refused)."""
    data = _text(ksr.pv.get(PENDING))
    if data is None:
        return
    status = int(ksr.pv.get("$T_reply_code") or 500)
    _file(spool, json.loads(data), status, None, now, cancelled=status == 487)


def event(ksr: Any, name: str, spool: Spool, now: float) -> None:
    """The dialog module's events: an answered call's end makes its record."""
    if name != ENDED:
        return
    data, answer = _text(ksr.pv.get(LEG)), _text(ksr.pv.get(ANSWERED))
    if data is None or answer is None:
        return  # not one of ours, or never answered (its record came from the failure route)
    _file(spool, json.loads(data), 200, float(answer), now)


def _file(spool: Spool, data: dict[str, Any], status: int, answered_at: float | None, now: float,
          cancelled: bool = False) -> None:
    leg = billing.Leg(str(data["call"]), billing.LegKind(data["kind"]), str(data["caller"]), str(data["callee"]),
                      str(data["billed_to"]))
    spool(billing.record(leg, str(data["id"]), NODE, status, float(data["started"]), answered_at, now, cancelled))


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
