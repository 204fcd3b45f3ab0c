"""The walls at the SIP edge: bans, floods, scanners, oversized requests, toll-fraud Contacts.

The decisions are small pure functions over strings (tested without Kamailio); `admit` and
`note_auth_failure` act on them through KSR. State lives in Kamailio's htables (shared by all
workers), never in Python: `ipban` (dropped sources), `authfail` (failed digests per source),
`trusted` (whether a source is a bridge node or trunk, remembered briefly).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from kemi import metrics

log = logging.getLogger("kamconf.kemi")

BAN_TABLE = "ipban"
AUTH_FAILURE_TABLE = "authfail"
TRUST_TABLE = "trusted"
TRUSTED, UNTRUSTED = 1, 2  # values in TRUST_TABLE (a missing item reads as None)
DEFAULT_SIP_PORT = 5060
# Lower-case fragments of the User-Agent of SIP scanners and war-diallers (SIPVicious and kin).
SCANNERS = ("friendly-scanner", "friendly", "sipvicious", "sipcli", "vaxsipuseragent", "sip-scan",
            "sipscan", "sundayddr", "iwar", "pplsip", "smap", "sipptk", "sip hacker", "voipbuster")
MAX_CONTACT_CHARS = 4096  # Contact text we parse at most; a longer one is refused outright
MAX_CONTACTS = 20  # URIs in one REGISTER, likewise


@dataclass(frozen=True)
class Limits:
    """The [edge] settings KEMI applies itself (pike and the table lifetimes are module parameters)."""

    max_message_bytes: int = 16384
    max_uri_chars: int = 512
    auth_failures: int = 10
    auth_ban_seconds: int = 900
    calls_per_source: int = 30
    anonymous_per_room: int = 100


# Dialog profiles (kamailio.cfg): the calls up from each source address, and the anonymous callers
# in each room.
SOURCE_PROFILE = "source"
STRANGERS_PROFILE = "strangers"
CALLS = "$var(calls)"


def profile_full(ksr: Any, profile: str, value: str, limit: int) -> bool:
    """Whether `limit` calls of the profile have this value already (0: no limit)."""
    if limit <= 0:
        return False
    ksr.dialog.get_profile_size(profile, value, CALLS)
    return int(ksr.pv.get(CALLS) or 0) >= limit


def is_scanner(user_agent: str | None) -> bool:
    """Substring checks on the lower-cased header: linear, whatever an attacker writes."""
    if not user_agent:
        return False
    agent = user_agent.lower()
    return any(name in agent for name in SCANNERS)


def size_refusal(message_bytes: int, uri_chars: int, limits: Limits) -> tuple[int, str] | None:
    if message_bytes > limits.max_message_bytes:
        return 513, "Message Too Large"
    if uri_chars > limits.max_uri_chars:
        return 414, "Request-URI Too Long"
    return None


def accepts_sdp(accept: str | None) -> bool:
    """Whether a request's Accept values (all of them, comma-joined; None if it has none) allow an SDP
    answer. An INVITE offering SDP to a caller that accepts none cannot be answered (RFC 4475 sdp01)."""
    if accept is None or not accept.strip():
        return True
    for value in accept.lower().split(","):
        kind, _, params = value.partition(";")
        if kind.strip() in ("application/sdp", "application/*", "*/*") and not _refused(params):
            return True
    return False


def _refused(params: str) -> bool:
    """q=0 says "not acceptable" (RFC 3261 20.1)."""
    for param in params.split(";"):
        name, _, value = param.partition("=")
        if name.strip() == "q":
            try:
                return float(value.strip()) == 0
            except ValueError:
                return False
    return False


def contact_hosts(contacts: str) -> list[tuple[str, int]] | None:
    """(host, port) of every sip:/sips: URI in Contact header values; None if there is too much
    to trust (longer than MAX_CONTACT_CHARS, or more than MAX_CONTACTS URIs)."""
    if len(contacts) > MAX_CONTACT_CHARS:
        return None
    found: list[tuple[str, int]] = []
    text, start = contacts.lower(), 0
    while (at := text.find("sip", start)) >= 0:
        start = at + 3
        secure = text.startswith("sips:", at)
        if not (secure or text.startswith("sip:", at)) or (at > 0 and text[at - 1].isalnum()):
            continue  # "sip" inside a word, e.g. a display name
        if len(found) == MAX_CONTACTS:
            return None
        # userinfo@host:port, cut at the first URI delimiter; a host name is at most 255 characters
        uri = text[at + (5 if secure else 4):at + 600]
        end = min((i for i in (uri.find(c) for c in ";>?,\" \t\r\n") if i >= 0), default=len(uri))
        found.append(_split_hostport(uri[:end].rpartition("@")[2], 5061 if secure else DEFAULT_SIP_PORT))
    return found


def _split_hostport(hostport: str, default_port: int) -> tuple[str, int]:
    if hostport.startswith("["):  # IPv6 reference
        host, _, tail = hostport[1:].partition("]")
        port = tail[1:] if tail.startswith(":") else ""
    else:
        host, _, port = hostport.partition(":")
    return host, int(port) if port.isascii() and port.isdigit() else default_port


def forbidden_contact(contacts: Iterable[tuple[str, int]], forbidden: Iterable[str]) -> str | None:
    """The first Contact at a forbidden address ("host" forbids any port, "host:port" that one)."""
    hosts: set[str] = set()
    exact: set[tuple[str, int]] = set()
    for address in forbidden:
        name, sep, number = address.lower().rpartition(":")
        if sep and number.isdigit():
            exact.add((name, int(number)))
        else:
            hosts.add(address.lower())
    for host, port in contacts:
        if host in hosts or (host, port) in exact:
            return f"{host}:{port}"
    return None


def admit(ksr: Any, source_ip: str, trusted: Callable[[], bool], limits: Limits) -> bool:
    """Whether to look at this request at all. Banned and flooding sources and scanners are dropped
    without an answer; oversized requests get 513/414. Only flooding asks whether the source is
    trusted, so the common case costs no Redis read."""
    if ksr.htable.sht_get(BAN_TABLE, source_ip) is not None:
        metrics.dropped(ksr, metrics.BANNED)
        return False
    if ksr.pike.pike_check_req() < 0 and not trusted():
        ksr.htable.sht_seti(BAN_TABLE, source_ip, 1)
        metrics.ban(ksr, metrics.FLOOD)
        log.warning("flood from %s: banned", source_ip)
        return False
    if is_scanner(_text(ksr.pv.get("$ua"))):
        metrics.dropped(ksr, metrics.SCANNER)
        return False
    refusal = size_refusal(int(ksr.pv.get("$ml") or 0), len(_text(ksr.pv.get("$ru")) or ""), limits)
    if refusal is not None:
        ksr.sl.sl_send_reply(*refusal)
        return False
    return True


def note_auth_failure(ksr: Any, source_ip: str, trusted: Callable[[], bool], limits: Limits) -> bool:
    """Count a failed digest from this source; True if that banned it."""
    failures = ksr.htable.sht_inc(AUTH_FAILURE_TABLE, source_ip)
    metrics.auth_failure(ksr)
    if failures is None or int(failures) < limits.auth_failures or trusted():
        return False
    ksr.htable.sht_setxi(BAN_TABLE, source_ip, 1, limits.auth_ban_seconds)
    ksr.htable.sht_rm(AUTH_FAILURE_TABLE, source_ip)
    metrics.ban(ksr, metrics.AUTH)
    log.warning("%s failed authentications from %s: banned for %d s", failures, source_ip,
                limits.auth_ban_seconds)
    return True


def cached_trust(ksr: Any, source_ip: str, decide: Callable[[], bool | None]) -> bool:
    """Whether a source is trusted, remembered in TRUST_TABLE; `decide` None means unknown now
    (Redis down): not trusted, and not remembered."""
    known = ksr.htable.sht_get(TRUST_TABLE, source_ip)
    if known is not None:
        return int(known) == TRUSTED
    verdict = decide()
    if verdict is None:
        return False
    ksr.htable.sht_seti(TRUST_TABLE, source_ip, TRUSTED if verdict else UNTRUSTED)
    return verdict


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
