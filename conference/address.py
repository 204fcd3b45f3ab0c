"""How a room is named on the wire: its kind and id, formatted and parsed here only.

The name is the user part of the request URI Kamailio sends to a bridge node, and
the key of the room's affinity, participants and events in Redis:

    1000              a numbered room (Kind.ROOM, id "1000")
    *8201             extension 201's local conference (Kind.LOCAL, id "201")
    call-<16 hex>     a call anchored for "#" (Kind.CALL, id: sha1 of its Call-ID, cut)
    conf-<code>       a scheduled conference (Kind.SCHEDULED, id: its dial-in code)
    dial-in           the scheduled conferences' dial-in service (Kind.DIAL_IN, id "")
    menu-700          voice menu 700 (Kind.MENU, id "700"): every caller of it is in it alone

Everyone else builds a `RoomAddress` and reads `kind` and `id` from `parse`; nobody
else writes a prefix or slices one off. Pure, standard library only (Kamailio's
embedded Python imports it).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    ROOM = "room"  # a numbered room: any extension in it may invite
    LOCAL = "local"  # an extension's *8 conference: its owner invites and moderates
    CALL = "call"  # a call anchored for "#" consult and merge (conference.consult)
    SCHEDULED = "scheduled"  # a scheduled conference (seed 001): it calls everyone; its owner chairs
    DIAL_IN = "dial_in"  # the scheduled conferences' dial-in service (conference.dialin)
    MENU = "menu"  # a voice menu (conference.menus)


MAX_NUMBER = 32  # digits of a room number or an extension (conference.rooms.MAX_NUMBER_LENGTH)
MAX_CODE = 16  # digits of a conference code (the SQL column's width)
CALL_KEY = 16  # hex digits of sha1(Call-ID) naming a "#" call's room

# The wire prefix of each kind; ROOM has none, DIAL_IN is the whole name.
_PREFIX = {Kind.ROOM: "", Kind.LOCAL: "*8", Kind.CALL: "call-", Kind.SCHEDULED: "conf-", Kind.DIAL_IN: "dial-in",
           Kind.MENU: "menu-"}
_HEX = frozenset("0123456789abcdef")
_LONGEST = max(len(prefix) for prefix in _PREFIX.values()) + MAX_NUMBER


def _digits(value: str, longest: int) -> bool:
    # isascii: str.isdigit() also accepts other scripts' digits and superscripts.
    return value.isascii() and value.isdigit() and 1 <= len(value) <= longest


def _valid(kind: Kind, id: str) -> bool:
    if kind in (Kind.ROOM, Kind.LOCAL, Kind.MENU):
        return _digits(id, MAX_NUMBER)
    if kind == Kind.SCHEDULED:
        return _digits(id, MAX_CODE)
    if kind == Kind.CALL:
        return len(id) == CALL_KEY and set(id) <= _HEX
    return id == ""


@dataclass(frozen=True)
class RoomAddress:
    kind: Kind
    id: str  # the number, the owner's extension, the call key, the conference code; "" for the dial-in service

    def __post_init__(self) -> None:
        # Checked at construction so that every address that exists formats to a name `parse` reads back.
        if not _valid(self.kind, self.id):
            raise ValueError(f"not a {self.kind} room id: {self.id!r}")

    @classmethod
    def parse(cls, user: str) -> RoomAddress | None:
        """The room `user` names, or None: not a room name we make."""
        if len(user) > _LONGEST:  # bounded before any other work
            return None
        if user == _PREFIX[Kind.DIAL_IN]:
            return DIAL_IN
        for kind in (Kind.LOCAL, Kind.CALL, Kind.SCHEDULED, Kind.MENU, Kind.ROOM):
            prefix = _PREFIX[kind]
            if user.startswith(prefix) and _valid(kind, user[len(prefix):]):
                return cls(kind, user[len(prefix):])
        return None

    def __str__(self) -> str:
        return _PREFIX[self.kind] + self.id


def room(number: str) -> RoomAddress:
    return RoomAddress(Kind.ROOM, number)


def local(owner: str) -> RoomAddress:
    return RoomAddress(Kind.LOCAL, owner)


def call(call_id: str) -> RoomAddress:
    """A "#" call's room: named after its SIP Call-ID, hashed so any Call-ID makes a short, safe name."""
    return RoomAddress(Kind.CALL, hashlib.sha1(call_id.encode()).hexdigest()[:CALL_KEY])


def scheduled(code: str) -> RoomAddress:
    return RoomAddress(Kind.SCHEDULED, code)


def menu(number: str) -> RoomAddress:
    return RoomAddress(Kind.MENU, number)


DIAL_IN = RoomAddress(Kind.DIAL_IN, "")
