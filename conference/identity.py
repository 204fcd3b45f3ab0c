"""Who a call kamconf sends out shows as its caller (issues 9 and 11). Pure: no I/O.

Two places decide, each with one function here:

- The bridge node, for the calls it places (`presented`): a "#" call's legs show the customer
  (the first leg, the one the anchored caller asked for, shows that caller); a `*8` invitation
  shows the inviting extension; a scheduled conference's call-outs and an operator's invitations
  show the installation's number ([conferences] caller_id, else the dial-in number). The node
  states it in a P-Asserted-Identity header of its INVITE.
- Kamailio, for every call it relays to a trunk or an extension (`outgoing`): whatever identity a
  caller wrote (P-Asserted-Identity, P-Preferred-Identity, Remote-Party-ID, Diversion) is removed,
  except from a bridge node (recognised by its address: it is where the number comes from) and from
  a trunk marked `trusted` (its own headers go on). kamconf then asserts the number it knows: an
  extension's own, or the bridge's; a trunk with a `caller_id` shows that number instead, and with
  `present_as = "pai_and_from"` the From header carries it too (many carriers read only From).
  An extension called by a bridge node sees the number in From (user and display name).
"""

from __future__ import annotations

from dataclasses import dataclass

from conference.address import Kind
from conference.extensions import Presentation, TrunkSettings
from conference.numberplan import CallerKind
from conference.room import Member, Room

MAX_NUMBER = 32  # digits of a presented number, after an optional + (as the API's numbers)


def is_number(value: str | None) -> bool:
    """A number kamconf may present: digits, optionally after +."""
    if not value:
        return False
    body = value[1:] if value.startswith("+") else value
    return 1 <= len(body) <= MAX_NUMBER and body.isascii() and body.isdigit()


@dataclass(frozen=True)
class Outgoing:
    """What Kamailio does to a relayed INVITE's identity."""

    keep_callers: bool = False  # the caller's own identity headers go on (a trusted trunk's)
    asserted: str | None = None  # P-Asserted-Identity: this number
    from_number: str | None = None  # the From header's user and display name become this number


def outgoing(kind: CallerKind, own: str | None, from_trusted_trunk: bool, to_trunk: TrunkSettings | None) -> Outgoing:
    """The identity of a call relayed from a caller of `kind` to `to_trunk` (None: to an extension).
    `own`: the caller's number as kamconf knows it (an extension's, or the one a bridge node states;
    None for anyone else). `from_trusted_trunk`: the caller is a trunk marked trusted."""
    own = own if kind in (CallerKind.EXTENSION, CallerKind.BRIDGE) and is_number(own) else None
    if kind == CallerKind.TRUNK and from_trusted_trunk:
        return Outgoing(keep_callers=True)
    if to_trunk is None:
        # A phone shows the From: a bridge's call says there whom it stands for.
        return Outgoing(asserted=own, from_number=own if kind == CallerKind.BRIDGE else None)
    number = to_trunk.caller_id or own
    if number is None:
        return Outgoing()
    in_from = to_trunk.present_as == Presentation.PAI_AND_FROM
    return Outgoing(asserted=number, from_number=number if in_from else None)


def claimed(header: str | None) -> str | None:
    """The number a P-Asserted-Identity value names (`<sip:NUMBER@host>`, `sip:NUMBER@host` or
    `<tel:NUMBER>`, a display name before it), if it is one; bounded string operations only."""
    if not header or len(header) > 256:
        return None
    value = header.split(",", 1)[0]
    if "<" in value:
        value = value.split("<", 1)[1].split(">", 1)[0]
    return uri_number(value)


def uri_number(uri: str) -> str | None:
    """The user part of a sip:, sips: or tel: URI if it is a number (or the value itself if it is one)."""
    value = uri.strip()
    for scheme in ("sip:", "sips:", "tel:"):
        if value[:len(scheme)].lower() == scheme:
            value = value[len(scheme):].split("@", 1)[0].split(";", 1)[0]
            break
    return value if is_number(value) else None


# The bridge: whom a call it places stands for ---------------------------------------------------


def member_number(member: Member | None) -> str | None:
    """A room member's number: its extension's, else its From user (a trunk's caller) or the number
    dialled for it, if that is a number."""
    if member is None:
        return None
    return member.extension or uri_number(member.caller)


def presented(room: Room, inviter: Member | None, first: bool, by_operator: bool, installation: str) -> str | None:
    """The number a call that `room` places shows (None: none, the call goes out without one).
    `first`: a "#" call's first leg (the number its caller dialled)."""
    if by_operator:
        number: str | None = installation
    elif room.kind == Kind.CALL:
        # First the anchored caller, alone in its room; then the controller's counterpart.
        number = member_number(room.member(room.controller or room.customer or "") if first
                               else room.member(room.customer or ""))
    elif inviter is not None:
        number = member_number(inviter)
    else:
        number = installation  # a scheduled conference calling its list
    return number if is_number(number) else None
