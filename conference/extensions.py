"""Extensions (employees' registered phones) and trunks (carrier gateways): their
settings and the validation of API payloads.

Pure (standard library only). An extension's password is never kept: only its
digest HA1 (what Kamailio checks a REGISTER or INVITE against) and nothing that
gives the password back.
"""

from __future__ import annotations

import dataclasses
import hashlib
import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from conference.fields import (
    FieldError,
    Rule,
    boolean,
    clean,
    digits,
    integer,
    list_of,
    matching,
    one_of,
    or_null,
    require,
    text,
)
from conference.rooms import (
    LANGUAGES,
    MAX_NAME_LENGTH,
    MAX_NUMBER_LENGTH,
    MAX_PIN_LENGTH,
    MIN_PIN_LENGTH,
    hash_pin,
)

MIN_PASSWORD = 8
MAX_PASSWORD = 64
MAX_LIST = 32  # sources, prefixes and inbound numbers per trunk
_LABEL = r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOST = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(\.{_LABEL})*$")


def ha1(user: str, realm: str, password: str) -> str:
    """The digest credential RFC 2617 defines: MD5(user:realm:password)."""
    return hashlib.md5(f"{user}:{realm}:{password}".encode()).hexdigest()  # digest authentication is MD5 by definition


@dataclass(frozen=True)
class ExtensionSettings:
    number: str
    ha1: str  # of number:realm:password
    display_name: str = ""
    language: str = "en"  # of the prompts in its local conference
    consult_merge: bool = False  # "#" consults another number, "#" again merges (seed 002)
    external_calls: bool = True  # may reach numbers behind trunks (itself, by # or by *8)
    forward_to: str | None = None  # every call to it goes there instead: extension, room or external
    conference_pin: str | None = None  # hash_pin() of the PIN others type to join its *8 conference
    conference_end_on_exit: bool = False
    conference_announce_caller_name: bool = False
    direct_media: bool = False  # its calls with a bridge node may skip rtpengine (conference.anchoring)

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ExtensionSettings:
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{key: value for key, value in data.items() if key in known})


def _password(value: Any) -> bool:
    return (isinstance(value, str) and MIN_PASSWORD <= len(value) <= MAX_PASSWORD
            and value.isascii() and value.isprintable())


_DIRECT_MEDIA = ("Its calls to and from conferences send media straight to the bridge node, without "
                 "rtpengine, when the offer needs no SRTP, ICE, NAT help or transcoding (else they stay "
                 "anchored). false (the default): always through rtpengine.")
_PHONE_NUMBER = matching(r"\+?[0-9]{1,32}", "a number: digits, optionally after +")
_PIN_RULES = ("Digits, sent in clear over the API, stored only as a salted hash and never returned "
              "(see has_conference_pin). null removes the PIN.")
EXTENSION_RULES: dict[str, Rule] = {
    "number": digits(MAX_NUMBER_LENGTH).means(
        "What others dial, and the digest user name. Unique among rooms and extensions; it cannot change."),
    "password": Rule(_password, f"{MIN_PASSWORD}-{MAX_PASSWORD} printable ASCII characters",
                     {"type": "string", "minLength": MIN_PASSWORD, "maxLength": MAX_PASSWORD,
                      "pattern": "^[ -~]*$", "writeOnly": True},
                     "The SIP digest password. Stored only as its HA1 for the configured realm; never returned."),
    "display_name": text(MAX_NAME_LENGTH).means("Spoken when it joins a local conference that announces names."),
    "language": one_of(*LANGUAGES).means("Language of the prompts of its local conference."),
    "consult_merge": boolean().means("# during a call consults another number; # again merges all (seed 002)."),
    "external_calls": boolean().means("May call numbers behind trunks, directly, by # or by *8."),
    "forward_to": or_null(_PHONE_NUMBER).means(
        "Every call to this extension goes to this extension, room or external number."),
    "conference_pin": or_null(digits(MAX_PIN_LENGTH, MIN_PIN_LENGTH)).means(
        "PIN others type to join its *8 local conference. " + _PIN_RULES),
    "conference_end_on_exit": boolean().means("Its local conference ends when it, the owner, leaves."),
    "conference_announce_caller_name": boolean().means(
        "Speak a joining caller's display name in its local conference."),
    "direct_media": boolean().means(_DIRECT_MEDIA + " For phones on the LAN: media must come from where "
                                    "its SIP comes from."),
}
EXTENSION_FIELDS = tuple(EXTENSION_RULES)


def validate_extension(payload: Any, realm: str) -> ExtensionSettings:
    fields = clean(payload, EXTENSION_RULES)
    require(fields, "number", "password")
    return ExtensionSettings(**_stored(fields, fields["number"], realm))


def patch_extension(current: ExtensionSettings, payload: Any, realm: str) -> ExtensionSettings:
    fields = clean(payload, EXTENSION_RULES)
    if "number" in fields and fields["number"] != current.number:
        raise FieldError("number", "immutable_field", "an extension's number cannot change; create a new one")
    return dataclasses.replace(current, **_stored(fields, current.number, realm))


def _stored(fields: dict[str, Any], number: str, realm: str) -> dict[str, Any]:
    if fields.get("forward_to") == number:
        raise FieldError("forward_to", "invalid_field", "an extension cannot forward to itself")
    if "password" in fields:
        fields["ha1"] = ha1(number, realm, fields.pop("password"))
    if fields.get("conference_pin") is not None:
        fields["conference_pin"] = hash_pin(fields["conference_pin"])
    return fields


def public_extension(extension: ExtensionSettings) -> dict[str, Any]:
    """An extension as the API shows it: neither HA1 nor PIN hash leaves the server."""
    data = extension.as_dict()
    del data["ha1"]
    data["has_conference_pin"] = data.pop("conference_pin") is not None
    return data


# Trunks ------------------------------------------------------------------------


class Presentation(StrEnum):
    """How a trunk is told the caller's number (conference.identity)."""

    PAI = "pai"  # in P-Asserted-Identity only (RFC 3325)
    PAI_AND_FROM = "pai_and_from"  # and as the From header's user: many carriers read only From


@dataclass(frozen=True)
class TrunkSettings:
    name: str
    gateway: str  # host or host:port where calls to its prefixes go
    sources: tuple[str, ...] = ()  # IPv4 addresses, or address:port, it sends calls from
    prefixes: tuple[str, ...] = ()  # numbers starting so are external and go to this trunk
    inbound: Mapping[str, str] = dataclasses.field(default_factory=dict)  # its number -> local number
    trusted: bool = False  # its calls keep their own identity headers when forwarded to a trunk
    caller_id: str | None = None  # shown on calls out through it instead of the number kamconf asserts
    present_as: Presentation = Presentation.PAI
    callback: tuple[str, ...] = ()  # inbound numbers whose callers are refused and called back
    callback_owner: str | None = None  # the extension whose rights and account the calls back use
    callback_per_hour: int = 3  # calls back to one number in an hour, at most
    direct_media: bool = False  # its calls with a bridge node may skip rtpengine (conference.anchoring)

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "gateway": self.gateway, "sources": list(self.sources),
                "prefixes": list(self.prefixes), "inbound": dict(self.inbound), "trusted": self.trusted,
                "caller_id": self.caller_id, "present_as": str(self.present_as), "callback": list(self.callback),
                "callback_owner": self.callback_owner, "callback_per_hour": self.callback_per_hour,
                "direct_media": self.direct_media}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TrunkSettings:
        return cls(str(data["name"]), str(data["gateway"]), tuple(data.get("sources", ())),
                   tuple(data.get("prefixes", ())), dict(data.get("inbound", {})), bool(data.get("trusted", False)),
                   data.get("caller_id"), Presentation(data.get("present_as", Presentation.PAI)),
                   tuple(data.get("callback", ())), data.get("callback_owner"),
                   int(data.get("callback_per_hour", 3)), bool(data.get("direct_media", False)))


def _address(value: Any) -> bool:
    """host[:port] with a port 1-65535; the host an IPv4 address or a DNS name."""
    if not isinstance(value, str):
        return False
    host, sep, port = value.rpartition(":")
    if not sep:
        host, port = value, ""
    if port and not (port.isascii() and port.isdigit() and 1 <= int(port) <= 65535):
        return False
    return bool(_HOST.fullmatch(host))  # fullmatch: "$" alone lets a trailing newline through


def _source(value: Any) -> bool:
    if not _address(value):
        return False
    host = value.rsplit(":", 1)[0] if ":" in value else value
    try:
        ipaddress.IPv4Address(host)
    except ValueError:
        return False
    return True


def _inbound(value: Any) -> bool:
    return (isinstance(value, dict) and len(value) <= MAX_LIST
            and all(_PHONE_NUMBER.accepts(k) and _LOCAL.accepts(v) for k, v in value.items()))


_LOCAL = digits(MAX_NUMBER_LENGTH)
_HOST_PORT = {"type": "string", "maxLength": 259}
TRUNK_RULES: dict[str, Rule] = {
    "name": matching("[a-z0-9][a-z0-9_-]{0,31}", "1-32 lowercase letters, digits, - or _, starting with a letter "
                     "or digit").means("Unique; cannot change."),
    "gateway": Rule(_address, "host or host:port (IPv4 address or DNS name)", _HOST_PORT,
                    "host or host:port that calls to its prefixes are sent to."),
    "sources": list_of(Rule(_source, "an IPv4 address, optionally :port", _HOST_PORT), MAX_LIST, 1).means(
        "IPv4 address or address:port the trunk calls from; calls from elsewhere are not the trunk's."),
    "prefixes": list_of(_PHONE_NUMBER, MAX_LIST).means(
        "Numbers starting so are external and go to this trunk (the longest prefix of all trunks wins)."),
    "inbound": Rule(_inbound, "an object mapping the trunk's numbers to local extension or room numbers",
                    {"type": "object", "maxProperties": MAX_LIST, "propertyNames": dict(_PHONE_NUMBER.schema),
                     "additionalProperties": dict(_LOCAL.schema)},
                    "The trunk's numbers, each mapped to a local extension or room."),
    "trusted": boolean().means(
        "Its calls keep their own P-Asserted-Identity, Remote-Party-ID and Diversion when forwarded out "
        "through a trunk; an untrusted trunk's never do (kamconf asserts the caller's number itself)."),
    "caller_id": or_null(_PHONE_NUMBER).means(
        "The number calls out through this trunk show (e.g. the company's main number) instead of the one "
        "kamconf asserts (the extension's, the customer's, the installation's). null: the asserted one."),
    "present_as": one_of(*(p.value for p in Presentation)).means(
        "pai: the number goes in P-Asserted-Identity; pai_and_from: in the From header's user too."),
    "callback": list_of(_PHONE_NUMBER, MAX_LIST).means(
        "Inbound numbers (keys of inbound) whose callers are refused (486) and called back: when they answer, "
        "they are put through to the local number inbound maps it to (a menu, a room, an extension)."),
    "callback_owner": or_null(_LOCAL).means(
        "The extension the calls back are made for: on its rights (the caller's number must be one it may call) "
        "and billed to it. Required with callback."),
    "callback_per_hour": integer(1, 20).means("Calls back to one number within an hour, at most."),
    "direct_media": boolean().means(_DIRECT_MEDIA + " For carriers whose media gateways reach the bridge "
                                    "node without NAT."),
}
TRUNK_FIELDS = tuple(TRUNK_RULES)


def validate_trunk(payload: Any) -> TrunkSettings:
    fields = clean(payload, TRUNK_RULES)
    require(fields, "name", "gateway", "sources")
    return _callbacks_checked(TrunkSettings.from_dict(fields))


def patch_trunk(current: TrunkSettings, payload: Any) -> TrunkSettings:
    fields = clean(payload, TRUNK_RULES)
    if "name" in fields and fields["name"] != current.name:
        raise FieldError("name", "immutable_field", "a trunk's name cannot change; create a new one")
    return _callbacks_checked(TrunkSettings.from_dict({**current.as_dict(), **fields}))


def _callbacks_checked(trunk: TrunkSettings) -> TrunkSettings:
    unmapped = [number for number in trunk.callback if number not in trunk.inbound]
    if unmapped:
        raise FieldError("callback", "invalid_field", f"{unmapped[0]} is none of inbound's numbers: where would "
                         "its callers be put through to?")
    if trunk.callback and trunk.callback_owner is None:
        raise FieldError("callback_owner", "invalid_field", "calls back are made for an extension: name it")
    return trunk

