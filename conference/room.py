"""What happens in a conference room: entry IVR, roles, waiting for the admin, notices, ending.

`transition(room, event) -> (room, effects)` is the whole behaviour of the 13
room options (seed 000). The bridge feeds it call events and carries out the
effects (play prompts, hang up); who hears whom follows from the state
(`links`). Pure: no I/O, no clocks.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from enum import StrEnum

from conference.mixing import MUSIC, Link
from conference.prompts import MAX_COUNT, count_sentence
from conference.rooms import RoomSettings, pin_matches

MAX_PIN_TRIES = 3
MAX_PIN_DIGITS = 16
SILENCE = "silence"  # comfort-noise source: keeps RTP flowing where no music is wanted


class Stage(StrEnum):
    GREETING = "greeting"  # hearing the greeting
    PIN = "pin"  # asked for a PIN, typing it
    ANNOUNCING = "announcing"  # hearing what precedes entry (recording notice, count)
    WAITING = "waiting"  # in, but the admin is not: music or silence
    IN_CONFERENCE = "in_conference"
    LEAVING = "leaving"  # hearing a last prompt before being hung up


class Role(StrEnum):
    USER = "user"
    ADMIN = "admin"


@dataclass(frozen=True)
class Member:
    id: str
    caller: str
    stage: Stage
    role: Role | None = None
    typed: str = ""  # PIN digits so far
    tries: int = 0


@dataclass(frozen=True)
class Room:
    settings: RoomSettings
    members: tuple[Member, ...] = ()

    def member(self, member_id: str) -> Member | None:
        return next((m for m in self.members if m.id == member_id), None)

    def at(self, stage: Stage) -> list[Member]:
        return [m for m in self.members if m.stage == stage]

    @property
    def admin_in(self) -> bool:
        return any(m.role == Role.ADMIN for m in self.at(Stage.IN_CONFERENCE))


# Events ----------------------------------------------------------------------


@dataclass(frozen=True)
class Arrived:
    member: str
    caller: str
    locked_out: bool = False  # the caller ID failed its PIN too often lately (kept by the bridge)


@dataclass(frozen=True)
class PromptDone:
    member: str


@dataclass(frozen=True)
class Digit:
    member: str
    digit: str


@dataclass(frozen=True)
class Left:
    member: str


Event = Arrived | PromptDone | Digit | Left


# Effects ---------------------------------------------------------------------


@dataclass(frozen=True)
class Play:
    """Play pieces to one member instead of the room; PromptDone follows."""

    member: str
    pieces: tuple[str, ...]


@dataclass(frozen=True)
class Notify:
    """Play pieces to members over what they hear; nothing follows."""

    members: tuple[str, ...]
    pieces: tuple[str, ...]


@dataclass(frozen=True)
class Hangup:
    member: str


@dataclass(frozen=True)
class PinFailed:
    """A wrong PIN, for the per-caller lockout the bridge keeps in Redis."""

    caller: str


Effect = Play | Notify | Hangup | PinFailed


@dataclass
class _Step:
    room: Room
    effects: list[Effect] = field(default_factory=list)

    def set(self, member: Member) -> None:
        self.room = dataclasses.replace(
            self.room, members=tuple(member if m.id == member.id else m for m in self.room.members))


def transition(room: Room, event: Event) -> tuple[Room, list[Effect]]:
    step = _Step(room)
    if isinstance(event, Arrived):
        _arrived(step, event)
    elif (member := room.member(event.member)) is not None:
        if isinstance(event, PromptDone):
            _prompt_done(step, member)
        elif isinstance(event, Digit) and member.stage in (Stage.GREETING, Stage.PIN) and _has_pin(room):
            # Digits typed during the greeting count too (type-ahead), as in any IVR.
            _digit(step, member, event.digit)
        elif isinstance(event, Left):
            _left(step, member)
    return step.room, step.effects


def _arrived(step: _Step, event: Arrived) -> None:
    settings = step.room.settings
    present = [m for m in step.room.members if m.stage != Stage.LEAVING]
    step.room = dataclasses.replace(step.room, members=(*step.room.members, Member(event.member, event.caller,
                                                                                   Stage.GREETING)))
    if event.locked_out:
        _send_away(step, event.member, "too_many_attempts")
    elif settings.max_participants and len(present) >= settings.max_participants:
        _send_away(step, event.member, "conference_full")
    else:
        greeting = f"sound:{settings.greeting_sound_id}" if settings.greeting_sound_id else "welcome"
        step.effects.append(Play(event.member, (greeting,)))


def _prompt_done(step: _Step, member: Member) -> None:
    if member.stage == Stage.LEAVING:
        step.effects.append(Hangup(member.id))
    elif member.stage == Stage.GREETING:
        if member.typed or member.tries:
            step.set(dataclasses.replace(member, stage=Stage.PIN))  # typed ahead; the rest follows
        elif _has_pin(step.room):
            step.set(dataclasses.replace(member, stage=Stage.PIN))
            step.effects.append(Play(member.id, ("enter_pin",)))
        else:
            _admit(step, member, Role.USER)
    elif member.stage == Stage.ANNOUNCING:
        _enter(step, member)


def _has_pin(room: Room) -> bool:
    return bool(room.settings.user_pin or room.settings.admin_pin)


def _digit(step: _Step, member: Member, digit: str) -> None:
    if digit != "#":
        if digit.isdigit() and len(member.typed) < MAX_PIN_DIGITS:
            step.set(dataclasses.replace(member, typed=member.typed + digit))
        return
    settings = step.room.settings
    if pin_matches(settings.admin_pin, member.typed):
        _admit(step, member, Role.ADMIN)
    elif pin_matches(settings.user_pin, member.typed):
        _admit(step, member, Role.USER)
    else:
        step.effects.append(PinFailed(member.caller))
        tries = member.tries + 1
        step.set(dataclasses.replace(member, typed="", tries=tries))
        if tries >= MAX_PIN_TRIES:
            _send_away(step, member.id, "too_many_attempts")
        else:
            step.effects.append(Play(member.id, ("wrong_pin", "enter_pin")))


def _admit(step: _Step, member: Member, role: Role) -> None:
    settings = step.room.settings
    pieces: list[str] = []
    if settings.record:
        pieces.append("recording_notice")
    if settings.announce_count:
        others = len(step.room.at(Stage.IN_CONFERENCE)) + len(step.room.at(Stage.WAITING))
        pieces += count_sentence(min(others, MAX_COUNT), settings.language) if others else ["only_participant"]
    if settings.wait_for_admin and role == Role.USER and not step.room.admin_in:
        pieces.append("waiting_for_admin")
    admitted = dataclasses.replace(member, role=role, typed="", stage=Stage.ANNOUNCING)
    step.set(admitted)
    if pieces:
        step.effects.append(Play(member.id, tuple(pieces)))
    else:
        _enter(step, admitted)


def _enter(step: _Step, member: Member) -> None:
    settings = step.room.settings
    if settings.wait_for_admin and member.role == Role.USER and not step.room.admin_in:
        step.set(dataclasses.replace(member, stage=Stage.WAITING))
        return
    joining = [member] + (step.room.at(Stage.WAITING) if member.role == Role.ADMIN else [])
    listeners = tuple(m.id for m in step.room.at(Stage.IN_CONFERENCE))
    for m in joining:
        step.set(dataclasses.replace(m, stage=Stage.IN_CONFERENCE))
    if listeners and not settings.mute_notifications:
        step.effects.append(Notify(listeners, ("participant_joined",)))


def _left(step: _Step, member: Member) -> None:
    step.room = dataclasses.replace(step.room, members=tuple(m for m in step.room.members if m.id != member.id))
    if member.stage != Stage.IN_CONFERENCE:
        return
    settings = step.room.settings
    if member.role == Role.ADMIN and not step.room.admin_in:
        if settings.end_on_admin_exit:
            for other in step.room.members:
                if other.stage != Stage.LEAVING:
                    _send_away(step, other.id, "ended_by_admin")
            return
        if settings.wait_for_admin:
            for other in step.room.at(Stage.IN_CONFERENCE):
                step.set(dataclasses.replace(other, stage=Stage.WAITING))
    listeners = tuple(m.id for m in step.room.at(Stage.IN_CONFERENCE))
    if listeners and not settings.mute_notifications:
        step.effects.append(Notify(listeners, ("participant_left",)))


def _send_away(step: _Step, member_id: str, prompt: str) -> None:
    member = step.room.member(member_id)
    if member is not None:
        step.set(dataclasses.replace(member, stage=Stage.LEAVING))
        step.effects.append(Play(member_id, (prompt,)))


def links(room: Room) -> frozenset[Link]:
    """Who hears whom: the conference mixes mix-minus; waiting members hear music
    (or silence); a lone member hears music; members in the IVR hear only their prompts."""
    music = MUSIC if room.settings.music_on_hold else SILENCE
    inside = sorted(m.id for m in room.at(Stage.IN_CONFERENCE))
    result: set[Link] = {(music, m.id) for m in room.at(Stage.WAITING)}
    if len(inside) == 1:
        result.add((music, inside[0]))
    result.update((src, dst) for src in inside for dst in inside if src != dst)
    return frozenset(result)
