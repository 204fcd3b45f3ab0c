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
from typing import Any

from conference.fields import FieldError, Rule, boolean, clean, digits, or_null, require, text
from conference.rooms import (
    LANGUAGES,
    MAX_NAME_LENGTH,
    MAX_NUMBER_LENGTH,
    MAX_PIN_LENGTH,
    MIN_PIN_LENGTH,
    PIN_RULE,
    hash_pin,
)

MIN_PASSWORD = 8
MAX_PASSWORD = 64
MAX_LIST = 32  # sources, prefixes and inbound numbers per trunk
_TRUNK_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
_LABEL = r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOST = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(\.{_LABEL})*$")
_PHONE_NUMBER = re.compile(r"^\+?[0-9]{1,32}$")


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

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ExtensionSettings:
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{key: value for key, value in data.items() if key in known})


def _password(value: Any) -> bool:
    return (isinstance(value, str) and MIN_PASSWORD <= len(value) <= MAX_PASSWORD
            and value.isascii() and value.isprintable())


_EXTENSION_RULES: dict[str, Rule] = {
    "number": (digits(MAX_NUMBER_LENGTH), f"a string of 1-{MAX_NUMBER_LENGTH} digits"),
    "password": (_password, f"{MIN_PASSWORD}-{MAX_PASSWORD} printable ASCII characters"),
    "display_name": (text(MAX_NAME_LENGTH), f"a string of at most {MAX_NAME_LENGTH} characters, no control characters"),
    "language": (lambda value: isinstance(value, str) and value in LANGUAGES, f"one of {', '.join(LANGUAGES)}"),
    "consult_merge": (boolean, "true or false"),
    "external_calls": (boolean, "true or false"),
    "forward_to": (or_null(lambda v: isinstance(v, str) and bool(_PHONE_NUMBER.match(v))),
                   "null or a number: digits, optionally after +"),
    "conference_pin": (or_null(digits(MAX_PIN_LENGTH, MIN_PIN_LENGTH)), PIN_RULE),
    "conference_end_on_exit": (boolean, "true or false"),
    "conference_announce_caller_name": (boolean, "true or false"),
}
EXTENSION_FIELDS = tuple(_EXTENSION_RULES)


def validate_extension(payload: Any, realm: str) -> ExtensionSettings:
    fields = clean(payload, _EXTENSION_RULES)
    require(fields, "number", "password")
    return ExtensionSettings(**_stored(fields, fields["number"], realm))


def patch_extension(current: ExtensionSettings, payload: Any, realm: str) -> ExtensionSettings:
    fields = clean(payload, _EXTENSION_RULES)
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


@dataclass(frozen=True)
class TrunkSettings:
    name: str
    gateway: str  # host or host:port where calls to its prefixes go
    sources: tuple[str, ...] = ()  # IPv4 addresses, or address:port, it sends calls from
    prefixes: tuple[str, ...] = ()  # numbers starting so are external and go to this trunk
    inbound: Mapping[str, str] = dataclasses.field(default_factory=dict)  # its number -> local number

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "gateway": self.gateway, "sources": list(self.sources),
                "prefixes": list(self.prefixes), "inbound": dict(self.inbound)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TrunkSettings:
        return cls(str(data["name"]), str(data["gateway"]), tuple(data.get("sources", ())),
                   tuple(data.get("prefixes", ())), dict(data.get("inbound", {})))


def _address(value: Any) -> bool:
    """host[:port] with a port 1-65535; the host an IPv4 address or a DNS name."""
    if not isinstance(value, str):
        return False
    host, sep, port = value.rpartition(":")
    if not sep:
        host, port = value, ""
    if port and not (port.isascii() and port.isdigit() and 1 <= int(port) <= 65535):
        return False
    return bool(_HOST.match(host))


def _source(value: Any) -> bool:
    if not _address(value):
        return False
    host = value.rsplit(":", 1)[0] if ":" in value else value
    try:
        ipaddress.IPv4Address(host)
    except ValueError:
        return False
    return True


def _list_of(accepts: Any, least: int = 0) -> Any:
    return lambda value: (isinstance(value, list) and least <= len(value) <= MAX_LIST
                          and len(set(value)) == len(value) and all(accepts(item) for item in value))


def _inbound(value: Any) -> bool:
    return (isinstance(value, dict) and len(value) <= MAX_LIST
            and all(_PHONE_NUMBER.match(k) and isinstance(v, str) and v.isascii() and v.isdigit()
                    and len(v) <= MAX_NUMBER_LENGTH for k, v in value.items()))


_TRUNK_RULES: dict[str, Rule] = {
    "name": (lambda v: isinstance(v, str) and bool(_TRUNK_NAME.match(v)),
             "1-32 lowercase letters, digits, - or _, starting with a letter or digit"),
    "gateway": (_address, "host or host:port (IPv4 address or DNS name)"),
    "sources": (_list_of(_source, least=1), f"a list of 1-{MAX_LIST} distinct IPv4 addresses, each optionally :port"),
    "prefixes": (_list_of(lambda v: isinstance(v, str) and bool(_PHONE_NUMBER.match(v))),
                 f"a list of at most {MAX_LIST} distinct number prefixes (digits, optionally after +)"),
    "inbound": (_inbound, "an object mapping the trunk's numbers to local extension or room numbers"),
}
TRUNK_FIELDS = tuple(_TRUNK_RULES)


def validate_trunk(payload: Any) -> TrunkSettings:
    fields = clean(payload, _TRUNK_RULES)
    require(fields, "name", "gateway", "sources")
    return TrunkSettings.from_dict(fields)


def patch_trunk(current: TrunkSettings, payload: Any) -> TrunkSettings:
    fields = clean(payload, _TRUNK_RULES)
    if "name" in fields and fields["name"] != current.name:
        raise FieldError("name", "immutable_field", "a trunk's name cannot change; create a new one")
    return TrunkSettings.from_dict({**current.as_dict(), **fields})

