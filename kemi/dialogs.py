"""Dialog tracking: an in-dialog request is relayed only for a call Kamailio set up, from one of its
two parties. Without this, any request with a To tag and a Route header would be relayed anywhere
(the rr module's documented open relay).

The dialog module keeps the dialogs (in memory, shared by all workers); each remembers the source
address of its caller and of the callee that answered. A Kamailio restart forgets them all: a BYE
of such a call still passes if its Route carries the cookie this Kamailio signed into the
Record-Route (it only ends a call), anything else gets 404.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Collection, Sequence
from enum import StrEnum
from typing import Any

from conference.placement import NodeStatus, Run, gone, run_state
from kemi import edge
from kemi.request import SipRequest

log = logging.getLogger("kamconf.kemi")

CALLER = "$dlg_var(caller)"  # source address of the initial INVITE
CALLEE = "$dlg_var(callee)"  # source address of its 2xx
# host:port an in-dialog request may go to, per side (comma-separated): the caller's source and
# Contact; where the INVITE was sent, and the source and Contact of the callee's answer. Ports count:
# a carrier's gateway may share a host with a bridge node.
CALLER_HOSTS = "$dlg_var(caller_hosts)"
CALLEE_HOSTS = "$dlg_var(callee_hosts)"
CONTACT = ("$(ct{tobody.uri}{uri.host})", "$(ct{tobody.uri}{uri.port})")
DESTINATION = ("$(du{uri.host})", "$(du{uri.port})")
REQUEST_URI = ("$(ru{uri.host})", "$(ru{uri.port})")
SOURCE = ("$si", "$sp")
DEFAULT_PORT = "5060"
COOKIE_PARAM = "kc"
DELETED = "5"  # $dlg(state) of an ended dialog
RUNS = "runs"  # htable: bridge run -> sweeps in a row that found it absent (kamailio.cfg)
CALLS = "calls"  # htable: "<run> <h_entry> <h_id>" of each answered call through a bridge run
RUNS_VAR = "$dlg_var(runs)"  # the runs of the bridge nodes a call passes, space-separated
ABSENT_SWEEPS = 2  # a run absent this often is dead (not Redis briefly losing its key)


class Verdict(StrEnum):
    RELAY = "relay"
    UNKNOWN = "unknown dialog"  # 404
    STRANGER = "not a party of the dialog"  # 403


def track(ksr: Any, request: SipRequest, secret: bytes, keepalive: bool = False, runs: Sequence[str] = ()) -> None:
    """An initial INVITE about to be relayed: make it a dialog, tied to the bridge `runs` it passes
    (`sweep` ends it with them); sign its Record-Route."""
    ksr.dialog.dlg_manage()
    ksr.dialog.set_dlg_profile(edge.SOURCE_PROFILE, request.source_ip)
    if keepalive:  # OPTIONS to both sides every ka_interval (kamailio.cfg)
        ksr.dialog.dlg_set_property("ka-src")
        ksr.dialog.dlg_set_property("ka-dst")
    if runs:
        ksr.pv.sets(RUNS_VAR, " ".join(runs))
    for run in runs:
        ksr.htable.sht_seti(RUNS, run, 0)
    ksr.pv.sets(CALLER, request.source_ip)
    ksr.pv.sets(CALLER_HOSTS, _hosts(address(ksr, SOURCE), address(ksr, CONTACT)))
    ksr.pv.sets(CALLEE_HOSTS, _hosts(next_hop(ksr)))
    ksr.rr.add_rr_param(f";{COOKIE_PARAM}={cookie(secret, request.call_id)}")


def note_answer(ksr: Any) -> None:
    """A 2xx to an INVITE: its sender is the callee (the first 2xx; re-INVITEs' answers leave it)."""
    if ksr.pv.get(CALLEE) is None:
        ksr.pv.sets(CALLEE, str(ksr.pv.get("$si")))
        ksr.pv.sets(CALLEE_HOSTS, _hosts(_text(ksr.pv.get(CALLEE_HOSTS)), address(ksr, SOURCE), address(ksr, CONTACT)))
        for key in call_keys(ksr):  # now it can be ended: by its id, if a bridge it passes dies
            ksr.htable.sht_seti(CALLS, key, 1)


def forget(ksr: Any) -> None:
    """A call's BYE: it need not be ended with a bridge run any more."""
    for key in call_keys(ksr):
        ksr.htable.sht_rm(CALLS, key)


def call_keys(ksr: Any) -> list[str]:
    """The current dialog's entries in CALLS, one per bridge run it passes."""
    runs, h_entry, h_id = (_text(ksr.pv.get(name)) for name in (RUNS_VAR, "$dlg(h_entry)", "$dlg(h_id)"))
    if not runs or h_entry is None or h_id is None:
        return []
    return [f"{run} {h_entry} {h_id}" for run in runs.split()]


def verdict(ksr: Any, request: SipRequest) -> Verdict:
    """For an in-dialog request, before loose_route: a stranger must not even reach the dialog
    module's state (its BYE would end the dialog's tracking)."""
    # An ended dialog stays in memory a while (end_timeout); it is known no more.
    if ksr.dialog.is_known_dlg() < 0 or _text(ksr.pv.get("$dlg(state)")) == DELETED:
        return Verdict.UNKNOWN
    from_caller = request.from_tag == _text(ksr.pv.get("$dlg(from_tag)"))
    party = _text(ksr.pv.get(CALLER if from_caller else CALLEE))
    # The callee is unknown before it answers (PRACK, UPDATE, early BYE): the dialog match suffices.
    if party is not None and party != request.source_ip:
        return Verdict.STRANGER
    return Verdict.RELAY


def stray_hop(ksr: Any, request: SipRequest) -> str | None:
    """After loose_route, for a party of a known dialog: the next hop if it is not the other party
    (None if it is). A party writes the Request-URI of its in-dialog requests; without this, a caller
    in a room could send a re-INVITE on to a carrier's gateway, or anywhere."""
    from_caller = request.from_tag == _text(ksr.pv.get("$dlg(from_tag)"))
    allowed = _text(ksr.pv.get(CALLEE_HOSTS if from_caller else CALLER_HOSTS))
    hop = next_hop(ksr)
    if hop is not None and allowed is not None and hop in allowed.split(","):
        return None
    return hop or "(none)"


def refresh_target(ksr: Any, request: SipRequest) -> None:
    """A party's re-INVITE or UPDATE may move it (RFC 3261 target refresh): its new Contact is where
    the other party's requests may go from now on."""
    if request.method not in ("INVITE", "UPDATE"):
        return  # read no Contact: most in-dialog requests have none, and Kamailio logs an error for each
    contact = address(ksr, CONTACT)
    if contact is None:
        return
    hosts = CALLER_HOSTS if request.from_tag == _text(ksr.pv.get("$dlg(from_tag)")) else CALLEE_HOSTS
    known = _text(ksr.pv.get(hosts))
    if known is None or contact not in known.split(","):
        ksr.pv.sets(hosts, _hosts(known, contact))


def next_hop(ksr: Any) -> str | None:
    """host:port the request goes to: the destination URI's if one is set, else the Request-URI's."""
    return address(ksr, DESTINATION if ksr.pv.get("$du") is not None else REQUEST_URI)


def address(ksr: Any, names: tuple[str, str]) -> str | None:
    """host:port from a pair of pseudo-variables (a URI without a port is at 5060)."""
    host = _text(ksr.pv.get(names[0]))
    if not host:
        return None
    return f"{host.lower()}:{_text(ksr.pv.get(names[1])) or DEFAULT_PORT}"


def _hosts(*hosts: str | None) -> str:
    return ",".join(host for host in hosts if host)


def signed_bye(ksr: Any, request: SipRequest, secret: bytes) -> bool:
    """A BYE of a dialog this Kamailio does not know (it restarted) that carries our Route cookie;
    only after loose_route, which parses the Route that is ours."""
    expected = f"{COOKIE_PARAM}={cookie(secret, request.call_id)}"
    return request.method == "BYE" and ksr.rr.check_route_param(expected) > 0


def sweep(ksr: Any, nodes: Sequence[NodeStatus], registered: Collection[str]) -> list[tuple[str, Run, int]]:
    """End the calls of every bridge run that is gone: replaced by a restart at once, absent (its
    node registered without a heartbeat) once it has been for ABSENT_SWEEPS sweeps; never a run
    Redis knows nothing of (it may have lost its data). The runs ended, why, and how many calls each had."""
    ended: list[tuple[str, Run, int]] = []
    for run, absences in entries(ksr, RUNS):
        state = run_state(run, nodes, registered)
        if not gone(state):
            if absences:
                ksr.htable.sht_seti(RUNS, run, 0)
        elif state == Run.ABSENT and absences + 1 < ABSENT_SWEEPS:
            ksr.htable.sht_seti(RUNS, run, absences + 1)
        else:
            ksr.htable.sht_rm(RUNS, run)
            ended.append((run, state, end_calls(ksr, run)))
    return ended


def end_calls(ksr: Any, run: str) -> int:
    """BYE to both sides of every call through `run` (by its dialog id, with the dialog RPC: KEMI has
    no call for it); how many were ended."""
    ended = 0
    for key, _ in entries(ksr, CALLS):
        passes, _, where = key.partition(" ")
        if passes != run:
            continue
        ksr.htable.sht_rm(CALLS, key)
        h_entry, _, h_id = where.partition(" ")
        if rpc(ksr, "dlg.end_dlg", int(h_entry), int(h_id)) is not None:
            ended += 1
    return ended


def rpc(ksr: Any, method: str, *params: str | int) -> Any:
    """A Kamailio RPC run in this process (jsonrpcs, no transport): its result, None on error."""
    ksr.jsonrpcs.exec(json.dumps({"jsonrpc": "2.0", "method": method, "params": list(params), "id": 1}))
    reply = json.loads(str(ksr.pv.get("$jsonrpl(body)") or "{}"))
    if "error" in reply:
        log.error("rpc %s %s: %s", method, params, reply["error"])
    return reply.get("result")


def entries(ksr: Any, table: str) -> list[tuple[str, int]]:
    """Every (key, integer value) of an htable."""
    found: list[tuple[str, int]] = []
    if ksr.htable.sht_iterator_start(table, table) < 0:
        return found
    while ksr.htable.sht_iterator_next(table) > 0:
        found.append((str(ksr.pv.get(f"$shtitkey({table})")), int(ksr.pv.get(f"$shtitval({table})") or 0)))
    ksr.htable.sht_iterator_end(table)
    return found


def cookie(secret: bytes, call_id: str) -> str:
    return hmac.new(secret, b"record-route\n" + call_id.encode(), hashlib.sha256).hexdigest()[:20]


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
