"""SIP routes. Each takes the KSR facade and the request read once; early returns.

Kamailio calls these through kemi/main.py. They keep no state: every Kamailio
worker is its own interpreter, so shared state is Redis (store/live.py).
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from conference import address, anchoring, billing, identity, numberplan, vouch
from conference.extensions import ExtensionSettings, TrunkSettings
from conference.numberplan import (
    Caller,
    CallerKind,
    Refuse,
    ToExtension,
    ToLocalConference,
    ToMenu,
    ToRoom,
    ToTrunk,
)
from conference.placement import NodeStatus, place
from kemi import accounting, dialogs, edge, media, metrics
from kemi.request import SipRequest

log = logging.getLogger("kamconf.kemi")

MEDIA_REPLY_ROUTE = "ksr_onreply_media"
MEDIA_FAILURE_ROUTE = "ksr_failure_media"
MAX_FORWARDS = 10
# sanity_check(msg checks, uri checks): every check the module has: RURI version and scheme,
# Via/From/To/Call-ID/CSeq present, CSeq method and value, Content-Length, Expires, Proxy-Require
# (420 for any extension: we support none), URI syntax, digest credentials syntax (sanity docs).
SANITY_MSG_CHECKS = 4071
SANITY_URI_CHECKS = 7
AUTH_HA1 = 1  # pv_auth_check flags: the password given is HA1
AUTH_SAME_USER = 1  # pv_auth_check checks: the auth user is the From (To for REGISTER) user
# pv_auth_check results that are a wrong answer (not a missing, stale or replayed one): counted per source.
AUTH_FAILED = frozenset({-2, -3, -8})
CHALLENGE_QOP = 1  # auth_challenge flags: ask for qop=auth
# Headers of ours in what a caller sends are removed whatever their case (a POSIX class per letter:
# Kamailio's header-name regex is case-sensitive).
OUR_HEADERS = "^" + "".join(f"[{c.upper()}{c}]" if c.isalpha() else c for c in vouch.PREFIX)
ALLOW = "Allow: INVITE, ACK, BYE, CANCEL, OPTIONS, INFO, REGISTER\r\n"


@dataclass(frozen=True)
class Site:
    """This installation's routing settings: the digest realm, the dial-in number, the vouching key."""

    realm: str
    secret: bytes
    dial_in: str = ""
    clock: Callable[[], float] = time.time
    limits: edge.Limits = dataclasses.field(default_factory=edge.Limits)
    trusted_hosts: frozenset[str] = frozenset()  # never banned: Kamailio's and the bridge's own address
    own_addresses: frozenset[str] = frozenset()  # host:port no Contact may point at (Kamailio, bridge)
    keepalive: bool = False  # in-dialog OPTIONS find vanished sides ([edge] dialog_keepalive)
    domain: str = "127.0.0.1"  # of the identities kamconf asserts to trunks (Kamailio's SIP address)
    records: accounting.Spool | None = None  # where the calls Kamailio relays itself are recorded


# Headers by which a caller could claim another identity towards a carrier (RFC 3325, 5806, the
# RPID draft): kamconf asserts identity itself (assert_identity).
CALLER_IDENTITY = ("P-Asserted-Identity", "P-Preferred-Identity", "Remote-Party-ID", "Diversion")
# Callers whose media address is their SIP source's (not trunks and bridge nodes: see kemi.media).
PHONES = (CallerKind.EXTENSION, CallerKind.ANONYMOUS)
# Who calls into a bridge node (conference.vouch's kinds), as far as its media goes.
LEGS = {"extension": anchoring.Leg.EXTENSION, "trunk": anchoring.Leg.TRUNK}


class LiveState(numberplan.Directory, Protocol):
    """What routing reads from Redis (store.live through kemi.main)."""

    def affinity(self, key: str) -> str | None: ...

    def live_nodes(self) -> list[NodeStatus]: ...

    def claim_affinity(self, key: str, node_id: str, previous: str | None) -> str: ...

    def request_callback(self, number: str, destination: str, owner: str | None, per_hour: int) -> bool:
        """Have a bridge node call `number` back (store.live.request_callback); False: no node lives."""


class LiveStateError(Exception):
    """Live state cannot be read: answer 503 rather than hold the caller."""


class ReadOnce:
    """The live state as one request sees it: nodes, trunks and each extension read at most once
    (identifying the caller, deciding the route and placing the room all ask)."""

    def __init__(self, live: LiveState) -> None:
        self.live = live
        self._nodes: list[NodeStatus] | None = None
        self._trunks: list[TrunkSettings] | None = None
        self._extensions: dict[str, ExtensionSettings | None] = {}

    def live_nodes(self) -> list[NodeStatus]:
        if self._nodes is None:
            self._nodes = list(self.live.live_nodes())
        return self._nodes

    def trunks(self) -> list[TrunkSettings]:
        if self._trunks is None:
            self._trunks = list(self.live.trunks())
        return self._trunks

    def extension(self, number: str) -> ExtensionSettings | None:
        if number not in self._extensions:
            self._extensions[number] = self.live.extension(number)
        return self._extensions[number]

    def is_room(self, number: str) -> bool:
        return self.live.is_room(number)

    def is_menu(self, number: str) -> bool:
        return self.live.is_menu(number)

    def affinity(self, key: str) -> str | None:
        return self.live.affinity(key)

    def claim_affinity(self, key: str, node_id: str, previous: str | None) -> str:
        return self.live.claim_affinity(key, node_id, previous)

    def request_callback(self, number: str, destination: str, owner: str | None, per_hour: int) -> bool:
        return self.live.request_callback(number, destination, owner, per_hour)


def request_route(ksr: Any, live: LiveState, site: Site) -> None:
    source_ip = str(ksr.pv.get("$si"))
    once = ReadOnce(live)
    if not edge.admit(ksr, source_ip, lambda: trusted_source(ksr, source_ip, once, site), site.limits):
        return
    if not initial_checks(ksr):
        return
    request = SipRequest.read(ksr)
    if request.method == "CANCEL":
        if ksr.tm.t_check_trans() > 0:
            relay(ksr, request)
        return
    if request.in_dialog:
        in_dialog(ksr, request, site, lambda: trusted_source(ksr, source_ip, once, site))
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
    if request.method == "REGISTER":
        guarded(ksr, request, lambda: register(ksr, request, once, site))
        return
    if request.method != "INVITE":
        ksr.hdr.append(ALLOW)
        ksr.sl.sl_send_reply(405, "Method Not Allowed")
        return
    guarded(ksr, request, lambda: invite(ksr, request, once, site))


def guarded(ksr: Any, request: SipRequest, route: Any) -> None:
    try:
        route()
    except LiveStateError as exc:
        log.error("live state unavailable for %s %s: %s", request.method, request.call_id, exc)
        service_unavailable(ksr)


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


def trusted_source(ksr: Any, source_ip: str, live: LiveState, site: Site) -> bool:
    """A bridge node's or trunk's address (or our own) is never banned, whatever it sends."""
    if source_ip in site.trusted_hosts:
        return True

    def decide() -> bool | None:
        try:
            nodes = {node.address for node in live.live_nodes()}
            trunks = {address.rpartition(":")[0] or address
                      for trunk in live.trunks() for address in (*trunk.sources, trunk.gateway)}
        except LiveStateError:
            return None
        return source_ip in nodes or source_ip in trunks

    return edge.cached_trust(ksr, source_ip, decide)


def in_dialog(ksr: Any, request: SipRequest, site: Site, trusted: Callable[[], bool]) -> None:
    verdict = dialogs.verdict(ksr, request)
    # A carrier may answer from one of its trunk's addresses and hang up from another.
    if verdict == dialogs.Verdict.STRANGER and not trusted():
        refuse_in_dialog(ksr, request, verdict, 403, "Forbidden")
        return
    if ksr.rr.loose_route() > 0:
        if verdict == dialogs.Verdict.UNKNOWN and not dialogs.signed_bye(ksr, request, site.secret):
            # Never relayed, never offered to rtpengine: a forged To tag and Route lead nowhere.
            refuse_in_dialog(ksr, request, verdict, 404, "Not Here")
            return
        stray = dialogs.stray_hop(ksr, request) if verdict != dialogs.Verdict.UNKNOWN else None
        if stray is not None:
            refuse_in_dialog(ksr, request, f"to {stray}, not the other party", 403, "Forbidden")
            return
        if verdict == dialogs.Verdict.RELAY:
            refused = media.refused_offer(ksr, request.from_tag, request.source_ip) if (
                request.method in ("INVITE", "UPDATE", "ACK") and media.has_sdp(ksr)) else None
            if refused is not None:
                refuse_in_dialog(ksr, request, f"direct media: {refused}", 488, "Not Acceptable Here")
                return
            dialogs.refresh_target(ksr, request)
        if request.method == "BYE":
            media.delete(ksr)
            dialogs.forget(ksr)
            if site.records is not None:
                accounting.ended(ksr, site.records, site.clock())
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


def refuse_in_dialog(ksr: Any, request: SipRequest, verdict: str, code: int, reason: str) -> None:
    log.warning("%s %s from %s:%s refused: %s", request.method, request.call_id, request.source_ip,
                request.source_port, verdict)
    if request.method != "ACK":
        ksr.sl.sl_send_reply(code, reason)


def register(ksr: Any, request: SipRequest, live: LiveState, site: Site) -> None:
    """Digest-authenticated registration of an extension (usrloc in memory). An unknown user gets
    the very challenge a known one gets (a password that nothing verifies), so REGISTER tells no
    one which extensions exist."""
    user = request.to_user or ""
    known = live.extension(user)
    extension = known or ExtensionSettings(user, unusable_ha1(site.secret, user))
    if not authenticated(ksr, request, extension, live, site):
        return
    if known is None:  # cannot happen short of breaking HMAC; challenged again all the same
        ksr.auth.auth_challenge(site.realm, CHALLENGE_QOP)
        return
    forbidden = forbidden_contact(ksr, live, site)
    if forbidden is not None:
        log.warning("REGISTER of %s from %s refused: Contact %s", user, request.source_ip, forbidden)
        ksr.sl.sl_send_reply(403, "Forbidden Contact")
        return
    if ksr.registrar.save("location", 0) < 0:
        # save() has answered (e.g. 503 beyond max_contacts); a second answer would confuse the phone.
        log.warning("REGISTER of %s from %s not saved", user, request.source_ip)


def unusable_ha1(secret: bytes, user: str) -> str:
    """An HA1-shaped secret no one can answer (nobody knows a password that hashes to it)."""
    return hmac.new(secret, b"no such extension\n" + user.encode(), hashlib.md5).hexdigest()


def forbidden_contact(ksr: Any, live: LiveState, site: Site) -> str | None:
    """A Contact pointing at a trunk gateway or at kamconf itself would let a phone's calls, once
    "to itself", go out or loop; None if every Contact is elsewhere."""
    contacts = edge.contact_hosts(str(ksr.pv.get("$(hdr(Contact)[*])") or ""))
    if contacts is None:
        return "(too many)"
    forbidden = {*site.own_addresses, *(f"{node.address}:{node.port}" for node in live.live_nodes())}
    for trunk in live.trunks():
        forbidden.update((trunk.gateway, *trunk.sources))
    return edge.forbidden_contact(contacts, forbidden)


def authenticated(ksr: Any, request: SipRequest, extension: ExtensionSettings, live: LiveState,
                  site: Site) -> bool:
    """Whether the request carries the extension's credentials; if not, it is challenged. Wrong
    answers are counted per source, and too many ban it (edge.note_auth_failure)."""
    result = ksr.auth.pv_auth_check(site.realm, extension.ha1, AUTH_HA1, AUTH_SAME_USER)
    if result < 0:
        if result in AUTH_FAILED and edge.note_auth_failure(
                ksr, request.source_ip, lambda: trusted_source(ksr, request.source_ip, live, site), site.limits):
            return False  # banned: no more answers
        ksr.auth.auth_challenge(site.realm, CHALLENGE_QOP)
        return False
    ksr.auth.consume_credentials()
    return True


def identify(ksr: Any, request: SipRequest, live: LiveState, site: Site) -> Caller | None:
    """Who calls: a bridge node or trunk by source address, an extension by its credentials,
    else anonymous. None: the request was challenged (or refused) and is answered."""
    if bridge_node(request, live) is not None:
        return Caller(CallerKind.BRIDGE)
    trunk = numberplan.trunk_from(request.source_ip, request.source_port, live.trunks())
    if trunk is not None:
        return Caller(CallerKind.TRUNK, trunk=trunk)
    extension = live.extension(request.from_user) if request.from_user else None
    if extension is None:
        return Caller(CallerKind.ANONYMOUS)
    authentic = authenticated(ksr, request, extension, live, site)
    return Caller(CallerKind.EXTENSION, extension) if authentic else None


def bridge_node(request: SipRequest, live: LiveState) -> NodeStatus | None:
    """The bridge node a request comes from, if any."""
    return next((node for node in live.live_nodes()
                 if node.address == request.source_ip and node.port == request.source_port), None)


def bridge_runs(request: SipRequest, live: LiveState, *to: NodeStatus) -> tuple[str, ...]:
    """The runs of the bridge nodes a call goes through: it cannot outlive any of them."""
    source = bridge_node(request, live)
    return tuple(node.run for node in (source, *to) if node is not None)


def invite(ksr: Any, request: SipRequest, live: LiveState, site: Site) -> None:
    if media.has_sdp(ksr) and not edge.accepts_sdp(_text(ksr.pv.get("$(hdr(Accept)[*])"))):
        ksr.sl.sl_send_reply(406, "Not Acceptable")  # our answer would be SDP, which the caller refuses
        return
    caller = identify(ksr, request, live, site)
    if caller is None:
        return
    if (caller.kind in PHONES
            and edge.profile_full(ksr, edge.SOURCE_PROFILE, request.source_ip, site.limits.calls_per_source)
            and not trusted_source(ksr, request.source_ip, live, site)):
        log.warning("%s from %s: already %s calls up from there", request.call_id, request.source_ip,
                    site.limits.calls_per_source)
        ksr.sl.sl_send_reply(503, "Too Many Calls From This Address")
        return
    target = address.RoomAddress.parse(request.user or "")
    if target is not None and target.kind == address.Kind.SCHEDULED:
        to_conference(ksr, request, live, site, caller, str(target))
        return
    ksr.hdr.remove("Route")
    ksr.textops.remove_hf_re(OUR_HEADERS)
    if caller.trunk is not None and request.user in caller.trunk.callback:
        call_back(ksr, request, live, caller.trunk)
        return
    if site.dial_in and request.user == site.dial_in:
        # The scheduled conferences' service number is open to anyone, as a room is.
        to_bridge(ksr, request, live, site, str(address.DIAL_IN), vouched(caller), wants_direct(caller))
        return
    decision = numberplan.decide(caller, request.user or "", live)
    if isinstance(decision, Refuse):
        log.info("%s from %s (%s) to %s: %d %s", request.call_id, request.from_user, caller.kind, request.user,
                 decision.code, decision.reason)
        ksr.sl.sl_send_reply(decision.code, decision.reason)
        return
    side = consult_side(caller, decision, live)
    if side is not None and isinstance(decision, ToExtension | ToTrunk):
        # Seed 002: the call runs through a bridge node from its first INVITE, so "#" can build a conference.
        anchored = dataclasses.replace(vouched(caller), anchor=decision.number, controller_is_caller=side == "caller")
        to_bridge(ksr, request, live, site, str(address.call(request.call_id)), anchored, wants_direct(caller))
    elif isinstance(decision, ToRoom | ToLocalConference):
        key = decision.number if isinstance(decision, ToRoom) else decision.room
        to_bridge(ksr, request, live, site, key, vouched(caller), wants_direct(caller))
    elif isinstance(decision, ToMenu):
        to_bridge(ksr, request, live, site, str(address.menu(decision.number)), vouched(caller),
                  wants_direct(caller))
    elif isinstance(decision, ToExtension):
        ksr.setuser(decision.number)
        if ksr.registrar.lookup("location") < 0:
            ksr.sl.sl_send_reply(480, "Temporarily Unavailable")
            return
        assert_identity(ksr, caller, None, site.domain)
        callee = live.extension(decision.number) if caller.kind == CallerKind.BRIDGE else None
        direct = callee is not None and direct_media(ksr, request, anchoring.Leg.EXTENSION, callee.direct_media)
        anchor_and_relay(ksr, request, site, caller.kind in PHONES, bridge_runs(request, live),
                         relayed_leg(ksr, request, caller, decision.number), direct=direct)
    else:
        ksr.seturi(f"sip:{decision.number}@{decision.trunk.gateway}")
        assert_identity(ksr, caller, decision.trunk, site.domain)
        direct = caller.kind == CallerKind.BRIDGE and direct_media(ksr, request, anchoring.Leg.TRUNK,
                                                                   decision.trunk.direct_media)
        anchor_and_relay(ksr, request, site, caller.kind in PHONES, bridge_runs(request, live),
                         relayed_leg(ksr, request, caller, decision.number), direct=direct)


def call_back(ksr: Any, request: SipRequest, live: LiveState, trunk: TrunkSettings) -> None:
    """A trunk's call-back number: the caller is refused (busy) and called back by a bridge node, which
    puts it through to the local number the trunk maps the number to once it answers (on the trunk's
    callback_owner's rights, and at most callback_per_hour times an hour to one number: the node judges)."""
    number = request.from_user or ""
    if identity.is_number(number) and trunk.callback_owner is not None:
        taken = live.request_callback(number, trunk.inbound[request.user or ""], trunk.callback_owner,
                                      trunk.callback_per_hour)
        log.info("%s from %s to call-back number %s: %s", request.call_id, number, request.user,
                 "called back" if taken else "no node to call back")
    else:
        log.info("%s to call-back number %s: no number to call back (%r)", request.call_id, request.user, number)
    ksr.sl.sl_send_reply(486, "Busy Here")


def relayed_leg(ksr: Any, request: SipRequest, caller: Caller, callee: str) -> billing.Leg | None:
    """The record of a call Kamailio relays itself; None for a bridge node's (the node records its own)."""
    if caller.kind == CallerKind.BRIDGE:
        return None
    number = caller.extension.number if caller.extension is not None else None
    return billing.relayed(request.call_id, number or request.from_user or str(ksr.pv.get("$fu") or ""), callee,
                           number)


def assert_identity(ksr: Any, caller: Caller, to_trunk: TrunkSettings | None, domain: str) -> None:
    """Whom the callee is told calls comes from kamconf, never from what the caller wrote
    (conference.identity): the identity headers a caller may set are removed (but a trusted trunk's),
    and the number kamconf knows is asserted: an extension's, or the one a bridge node states."""
    own = caller.extension.number if caller.extension is not None else None
    if caller.kind == CallerKind.BRIDGE:
        own = identity.claimed(_text(ksr.pv.get("$hdr(P-Asserted-Identity)")))
    trusted = caller.trunk is not None and caller.trunk.trusted
    decided = identity.outgoing(caller.kind, own, trusted, to_trunk)
    if not decided.keep_callers:
        for name in CALLER_IDENTITY:
            ksr.hdr.remove(name)
    if decided.asserted is not None:
        ksr.hdr.append(f"P-Asserted-Identity: <sip:{decided.asserted}@{domain}>\r\n")
    if decided.from_number is not None:
        # uac keeps the original in the Record-Route and restores it in replies and later requests.
        ksr.uac.uac_replace_from(decided.from_number, f"sip:{decided.from_number}@{domain}")


def consult_side(caller: Caller, decision: numberplan.Decision, live: LiveState) -> str | None:
    """Whose "#" consults and merges on this call, if anyone's: the calling or the called extension's."""
    if caller.kind == CallerKind.BRIDGE or not isinstance(decision, ToExtension | ToTrunk):
        return None
    if caller.extension is not None and caller.extension.consult_merge:
        return "caller"
    if isinstance(decision, ToExtension):
        callee = live.extension(decision.number)
        if callee is not None and callee.consult_merge:
            return "callee"
    return None


def to_conference(ksr: Any, request: SipRequest, live: LiveState, site: Site, caller: Caller, key: str) -> None:
    """A scheduled conference is entered through the dial-in service only: this is the leg by which
    the node a dial-in caller reached carries it to the conference's node (bridge.meetings), with a
    relay ticket saying who it is and as what it enters (conference.vouch). Believed from a bridge
    node only, read before our headers are stripped; anyone else, or any other ticket, is refused."""
    ticket = _text(ksr.pv.get(f"$hdr({vouch.RELAY_HEADER})")) if caller.kind == CallerKind.BRIDGE else None
    relayed = vouch.verify_relay(site.secret, ticket, key, site.clock()) if ticket else None
    ksr.hdr.remove("Route")
    ksr.textops.remove_hf_re(OUR_HEADERS)
    if relayed is None:
        log.warning("%s from %s:%s to %s: no valid relay ticket of a bridge node", request.call_id,
                    request.source_ip, request.source_port, key)
        ksr.sl.sl_send_reply(403, "Forbidden")
        return
    to_bridge(ksr, request, live, site, key, relayed)


def wants_direct(caller: Caller) -> bool:
    """Whether the calling extension or trunk asks for its media to skip rtpengine."""
    settings = caller.extension or caller.trunk
    return settings is not None and settings.direct_media


def direct_media(ksr: Any, request: SipRequest, leg: anchoring.Leg, wanted: bool, offerer: str | None = None) -> bool:
    """Whether this call between a bridge node and an extension or trunk skips rtpengine
    (conference.anchoring), judged on its offer once its destination is set; `offerer` is the source
    of a call into the bridge (None: the node's own call). A refused wish is logged with why."""
    if not wanted:
        return False  # the common case: no body read
    choice = anchoring.choose(leg, True, media.offered(ksr), offerer, media.secure_transport(ksr))
    if not choice.direct:
        log.info("%s: media anchored although direct_media is set: %s", request.call_id, choice.reason)
    return choice.direct


def to_bridge(ksr: Any, request: SipRequest, live: LiveState, site: Site, key: str, caller: vouch.Vouched,
              wanted_direct: bool = False) -> None:
    # Guests of scheduled conferences come in anonymous through the dial-in service (and from it, relayed
    # by a bridge node): not counted there.
    relayed = bool(caller.role)
    stranger = caller.kind == CallerKind.ANONYMOUS and not relayed and key != str(address.DIAL_IN)
    if stranger and edge.profile_full(ksr, edge.STRANGERS_PROFILE, key, site.limits.anonymous_per_room):
        log.warning("%s from %s: room %s has %d anonymous callers already", request.call_id, request.source_ip,
                    key, site.limits.anonymous_per_room)
        ksr.sl.sl_send_reply(486, "Too Many Anonymous Callers")
        return
    node = place(live.affinity(key), live.live_nodes(),
                 lambda node_id, previous: live.claim_affinity(key, node_id, previous))
    if node is None:
        log.error("no live bridge node for room %s", key)
        service_unavailable(ksr)
        return
    # The caller's address too: wrong PINs of anonymous callers count against it, not the From they wrote
    # (a relayed caller keeps the address it called the dial-in service from).
    caller = caller if relayed else dataclasses.replace(caller, source=request.source_ip)
    signed = vouch.sign(site.secret, request.call_id, key, caller, site.clock())
    ksr.hdr.append(f"{vouch.HEADER}: {signed}\r\n")
    # The bridge knows the room by the user part (a trunk's number or a forwarding led here). The
    # whole URI is ours: whatever else the caller wrote in it (parameters, escaped headers as in
    # RFC 4475's escruri) is not carried to the bridge.
    ksr.seturi(f"sip:{key}@{node.address}:{node.port}")
    ksr.setdsturi(node.sip_uri)
    phone = caller.kind in ("extension", "anonymous") and not relayed  # a relay leg's media is a bridge node's
    leg = anchoring.Leg.OTHER if relayed else LEGS.get(caller.kind, anchoring.Leg.OTHER)
    direct = direct_media(ksr, request, leg, wanted_direct, request.source_ip)
    anchor_and_relay(ksr, request, site, phone, bridge_runs(request, live, node),
                     stranger_in=key if stranger else None, direct=direct, judged=leg)


def vouched(caller: Caller) -> vouch.Vouched:
    """What the bridge is told of who calls: an extension, a trunk, a bridge node, or anonymous."""
    if caller.extension is not None:
        return vouch.Vouched("extension", caller.extension.number)
    if caller.trunk is not None:
        return vouch.Vouched("trunk", caller.trunk.name)
    return vouch.Vouched(str(caller.kind))


def anchor_and_relay(ksr: Any, request: SipRequest, site: Site, phone: bool, runs: tuple[str, ...],
                     leg: billing.Leg | None = None, stranger_in: str | None = None, direct: bool = False,
                     judged: anchoring.Leg | None = None) -> None:
    """Track the dialog (tied to the bridge `runs` it passes; with the record `leg` to be made when it
    ends; counted among the anonymous callers of room `stranger_in`), record the route, anchor the
    media (a phone's where its SIP came from) unless the dialog's media is `direct` (then the caller,
    of kind `judged`, has its later offers judged too), and relay."""
    if not request.from_tag:
        # RFC 3261 8.1.1.3 ("MUST"); a call without one can be neither tracked nor anchored.
        ksr.sl.sl_send_reply(400, "Missing From Tag")
        return
    dialogs.track(ksr, request, site.secret, site.keepalive, runs)
    if stranger_in is not None:
        ksr.dialog.set_dlg_profile(edge.STRANGERS_PROFILE, stranger_in)
    if leg is not None:
        accounting.opened(ksr, leg, site.clock())
    if direct:
        media.go_direct(ksr, judged)
    ksr.rr.record_route()
    if media.has_sdp(ksr) and not media.offer(ksr, from_sip_source=phone):
        log.error("rtpengine offer failed for %s", request.call_id)
        service_unavailable(ksr)
        return
    relay(ksr, request)


def relay(ksr: Any, request: SipRequest) -> None:
    initial_invite = request.method == "INVITE" and not request.in_dialog
    if request.method == "INVITE":
        ksr.tm.t_on_reply(MEDIA_REPLY_ROUTE)
    if initial_invite:
        # Only a failed initial INVITE ends the media session; a failed re-INVITE keeps it.
        ksr.tm.t_on_failure(MEDIA_FAILURE_ROUTE)
        metrics.relaying(ksr)
    if ksr.tm.t_relay() < 0:
        if initial_invite:
            media.delete(ksr)
        ksr.sl.sl_reply_error()


class NodeRegistry(Protocol):
    def node_registry(self) -> tuple[list[NodeStatus], set[str]]:
        """The live nodes and the ids of all registered (store.live.node_registry)."""


def sweep_bridges(ksr: Any, registry: NodeRegistry) -> None:
    """Every second (rtimer): end the calls of bridge runs that are gone. Not while Redis is down,
    when no node can be seen alive."""
    try:
        nodes, registered = registry.node_registry()
    except LiveStateError:
        return
    for run, state, calls in dialogs.sweep(ksr, nodes, registered):
        log.warning("bridge %s is %s: its calls end with a BYE to both sides (%d)", run, state, calls)


def service_unavailable(ksr: Any) -> None:
    ksr.hdr.append("Retry-After: 5\r\n")
    ksr.sl.sl_send_reply(503, "Service Unavailable")


def reply_with_media(ksr: Any, clock: Callable[[], float] = time.time) -> None:
    """Provisional or final answer with SDP from the callee: complete the media anchor."""
    status = int(ksr.pv.get("$rs") or 0)
    metrics.first_reply(ksr)
    if 200 <= status < 300:
        dialogs.note_answer(ksr)
        accounting.answered(ksr, clock())
    if 100 < status < 300 and media.has_sdp(ksr):
        media.answer(ksr)


def media_failure(ksr: Any, spool: accounting.Spool | None = None, clock: Callable[[], float] = time.time) -> None:
    """The INVITE ended without 2xx (CANCEL, busy, timeout): release the media anchor; a relayed
    call's record is made."""
    media.delete(ksr)
    if spool is not None:
        accounting.failed(ksr, spool, clock())


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
