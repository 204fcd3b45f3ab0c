"""Signed webhooks, the pure part: which room events an endpoint may ask for, the body sent for one,
its signature, the pauses between tries, and which URLs and addresses an operator may aim at.

An operator registers a URL with the event kinds it wants; the worker (workers.webhooks) reads the
room event stream, records one delivery per matching endpoint and POSTs it, signed with the
endpoint's own secret:

    X-Kamconf-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" under the secret>

A receiver recomputes the HMAC over the timestamp, a dot and the raw body, compares in constant
time, and refuses a timestamp outside its window (REPLAY_WINDOW), so a captured delivery cannot be
played again later. Standard library only.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from conference.fields import Rule, boolean, list_of, one_of, text

# Room events an endpoint may subscribe to: the `type` of store.live.room_event's entries.
EVENT_KINDS = (
    "started",  # a room opened on a bridge node (its first caller arrived)
    "ended",  # the room emptied and closed
    "joined", "left",  # a participant entered the conference (past greeting and PIN) or left it
    "muted", "unmuted",
    "talking", "not_talking",
    "hand_raised",  # a participant asks to speak (a key)
    "recording_started", "recording_stopped",
    "recording_ready",  # the recording is filed and can be downloaded (GET /api/v1/recordings/<id>)
    "call_failed",  # a call a room placed was not answered: number, SIP status, try
    "conference_started", "conference_ended",  # a scheduled conference (by its code)
)
# Stream fields that carry numbers (the stream keeps every value as text).
INTEGER_FIELDS = frozenset({"present", "status", "attempt", "minutes"})

SIGNATURE_HEADER = "X-Kamconf-Signature"
REPLAY_WINDOW = 300  # seconds a receiver should accept a signature's timestamp away from its clock
SECRET_PREFIX = "whsec_"
MAX_URL = 500

RULES: dict[str, Rule] = {
    "url": text(MAX_URL, 8).means("Where deliveries are POSTed: http or https, no user or password in it. "
                                  "Private, loopback and link-local addresses are refused unless "
                                  "[webhooks] allow_private is set."),
    "events": list_of(one_of(*EVENT_KINDS), len(EVENT_KINDS), 1).means("The room event kinds it receives"),
    "description": text(200).means("What it is for"),
    "enabled": boolean().means("Off: no new deliveries are made for it (those made go on)"),
}


class UrlRefusedError(ValueError):
    """A webhook URL (or the address it leads to) that kamconf will not POST to; str() says why."""


@dataclass(frozen=True)
class Target:
    """A URL taken apart: where to connect and what to ask for."""

    scheme: str  # "http" or "https"
    host: str  # a name or an address, without brackets
    port: int
    path: str  # with its query, never empty

    @property
    def host_header(self) -> str:
        shown = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return shown if self.port == default else f"{shown}:{self.port}"


def target(url: str, allow_private: bool) -> Target:
    """The URL's parts, or UrlRefusedError: not http(s), credentials in it, no host, a bad port, or (unless
    private targets are allowed) a literal address or name that is loopback, link-local or private."""
    if len(url) > MAX_URL or any(ord(char) < 33 or ord(char) == 127 for char in url):
        raise UrlRefusedError("the URL must be at most 500 characters, without spaces or control characters")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise UrlRefusedError("only http and https URLs are allowed")
    if parts.username is not None or parts.password is not None:
        raise UrlRefusedError("the URL may not carry a user name or password (the signature authenticates kamconf)")
    try:
        given = parts.port
    except ValueError as exc:
        raise UrlRefusedError("the URL's port must be 1-65535") from exc
    port = (443 if parts.scheme == "https" else 80) if given is None else given
    host = (parts.hostname or "").rstrip(".")
    if not host or port == 0:
        raise UrlRefusedError("the URL needs a host (and a port 1-65535)")
    if not allow_private:
        literal = _address(host)
        if (literal is not None and not public_address(literal)) or host == "localhost" \
                or host.endswith(".localhost"):
            raise UrlRefusedError(f"{host} is a loopback, link-local or private address; set [webhooks] "
                             "allow_private to send there")
    path = parts.path or "/"
    return Target(parts.scheme, host, port, f"{path}?{parts.query}" if parts.query else path)


def _address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def public_address(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Whether a delivery may go to this address without allow_private: a globally routable unicast
    one (no loopback, private, link-local, shared, multicast, reserved or unspecified address, and
    none of these behind an IPv4-mapped IPv6 one)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


def address_allowed(address: str, allow_private: bool) -> bool:
    """Whether a delivery may connect to `address`, one of the addresses the URL's name resolved to."""
    parsed = _address(address.split("%", 1)[0])
    return parsed is not None and (allow_private or public_address(parsed))


# The body and its signature --------------------------------------------------------------


@dataclass(frozen=True)
class Event:
    """One entry of the room event stream, as a webhook tells it."""

    id: str  # the stream entry's id: unique, and ordered in time
    kind: str
    room: str
    fields: Mapping[str, str | int]

    @classmethod
    def from_stream(cls, entry_id: str, entry: Mapping[str, str]) -> Event:
        fields: dict[str, str | int] = {}
        for name, value in entry.items():
            if name in ("type", "room"):
                continue
            number = value.isascii() and value.lstrip("-").isdigit() and len(value) <= 18
            fields[name] = int(value) if name in INTEGER_FIELDS and number else value
        return cls(entry_id, entry.get("type", ""), entry.get("room", ""), fields)

    @property
    def time(self) -> float:
        """Unix time of the event: a stream id begins with its milliseconds."""
        head = self.id.split("-", 1)[0]
        return int(head) / 1000 if head.isdigit() else 0.0

    def body(self) -> bytes:
        """What is POSTed: compact JSON with its keys sorted, the same bytes every time it is sent."""
        document = {"id": self.id, "type": self.kind, "room": self.room, "time": self.time,
                    "data": dict(self.fields)}
        return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The X-Kamconf-Signature header's value for `body` sent at `timestamp`."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify(header: str, secret: str, body: bytes, now: float, window: int = REPLAY_WINDOW) -> bool:
    """What a receiver does (and the tests): a well-formed header, a timestamp within `window`
    seconds of `now`, and a v1 HMAC equal to ours (compared in constant time)."""
    parts = dict(part.partition("=")[::2] for part in header.split(",") if "=" in part)
    stamp = parts.get("t", "")
    if not (stamp.isascii() and stamp.isdigit() and len(stamp) <= 12) or abs(now - int(stamp)) > window:
        return False
    expected = signature(secret, int(stamp), body).rpartition("v1=")[2]
    return hmac.compare_digest(expected.encode(), parts.get("v1", "").encode())


# Trying again ----------------------------------------------------------------------------


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int  # tries in all, the first included
    first: float  # seconds before the second try; each pause doubles ...
    longest: float  # ... up to this

    def pause(self, tried: int) -> float | None:
        """Seconds to wait after the `tried`-th failed try (1 = the first); None: give up."""
        if tried >= self.attempts:
            return None
        return float(min(self.longest, self.first * 2 ** (tried - 1)))

    def schedule(self) -> list[float]:
        """Every pause in order, for the documentation and the tests."""
        return [pause for tried in range(1, self.attempts) if (pause := self.pause(tried)) is not None]


def succeeded(status: int) -> bool:
    """A 2xx answer is delivered; anything else (a redirect too: none is followed) is tried again."""
    return 200 <= status < 300
