"""What Kamailio vouches for about a call it relays to a bridge node, in a form only it can produce.

Kamailio authenticates callers (digest, trunk source address) and decides a "#" call's
anchor; the bridge must learn both without trusting anything a caller wrote. Kamailio
adds one header whose value is an HMAC-SHA256, under a secret only Kamailio and the
bridge nodes hold, over the call's Call-ID, the room it is relayed to, who the caller
proved to be, the anchor and the time. A caller who copies a header into its INVITE
(or into the body) cannot make one that verifies for another call, room or identity.
A dial-in caller whose scheduled conference runs on another bridge node is carried there by a
relay leg (bridge.meetings): the node the caller reached calls the conference through
Kamailio, adding a relay ticket (RELAY_HEADER) that it signs with the same secret, saying who
the caller proved to be, the role the dial-in service gave it and its From URI. Kamailio
believes a ticket only from a bridge node's address and only for a scheduled conference,
and vouches for it onwards in its own header; a caller's copy is stripped like every header
of ours. Pure: the secret and the clock are passed in.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from urllib.parse import quote, unquote

HEADER = "X-Kamconf-Identity"
PREFIX = "x-kamconf-"  # every header of ours: Kamailio strips them all from what callers send
VERSION = "v1"
MAX_AGE = 64.0  # seconds: an INVITE's retransmissions (timer B) all fall inside it
MIN_SECRET_BYTES = 16
RELAY_HEADER = "X-Kamconf-Relay"
# What a relay ticket is signed over in place of a Call-ID: the bridge signs it before PJSIP has
# made the leg's Call-ID. Tickets are believed only for scheduled conferences, which no call
# Kamailio vouches for itself is ever relayed to, so one cannot pass for the other.
RELAY_CONTEXT = "relay ticket"
ROLES = frozenset({"admin", "user"})
MAX_CALLER = 256  # characters of a relayed caller's From URI (bridge.inbound.MAX_CALLER)
_MAX_FIELD = 128
_DIGITS = frozenset("0123456789")
_ADDRESS = frozenset("0123456789abcdefABCDEF.:[]-")  # IPv4, IPv6, or "-"
_NAME = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")


@dataclass(frozen=True)
class Vouched:
    """Who the caller proved to be: "extension", "trunk", "bridge" or "anonymous", with its name."""

    kind: str = "anonymous"
    name: str = ""  # the extension's number or the trunk's name
    anchor: str = ""  # a "#" call: the number the bridge is to call
    controller_is_caller: bool = False  # a "#" call: the caller's "#" consults (else the callee's)
    source: str = ""  # the address the call came to Kamailio from
    role: str = ""  # a relayed dial-in caller: the role the dial-in service gave it (ROLES)
    caller: str = ""  # a relayed dial-in caller: its From URI, as it wrote it to the dial-in service

    def lockout_key(self, caller: str) -> str:
        """Whom wrong PINs and codes are counted against. An extension is itself; a trunk carries
        many callers from one address, so there the number it asserts; anyone else is the address
        it calls from, since the From URI is whatever the caller writes."""
        if self.kind == "extension":
            return f"extension:{self.name}"
        if self.kind != "trunk" and self.source:
            return f"address:{self.source}"
        return f"caller:{caller}"

    @property
    def extension(self) -> str | None:
        return self.name if self.kind == "extension" else None

    @property
    def anchored(self) -> tuple[str, bool] | None:
        return (self.anchor, self.controller_is_caller) if self.anchor else None


ANONYMOUS = Vouched()
_KINDS = frozenset({"extension", "trunk", "bridge", "anonymous"})


def sign(secret: bytes, call_id: str, room: str, vouched: Vouched, now: float) -> str:
    """The header value Kamailio adds to a call it relays to a bridge node."""
    fields = _fields(vouched, int(now))
    return f"{fields};sig={_mac(secret, call_id, room, fields)}"


def verify(secret: bytes, value: str, call_id: str, room: str, now: float) -> Vouched | None:
    """What the header vouches for, or None: forged, for another call or room, stale, or malformed."""
    fields, sep, signature = value.strip().rpartition(";sig=")
    if not sep or len(fields) > 4 * _MAX_FIELD + 3 * MAX_CALLER:
        return None
    if not hmac.compare_digest(signature.encode(), _mac(secret, call_id, room, fields).encode()):
        return None
    return _parse(fields, now)


def sign_relay(secret: bytes, room: str, vouched: Vouched, now: float) -> str:
    """The relay ticket a bridge node adds to its leg to scheduled conference `room`."""
    if vouched.role not in ROLES or not vouched.caller:
        raise ValueError("a relay ticket carries a role and a caller")
    return sign(secret, RELAY_CONTEXT, room, vouched, now)


def verify_relay(secret: bytes, value: str, room: str, now: float) -> Vouched | None:
    """What a relay ticket says of the caller it carries, or None (forged, stale, no role, another room)."""
    vouched = verify(secret, value, RELAY_CONTEXT, room, now)
    return vouched if vouched is not None and vouched.role else None


def _fields(vouched: Vouched, when: int) -> str:
    side = "caller" if vouched.controller_is_caller else "callee"
    anchor = f"{vouched.anchor}/{side}" if vouched.anchor else "-"
    fields = f"{VERSION};ts={when};who={vouched.kind}:{vouched.name or '-'};anchor={anchor};src={vouched.source or '-'}"
    if vouched.role:
        # Quoted: a From URI may hold ";" and "=", which separate the fields.
        fields += f";as={vouched.role}/{quote(vouched.caller[:MAX_CALLER], safe='')}"
    return fields


def _mac(secret: bytes, call_id: str, room: str, fields: str) -> str:
    # Newlines cannot occur in a Call-ID or room once parsed, so the parts cannot be shifted.
    message = "\n".join((call_id.strip(), room, fields)).encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def _parse(fields: str, now: float) -> Vouched | None:
    parts = fields.split(";")
    if len(parts) not in (5, 6) or parts[0] != VERSION:
        return None
    values = dict(part.partition("=")[::2] for part in parts[1:])
    when, who, anchor, source = (values.get(key, "") for key in ("ts", "who", "anchor", "src"))
    relayed = _relayed(values["as"]) if len(parts) == 6 and "as" in values else ("", "")
    if relayed is None or (len(parts) == 6 and not relayed[0]):
        return None
    role, caller = relayed
    if not when.isdigit() or abs(now - int(when)) > MAX_AGE:
        return None
    kind, _, name = who.partition(":")
    if kind not in _KINDS or not _valid_name(name) or not 0 < len(source) <= 45 or not set(source) <= _ADDRESS:
        return None
    name, source = ("" if name == "-" else name), ("" if source == "-" else source)
    if anchor == "-":
        return Vouched(kind, name, source=source, role=role, caller=caller)
    number, _, side = anchor.partition("/")
    if not _is_number(number) or side not in ("caller", "callee"):
        return None
    return Vouched(kind, name, number, side == "caller", source, role, caller)


def _relayed(value: str) -> tuple[str, str] | None:
    """(role, caller) of a relay's `as` field; None if malformed."""
    role, _, quoted = value.partition("/")
    caller = unquote(quoted) if len(quoted) <= 3 * MAX_CALLER else ""
    if role not in ROLES or not caller or len(caller) > MAX_CALLER or not caller.isprintable():
        return None
    return role, caller


def _valid_name(name: str) -> bool:
    return 0 < len(name) <= _MAX_FIELD and set(name) <= _NAME


def _is_number(number: str) -> bool:
    digits = number[1:] if number.startswith("+") else number
    return 0 < len(digits) <= 32 and set(digits) <= _DIGITS
