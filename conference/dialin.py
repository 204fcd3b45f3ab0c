"""The dial-in service of scheduled conferences (seed 001): "enter the conference code, then *",
then the password if the conference has one; the caller is then moved into the conference.

Pure, on conference.room's Member, events and effects: a caller types the code in stage
GREETING and the password in stage PIN. Looking the code up is I/O: the room asks for it
(Lookup) and is told (Looked).

A conference that runs on another bridge node is reached by a relay leg (bridge.meetings): the
node calls it for the caller (Invited, `by` the caller) and, once it is up (Connected), the
caller and the leg hear each other and the keys the caller presses are sent on (Forward). A
relay leg is a member that is RINGING or `answered` (callers arrive, they are never called)
whose `target` is its caller's member id. Either leaving ends the other: the caller hangs up,
or the conference ended it (a leg that never came up leaves the caller told it is unavailable).
One exception: when the node that held the conference dies (RelayLost), its callers here wait
on music ("one moment please") while the conference is resumed on another node, and are carried
there again (a new relay leg; Abandon if it does not come back in time).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from conference.mixing import Link, music
from conference.room import (
    MAX_PIN_TRIES,
    Arrived,
    Connected,
    Digit,
    Effect,
    Event,
    Hangup,
    Invited,
    Left,
    Member,
    PinFailed,
    Play,
    PromptDone,
    Role,
    Room,
    Stage,
    Step,
    add_member,
)
from conference.schedule import LiveMeeting, dial_in_role

MAX_CODE = 16


@dataclass(frozen=True)
class Lookup:
    member: str
    code: str


@dataclass(frozen=True)
class Looked:
    """What the live state holds for the code: None, or the projected conference."""

    member: str
    meeting: LiveMeeting | None
    now: float  # Unix time


@dataclass(frozen=True)
class Transfer:
    """Move the caller into the conference with this role."""

    member: str
    code: str
    role: Role


@dataclass(frozen=True)
class Forward:
    """Send a key the caller pressed on over its relay leg (`leg`: a member id): the conference's keys."""

    leg: str
    digit: str


Asked = Lookup | Transfer | Forward  # what the service asks of its node, after the transition


@dataclass(frozen=True)
class RelayLost:
    """Relay leg `member` ended because the node holding its conference died (not by the conference)."""

    member: str


@dataclass(frozen=True)
class Abandon:
    """The conference a caller waits for after a RelayLost did not come back in time."""

    member: str


Told = Looked | RelayLost | Abandon  # what the node tells the service


def transition(room: Room, event: Event | Told) -> tuple[Room, list[Effect | Asked]]:
    step = Step(room)
    effects: list[Effect | Asked] = []
    if isinstance(event, Arrived):
        add_member(step, Member(event.member, event.caller, Stage.GREETING, extension=event.extension))
        if event.locked_out:
            _goodbye(step, event.member, "too_many_attempts")
        else:
            effects.append(Play(event.member, ("enter_code", "beep")))  # the beep: type the code now
    elif isinstance(event, Invited) and room.member(event.by) is not None:
        add_member(step, Member(event.member, event.number, Stage.RINGING, target=event.by))
    elif isinstance(event, Connected) and (leg := room.member(event.member)) is not None and is_relay(leg):
        step.set(dataclasses.replace(leg, stage=Stage.ANNOUNCING, answered=True))
        if (caller := room.member(leg.target)) is not None and caller.stage == Stage.WAITING:
            step.set(dataclasses.replace(caller, stage=Stage.ANNOUNCING))  # carried there again
    elif isinstance(event, RelayLost) and (leg := room.member(event.member)) is not None and leg.answered:
        step.set(dataclasses.replace(leg, target=""))  # its end no longer ends its caller
        caller = room.member(leg.target)
        if caller is not None and caller.stage == Stage.ANNOUNCING:
            step.set(dataclasses.replace(caller, stage=Stage.WAITING))
            step.effects.append(Play(caller.id, ("reconnecting",)))
    elif isinstance(event, Abandon) and (member := room.member(event.member)) is not None:
        if member.stage == Stage.WAITING:
            _goodbye(step, member.id, "conference_unavailable")
    elif isinstance(event, Digit | Looked | PromptDone | Left) and (member := room.member(event.member)) is not None:
        if isinstance(event, Digit):
            _digit(step, member, event.digit, effects)
        elif isinstance(event, Looked):
            _looked(step, member, event, effects)
        elif isinstance(event, PromptDone) and member.stage == Stage.LEAVING:
            effects.append(Hangup(member.id))
        elif isinstance(event, Left):
            _left(step, member)
    return step.room, [*step.effects, *effects]


def is_relay(member: Member) -> bool:
    return member.stage == Stage.RINGING or member.answered


def relay_of(room: Room, caller: Member) -> Member | None:
    """The caller's relay leg, if the node called its conference for it."""
    return next((m for m in room.members if is_relay(m) and m.target == caller.id), None)


def _left(step: Step, member: Member) -> None:
    step.room = dataclasses.replace(step.room, members=tuple(m for m in step.room.members if m.id != member.id))
    if not is_relay(member):
        if (leg := relay_of(step.room, member)) is not None:
            step.effects.append(Hangup(leg.id))
        return
    caller = step.room.member(member.target)
    if caller is None or caller.stage == Stage.LEAVING:
        return
    if member.answered:
        step.effects.append(Hangup(caller.id))  # the conference let it go (ended, dropped)
    else:
        _goodbye(step, caller.id, "conference_unavailable")  # it never came up


def _digit(step: Step, member: Member, digit: str, effects: list[Effect | Asked]) -> None:
    ends = "*" if member.stage == Stage.GREETING else "#"
    if (leg := relay_of(step.room, member)) is not None:
        if leg.answered:
            effects.append(Forward(leg.id, digit))
        return
    if member.stage not in (Stage.GREETING, Stage.PIN) or member.target == "?":
        return  # leaving, or waiting for the lookup
    if digit != ends:
        if digit.isdigit() and len(member.typed) < MAX_CODE:
            step.set(dataclasses.replace(member, typed=member.typed + digit))
        return
    if member.stage == Stage.GREETING:
        step.set(dataclasses.replace(member, target="?", typed=""))
        effects.append(Lookup(member.id, member.typed))
        return
    role = dial_in_role(*member.passwords, member.typed)
    if role is not None:
        entered = Role.ADMIN if role == "chair" else Role.USER
        step.set(dataclasses.replace(member, stage=Stage.ANNOUNCING, typed="", role=entered))
        effects.append(Transfer(member.id, member.target, entered))
        return
    tries = member.tries + 1
    step.set(dataclasses.replace(member, typed="", tries=tries))
    step.effects.append(PinFailed(member.id))
    if tries >= MAX_PIN_TRIES:
        _goodbye(step, member.id, "too_many_attempts")
    else:
        step.effects.append(Play(member.id, ("wrong_pin", "enter_password")))


def _looked(step: Step, member: Member, event: Looked, effects: list[Effect | Asked]) -> None:
    meeting = event.meeting
    if meeting is None or event.now < meeting.start:
        # One answer for both, or the service would tell a guesser which codes exist; a guess
        # counts towards the lockout like a wrong password.
        step.effects.append(PinFailed(member.id))
        _goodbye(step, member.id, "conference_unavailable")
    elif member.extension is not None and member.extension == meeting.owner:
        # The owner proved to Kamailio who it is: it chairs without the password.
        step.set(dataclasses.replace(member, stage=Stage.ANNOUNCING, target=meeting.code, role=Role.ADMIN))
        effects.append(Transfer(member.id, meeting.code, Role.ADMIN))
    elif meeting.chair_password or meeting.guest_password:
        passwords = (meeting.chair_password, meeting.guest_password)
        step.set(dataclasses.replace(member, stage=Stage.PIN, target=meeting.code, passwords=passwords))
        step.effects.append(Play(member.id, ("enter_password",)))
    else:
        step.set(dataclasses.replace(member, stage=Stage.ANNOUNCING, target=meeting.code, role=Role.USER))
        effects.append(Transfer(member.id, meeting.code, Role.USER))


def _goodbye(step: Step, member_id: str, prompt: str) -> None:
    member = step.room.member(member_id)
    if member is not None:
        step.set(dataclasses.replace(member, stage=Stage.LEAVING))
        step.effects.append(Play(member_id, (prompt,)))


def links(room: Room) -> frozenset[Link]:
    """Callers of the service hear only its prompts, until their relay leg to the conference is up;
    those waiting for their conference to come back (RelayLost) hear music."""
    pairs = [(leg.id, leg.target) for leg in room.members if leg.answered and leg.stage == Stage.ANNOUNCING
             and (caller := room.member(leg.target)) is not None and caller.stage == Stage.ANNOUNCING]
    waiting = {(music(room.settings.music_sound_id), m.id) for m in room.at(Stage.WAITING)}
    return frozenset(link for leg, caller in pairs for link in ((leg, caller), (caller, leg))) | waiting
