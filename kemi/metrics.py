"""kamconf's own SIP counters in Kamailio's Prometheus endpoint (xhttp_prom), and that endpoint.

Kamailio's internal statistics (transactions and dialogs active, replies sent per status class,
...) come with it as `kamailio_<group>_<name>`; what they lack is counted here, from the routes:
requests and replies by method and status class, failed digests, bans and drops by reason, and
how long the next hop takes to answer a relayed INVITE. The metrics are declared in
kamailio/kamailio.cfg (prom_counter, prom_histogram); labels come from the fixed sets below,
never from what a caller wrote.
"""

from __future__ import annotations

import time
from typing import Any

# As declared in kamailio.cfg; xhttp_prom prefixes them (and its internal statistics) with "kamailio_".
REQUESTS = "sip_requests_total"
REPLIES = "sip_replies_total"
AUTH_FAILURES = "sip_auth_failures_total"
BANS = "sip_bans_total"
DROPPED = "sip_dropped_total"
RELAY = "sip_relay_seconds"
PATH = "/metrics"
METHODS = frozenset({"INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "INFO", "REGISTER", "UPDATE", "PRACK",
                     "REFER", "NOTIFY", "SUBSCRIBE", "MESSAGE", "PUBLISH"})
RELAY_START = "$avp(kamconf_relayed_at)"  # when an INVITE was relayed, with its transaction

# Reasons (label values) of bans and drops.
FLOOD, AUTH = "flood", "auth"
BANNED, SCANNER = "banned", "scanner"
# Series shown from 0 before anything happened (xhttp_prom makes one at its first use): a quiet
# system's panels read 0 rather than nothing, and a first event shows as a rate.
CLASSES = ("1xx", "2xx", "3xx", "4xx", "5xx", "6xx")
REPLIED = ("INVITE", "BYE", "CANCEL", "OPTIONS", "REGISTER", "INFO")


def method_label(method: Any) -> str:
    name = str(method or "")
    return name if name in METHODS else "OTHER"


def status_class(status: Any) -> str | None:
    """"2xx" and the like; None for what is no SIP status (xhttp's HTTP answers pass sl's callback too)."""
    code = int(status or 0)
    return f"{code // 100}xx" if 100 <= code < 700 else None


def request(ksr: Any) -> None:
    ksr.xhttp_prom.counter_inc_l1(REQUESTS, 1, method_label(ksr.pv.get("$rm")))


def reply(ksr: Any) -> None:
    """A reply Kamailio received from the next hop."""
    _count_reply(ksr, ksr.pv.get("$rs"))


def local_reply(ksr: Any) -> None:
    """A reply Kamailio sent itself (sl's local-response event: the message is the request, the
    reply only the buffer sent). xhttp's HTTP answers pass here too, and are not counted."""
    _count_reply(ksr, sent_status(str(ksr.pv.get("$snd(buf)") or "")[:16]))


def sent_status(start: str) -> int | None:
    """The status code of a reply from its first characters ("SIP/2.0 200 OK...")."""
    code = start[8:11]
    return int(code) if start.startswith("SIP/2.0 ") and code.isascii() and code.isdigit() else None


def _count_reply(ksr: Any, status: Any) -> None:
    kind = status_class(status)
    if kind is not None:
        ksr.xhttp_prom.counter_inc_l2(REPLIES, 1, method_label(ksr.pv.get("$rm")), kind)


def auth_failure(ksr: Any) -> None:
    """A wrong digest answer (a missing, stale or replayed one is only challenged)."""
    ksr.xhttp_prom.counter_inc_l0(AUTH_FAILURES, 1)


def ban(ksr: Any, reason: str) -> None:
    ksr.xhttp_prom.counter_inc_l1(BANS, 1, reason)


def dropped(ksr: Any, reason: str) -> None:
    ksr.xhttp_prom.counter_inc_l1(DROPPED, 1, reason)


def relaying(ksr: Any) -> None:
    """An initial INVITE is being relayed: its first reply will say how long the next hop took."""
    ksr.pv.sets(RELAY_START, repr(time.time()))  # a string: Kamailio's integers are 32-bit


def first_reply(ksr: Any) -> None:
    started = ksr.pv.get(RELAY_START)
    if started is None:
        return
    ksr.pv.unset(RELAY_START)
    # Wall clock: the reply may reach another Kamailio process than the one that relayed.
    ksr.xhttp_prom.histogram_observe_l1(RELAY, f"{max(0.0, time.time() - float(started)):.6f}", "INVITE")


def http(ksr: Any, metrics_port: int) -> None:
    """xhttp's event: /metrics on the metrics port; anything else, or any HTTP on a SIP port, 404/403."""
    if int(ksr.pv.get("$Rp") or 0) != metrics_port:
        ksr.xhttp.xhttp_reply(403, "Forbidden", "text/plain", "metrics only on the metrics port\n")
        return
    if str(ksr.pv.get("$hu") or "").partition("?")[0] != PATH:
        ksr.xhttp.xhttp_reply(404, "Not Found", "text/plain", "see /metrics\n")
        return
    known_from_zero(ksr)
    ksr.xhttp_prom.dispatch()


def known_from_zero(ksr: Any) -> None:
    """Adding 0 makes a series without touching one that exists (cheap: once per scrape, and
    stateless, as KEMI must be: each Kamailio process is its own interpreter)."""
    for method in sorted(METHODS):
        ksr.xhttp_prom.counter_inc_l1(REQUESTS, 0, method)
    for method in REPLIED:
        for kind in CLASSES:
            ksr.xhttp_prom.counter_inc_l2(REPLIES, 0, method, kind)
    ksr.xhttp_prom.counter_inc_l0(AUTH_FAILURES, 0)
    for reason in (FLOOD, AUTH):
        ksr.xhttp_prom.counter_inc_l1(BANS, 0, reason)
    for reason in (BANNED, SCANNER):
        ksr.xhttp_prom.counter_inc_l1(DROPPED, 0, reason)


def on_metrics_port(ksr: Any, metrics_port: int) -> bool:
    """SIP reaching the metrics port (it is a TCP listener of Kamailio's like any other) is dropped."""
    return int(ksr.pv.get("$Rp") or 0) == metrics_port
