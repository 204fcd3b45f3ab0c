"""The number plan: where a dialled number goes, and whether this caller may go there.

Pure: the directory of rooms, extensions and trunks is passed in (KEMI backs it
with Redis, tests with dicts). Rules, in order:

- `*8<extension>` is that extension's local conference (seed 003); extensions only.
- A trunk's call is first mapped through its `inbound` numbers.
- A room number is open to every caller: a room is a dial-in number, guarded by its PINs.
  So is a voice menu's (conference.menus): it forwards callers on its owner's rights.
- An extension is reached by extensions, trunks and bridge nodes; its `forward_to`
  is followed (at most MAX_FORWARDS times).
- Any other number is external if a trunk's prefix matches (the longest wins); only
  bridge nodes, extensions allowed `external_calls`, and calls forwarded by an
  extension's own setting may go out, so nobody relays through kamconf.
- An operator's invitation from the panel or the API (`operator()`) reaches rooms and
  extensions (and an extension's own forwarding), and outside numbers only where the
  installation allows it ([conferences] operator_outside_calls): the panel is no
  toll-fraud door.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from conference.address import local
from conference.extensions import ExtensionSettings, TrunkSettings

LOCAL_CONFERENCE = "*8"  # what a phone dials: *8<extension>; the room's own name is conference.address's
MAX_FORWARDS = 5


class CallerKind(StrEnum):
    EXTENSION = "extension"  # authenticated by digest
    TRUNK = "trunk"  # recognised by source address
    BRIDGE = "bridge"  # a bridge node dialling out on someone's behalf (it checks that someone)
    OPERATOR = "operator"  # an operator inviting a number into a room (panel or API)
    ANONYMOUS = "anonymous"


@dataclass(frozen=True)
class Caller:
    kind: CallerKind
    extension: ExtensionSettings | None = None
    trunk: TrunkSettings | None = None
    outside: bool = False  # OPERATOR: the installation lets operators invite outside numbers


def operator(outside: bool) -> Caller:
    """Whose rights an operator's invitation uses: its own, never an extension's."""
    return Caller(CallerKind.OPERATOR, outside=outside)


class Directory(Protocol):
    def is_room(self, number: str) -> bool: ...

    def is_menu(self, number: str) -> bool: ...

    def extension(self, number: str) -> ExtensionSettings | None: ...

    def trunks(self) -> Sequence[TrunkSettings]: ...


@dataclass(frozen=True)
class ToRoom:
    number: str


@dataclass(frozen=True)
class ToMenu:
    number: str


@dataclass(frozen=True)
class ToExtension:
    number: str


@dataclass(frozen=True)
class ToTrunk:
    trunk: TrunkSettings
    number: str


@dataclass(frozen=True)
class ToLocalConference:
    owner: str  # the extension whose conference it is

    @property
    def room(self) -> str:
        """How the bridge and the affinity map know the conference."""
        return str(local(self.owner))


@dataclass(frozen=True)
class Refuse:
    code: int
    reason: str


Decision = ToRoom | ToMenu | ToExtension | ToTrunk | ToLocalConference | Refuse

FORBIDDEN = Refuse(403, "Forbidden")
NOT_FOUND = Refuse(404, "Not Found")


def decide(caller: Caller, dialled: str, directory: Directory) -> Decision:
    if dialled.startswith(LOCAL_CONFERENCE):
        owner = dialled[len(LOCAL_CONFERENCE):]
        if caller.kind != CallerKind.EXTENSION:
            return FORBIDDEN
        return ToLocalConference(owner) if directory.extension(owner) is not None else NOT_FOUND
    number = dialled
    if caller.trunk is not None:
        number = caller.trunk.inbound.get(dialled, dialled)
    forwarded = False
    for _ in range(MAX_FORWARDS + 1):
        if directory.is_room(number):
            return ToRoom(number)
        if directory.is_menu(number):
            return ToMenu(number)
        extension = directory.extension(number)
        if extension is None:
            break
        if extension.forward_to is None:
            return FORBIDDEN if caller.kind == CallerKind.ANONYMOUS else ToExtension(number)
        number, forwarded = extension.forward_to, True
    else:
        return Refuse(482, "Loop Detected")
    trunk = trunk_for(number, directory.trunks())
    if trunk is None:
        return NOT_FOUND
    return ToTrunk(trunk, number) if may_call_out(caller, forwarded) else FORBIDDEN


def may_call_out(caller: Caller, forwarded: bool) -> bool:
    if caller.kind == CallerKind.BRIDGE:
        return True
    if caller.kind == CallerKind.EXTENSION:
        return forwarded or (caller.extension is not None and caller.extension.external_calls)
    if caller.kind == CallerKind.OPERATOR:
        return forwarded or caller.outside
    # A trunk's call forwarded out by an extension's setting: the owner chose to pay for it.
    return forwarded and caller.kind == CallerKind.TRUNK


def trunk_for(number: str, trunks: Sequence[TrunkSettings]) -> TrunkSettings | None:
    """The trunk with the longest prefix of `number`; ties go to the first name."""
    best: tuple[int, str] | None = None
    chosen = None
    for trunk in trunks:
        for prefix in trunk.prefixes:
            if number.startswith(prefix) and (best is None or (-len(prefix), trunk.name) < best):
                best, chosen = (-len(prefix), trunk.name), trunk
    return chosen


def trunk_from(source_ip: str, source_port: int, trunks: Sequence[TrunkSettings]) -> TrunkSettings | None:
    """The trunk a request comes from: a source listed as address:port, or as address alone."""
    exact, by_address = f"{source_ip}:{source_port}", None
    for trunk in trunks:
        if exact in trunk.sources:
            return trunk
        if by_address is None and source_ip in trunk.sources:
            by_address = trunk
    return by_address
