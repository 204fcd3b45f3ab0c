"""What Kamailio vouches for about a call it relays to a bridge node, in a form only it can produce.

Kamailio authenticates callers (digest, trunk source address) and decides a "#" call's
anchor; the bridge must learn both without trusting anything a caller wrote. Kamailio
adds one header whose value is an HMAC-SHA256, under a secret only Kamailio and the
bridge nodes hold, over the call's Call-ID, the room it is relayed to, who the caller
proved to be, the anchor and the time. A caller who copies a header into its INVITE
(or into the body) cannot make one that verifies for another call, room or identity.
Pure: the secret and the clock are passed in.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

HEADER = "X-Kamconf-Identity"
PREFIX = "x-kamconf-"  # every header of ours: Kamailio strips them all from what callers send
VERSION = "v1"
MAX_AGE = 64.0  # seconds: an INVITE's retransmissions (timer B) all fall inside it
MIN_SECRET_BYTES = 16
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
    if not sep or len(fields) > 4 * _MAX_FIELD:
        return None
    if not hmac.compare_digest(signature.encode(), _mac(secret, call_id, room, fields).encode()):
        return None
    return _parse(fields, now)


def _fields(vouched: Vouched, when: int) -> str:
    side = "caller" if vouched.controller_is_caller else "callee"
    anchor = f"{vouched.anchor}/{side}" if vouched.anchor else "-"
    return f"{VERSION};ts={when};who={vouched.kind}:{vouched.name or '-'};anchor={anchor};src={vouched.source or '-'}"


def _mac(secret: bytes, call_id: str, room: str, fields: str) -> str:
    # Newlines cannot occur in a Call-ID or room once parsed, so the parts cannot be shifted.
    message = "\n".join((call_id.strip(), room, fields)).encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def _parse(fields: str, now: float) -> Vouched | None:
    parts = fields.split(";")
    if len(parts) != 5 or parts[0] != VERSION:
        return None
    values = dict(part.partition("=")[::2] for part in parts[1:])
    when, who, anchor, source = (values.get(key, "") for key in ("ts", "who", "anchor", "src"))
    if not when.isdigit() or abs(now - int(when)) > MAX_AGE:
        return None
    kind, _, name = who.partition(":")
    if kind not in _KINDS or not _valid_name(name) or not 0 < len(source) <= 45 or not set(source) <= _ADDRESS:
        return None
    name, source = ("" if name == "-" else name), ("" if source == "-" else source)
    if anchor == "-":
        return Vouched(kind, name, source=source)
    number, _, side = anchor.partition("/")
    if not _is_number(number) or side not in ("caller", "callee"):
        return None
    return Vouched(kind, name, number, side == "caller", source)


def _valid_name(name: str) -> bool:
    return 0 < len(name) <= _MAX_FIELD and set(name) <= _NAME


def _is_number(number: str) -> bool:
    digits = number[1:] if number.startswith("+") else number
    return 0 < len(digits) <= 32 and set(digits) <= _DIGITS
