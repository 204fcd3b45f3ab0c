"""An incoming INVITE as the bridge reads it: its headers only, bounded, and what Kamailio vouches for.

Nothing here looks at the body (a body can carry any text, including lines that look like
headers), and parsing costs time linear in the message: no regular expressions, only
splits and partitions, with limits on every part kept. Identity and a "#" call's anchor
are believed only from one header Kamailio signed (conference.vouch), on a request that
came from a Kamailio address; anything else is refused or anonymous.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from conference import vouch

MAX_HEAD = 16 * 1024  # bytes of headers a request may have; Kamailio's own limit is lower
MAX_CALLER = 256
MAX_NAME = 64
FORBIDDEN = 403
# RFC 3261 7.3.3 compact forms of the headers the bridge reads.
_COMPACT = {"f": "from", "i": "call-id", "t": "to", "v": "via", "m": "contact", "l": "content-length",
            "c": "content-type"}


@dataclass(frozen=True)
class Head:
    request_line: str
    headers: dict[str, list[str]] = field(default_factory=dict)  # lower-case full name -> values, in order

    def one(self, name: str) -> str | None:
        """The value of a header that must occur once; None if absent or repeated."""
        values = self.headers.get(name, [])
        return values[0] if len(values) == 1 else None


@dataclass(frozen=True)
class Gate:
    """Who may reach a room: Kamailio's addresses (ip:port), and the secret its vouching is signed with."""

    trusted: frozenset[str]
    secret: bytes


@dataclass(frozen=True)
class Invite:
    room: str | None  # the request URI's user part
    caller: str  # the From URI, as the caller wrote it
    name: str  # the From display name, as the caller wrote it
    vouched: vouch.Vouched = vouch.ANONYMOUS
    refused: int = 0  # a SIP status to refuse it with; 0: let it in


def read_head(message: str) -> Head | None:
    """The request line and headers, unfolded; None if the header part is overlong or empty."""
    end = _head_end(message)
    head = message[:end]
    if end > MAX_HEAD or not head.strip():
        return None
    lines = head.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    headers: dict[str, list[str]] = {}
    unfolded: list[str] = []
    for line in lines[1:]:
        if line[:1] in (" ", "\t") and unfolded:
            unfolded[-1] += " " + line.strip()  # RFC 3261 7.3.1: a folded line continues the header
        elif line:
            unfolded.append(line)
    for line in unfolded:
        name, colon, value = line.partition(":")
        if not colon:
            continue
        key = name.strip().lower()
        headers.setdefault(_COMPACT.get(key, key), []).append(value.strip())
    return Head(lines[0].strip(), headers)


def _head_end(message: str) -> int:
    """Where the headers end: the first empty line, whatever the line endings."""
    ends = [at for at in (message.find("\r\n\r\n"), message.find("\n\n"), message.find("\r\r")) if at >= 0]
    return min(ends) if ends else len(message)


def room_of(request_line: str) -> str | None:
    """The user part of an INVITE's request URI (Kamailio puts the room there)."""
    parts = request_line.split(" ")
    if len(parts) != 3 or parts[0].upper() != "INVITE":
        return None
    scheme, colon, rest = parts[1].partition(":")
    user, at, _ = rest.partition("@")
    if not colon or scheme.lower() not in ("sip", "sips") or not at or not user:
        return None
    return None if any(c in user for c in ";>") else user


def from_parts(value: str) -> tuple[str, str]:
    """(URI, display name) of a From header value, without parameters or tag."""
    if "<" in value:
        display, _, rest = value.partition("<")
        uri = rest.partition(">")[0]
        display = display.strip()
        if len(display) >= 2 and display[0] == display[-1] == '"':
            display = display[1:-1].replace('\\"', '"').replace("\\\\", "\\")
        return uri.strip()[:MAX_CALLER], display.strip()[:MAX_NAME]
    return value.partition(";")[0].strip()[:MAX_CALLER], ""


def read_invite(message: str, source: str, gate: Gate, now: float) -> Invite:
    """What the bridge may believe of an INVITE that came from `source` (ip:port)."""
    head = read_head(message)
    if head is None:
        return Invite(None, "", "", refused=FORBIDDEN)
    caller, name = from_parts(head.one("from") or "")
    room = room_of(head.request_line)
    if source not in gate.trusted:
        return Invite(room, caller, name, refused=FORBIDDEN)  # only Kamailio may reach a room
    identity, call_id = head.one(vouch.HEADER.lower()), head.one("call-id")
    vouched = vouch.verify(gate.secret, identity, call_id, room, now) if identity and call_id and room else None
    if vouched is None:
        return Invite(room, caller, name, refused=FORBIDDEN)
    return Invite(room, caller, name, vouched)
