"""SIP routes. Each takes the KSR facade and the request read once; early returns.

Kamailio calls these through kemi/main.py. They keep no state: every Kamailio
worker is its own interpreter, so shared state is Redis (store/live.py).
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

from conference.placement import NodeStatus, choose_node
from kemi import media
from kemi.request import SipRequest

log = logging.getLogger("kamconf.kemi")

ROOM_REPLY_ROUTE = "ksr_onreply_room"
ROOM_FAILURE_ROUTE = "ksr_failure_room"
MAX_FORWARDS = 10
# sanity_check(msg checks, uri checks): RURI, version, method, CSeq, Content-Length,
# Via/From/To/Call-ID presence and URI syntax (sanity module docs).
SANITY_MSG_CHECKS = 1511
SANITY_URI_CHECKS = 7


class LiveState(Protocol):
    """What routing reads from Redis (store.live through kemi.main)."""

    def room_and_affinity(self, number: str) -> tuple[dict[str, Any] | None, str | None]: ...

    def live_nodes(self) -> list[NodeStatus]: ...

    def claim_affinity(self, number: str, node_id: str, previous: str | None) -> str: ...


class LiveStateError(Exception):
    """Live state cannot be read: answer 503 rather than hold the caller."""


def request_route(ksr: Any, live: LiveState) -> None:
    if not initial_checks(ksr):
        return
    request = SipRequest.read(ksr)
    if request.method == "CANCEL":
        if ksr.tm.t_check_trans() > 0:
            relay(ksr, request)
        return
    if request.in_dialog:
        in_dialog(ksr, request)
        return
    if ksr.tmx.t_precheck_trans() > 0:
        ksr.tm.t_check_trans()
        return
    if ksr.tm.t_check_trans() == 0:
        return
    if request.method == "OPTIONS":
        ksr.sl.sl_send_reply(200, "OK")
        return
    if request.method == "ACK":
        return  # stray ACK without a transaction: nothing to do
    if request.method != "INVITE":
        ksr.hdr.append("Allow: INVITE, ACK, BYE, CANCEL, OPTIONS, INFO\r\n")
        ksr.sl.sl_send_reply(405, "Method Not Allowed")
        return
    invite(ksr, request, live)


def initial_checks(ksr: Any) -> bool:
    """Loops and malformed requests are refused before anything else is read."""
    if ksr.maxfwd.process_maxfwd(MAX_FORWARDS) < 0:
        ksr.sl.sl_send_reply(483, "Too Many Hops")
        return False
    if ksr.sanity.sanity_check(SANITY_MSG_CHECKS, SANITY_URI_CHECKS) < 0:
        # sanity has already answered 400 (or dropped an unanswerable message).
        log.warning("malformed request from %s:%s", ksr.pv.get("$si"), ksr.pv.get("$sp"))
        return False
    return True


def in_dialog(ksr: Any, request: SipRequest) -> None:
    if ksr.rr.loose_route() > 0:
        if request.method == "BYE":
            media.delete(ksr)
        elif request.method == "INVITE" and media.has_sdp(ksr):
            media.offer(ksr)  # re-INVITE: the anchor follows the new offer
        elif request.method == "ACK" and media.has_sdp(ksr):
            media.answer(ksr)  # late offer answered in the ACK
        relay(ksr, request)
        return
    if request.method == "ACK":
        if ksr.tm.t_check_trans() > 0:
            relay(ksr, request)  # ACK to a negative reply, hop by hop
        return
    ksr.sl.sl_send_reply(404, "Not Here")


def invite(ksr: Any, request: SipRequest, live: LiveState) -> None:
    number = request.user or ""
    try:
        room, affinity = live.room_and_affinity(number) if number.isdigit() else (None, None)
        if room is None:
            ksr.sl.sl_send_reply(404, "Not Found")
            return
        node = place_room(number, affinity, live)
    except LiveStateError as exc:
        log.error("live state unavailable for %s: %s", request.call_id, exc)
        service_unavailable(ksr)
        return
    if node is None:
        log.error("no live bridge node for room %s", number)
        service_unavailable(ksr)
        return
    ksr.hdr.remove("Route")
    ksr.rr.record_route()
    if media.has_sdp(ksr) and not media.offer(ksr):
        log.error("rtpengine offer failed for %s", request.call_id)
        service_unavailable(ksr)
        return
    ksr.setdsturi(node.sip_uri)
    relay(ksr, request)


def place_room(number: str, affinity: str | None, live: LiveState) -> NodeStatus | None:
    nodes = live.live_nodes()
    node = choose_node(affinity, nodes)
    if node is None or node.id == affinity:
        return node
    winner = live.claim_affinity(number, node.id, affinity)
    # Another worker placed the room first: follow its choice if that node lives.
    return next((n for n in nodes if n.id == winner), node)


def relay(ksr: Any, request: SipRequest) -> None:
    initial_invite = request.method == "INVITE" and not request.in_dialog
    if request.method == "INVITE":
        ksr.tm.t_on_reply(ROOM_REPLY_ROUTE)
    if initial_invite:
        # Only a failed initial INVITE ends the media session; a failed re-INVITE keeps it.
        ksr.tm.t_on_failure(ROOM_FAILURE_ROUTE)
    if ksr.tm.t_relay() < 0:
        if initial_invite:
            media.delete(ksr)
        ksr.sl.sl_reply_error()


def service_unavailable(ksr: Any) -> None:
    ksr.hdr.append("Retry-After: 5\r\n")
    ksr.sl.sl_send_reply(503, "Service Unavailable")


def reply_from_room(ksr: Any) -> None:
    """Provisional or final answer with SDP from the bridge: complete the media anchor."""
    status = int(ksr.pv.get("$rs") or 0)
    if 100 < status < 300 and media.has_sdp(ksr):
        media.answer(ksr)


def room_failure(ksr: Any) -> None:
    """The INVITE ended without 2xx (CANCEL, busy, timeout): release the media anchor."""
    media.delete(ksr)
