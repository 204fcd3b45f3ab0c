"""What moderators (by key, conference.room's `_moderate`) and operators (the panel, the API) do
to a conference beyond entry: mute all but the moderators, a library sound to the room or to one
member, whisper, unmute a raised hand, and the end time (its warning and extensions). Each works
on a conference.room_state.Step. Pure: the time comes in as an argument."""

from __future__ import annotations

import dataclasses

from conference.room_state import (
    END_WARNING_LATE,
    END_WARNING_SECONDS,
    Member,
    Notify,
    PlaySound,
    Role,
    Room,
    Stage,
    Step,
    muted,
)


def end_check_due(room: Room, now: float) -> bool:
    """Whether the end-time warning is to be decided now (Clock): cheap, for every tick."""
    return room.ends_at is not None and not room.end_warned and now >= room.ends_at - END_WARNING_SECONDS


def clock(step: Step, now: float) -> None:
    """The time is `now`: the warning for this end time is given, or skipped as too late to be true."""
    room = step.room
    if room.ends_at is None or not end_check_due(room, now):
        return
    step.room = dataclasses.replace(room, end_warned=True)
    listeners = tuple(m.id for m in room.at(Stage.IN_CONFERENCE))
    if listeners and now < room.ends_at - END_WARNING_SECONDS + END_WARNING_LATE:
        step.effects.append(Notify(listeners, ("end_warning",)))


def extend(step: Step, minutes: int) -> None:
    """The end moves on (re-arming its warning), told to everyone in the conference."""
    if minutes <= 0:
        return
    if step.room.ends_at is not None:
        step.room = dataclasses.replace(step.room, ends_at=step.room.ends_at + 60 * minutes, end_warned=False)
    listeners = tuple(m.id for m in step.room.at(Stage.IN_CONFERENCE))
    if listeners:
        step.effects.append(Notify(listeners, ("conference_extended",)))


def speakers_but_moderators(room: Room) -> list[Member]:
    """Who *92 and an operator's mute_all mute: everyone joined who may speak and is no moderator."""
    return [m for m in room.members if m.stage in (Stage.IN_CONFERENCE, Stage.WAITING) and m.role == Role.USER]


def mute_all(step: Step, mute: bool) -> None:
    for member in speakers_but_moderators(step.room):
        step.set(muted(member, mute, forced=True))


def play_sound(step: Step, event: PlaySound) -> None:
    """A library sound to everyone in the conference, or to one member joined (the others hear nothing
    of it: it is played into that member's call only)."""
    if event.member:
        target = step.room.member(event.member)
        joined = target is not None and target.stage in (Stage.IN_CONFERENCE, Stage.WAITING)
        listeners: tuple[str, ...] = (event.member,) if joined else ()
    else:
        listeners = tuple(m.id for m in step.room.at(Stage.IN_CONFERENCE))
    if listeners:
        step.effects.append(Notify(listeners, (f"sound:{event.sound_id}",)))


def whisper(step: Step, member_id: str, by: str) -> None:
    """A moderator in the conference whispers to another member in it (a newer whisper replaces its last)."""
    moderator, target = step.room.member(by), step.room.member(member_id)
    if moderator is None or target is None or moderator.id == target.id or moderator.role != Role.ADMIN:
        return
    if moderator.stage == Stage.IN_CONFERENCE and target.stage == Stage.IN_CONFERENCE:
        step.set(dataclasses.replace(moderator, whispering=target.id))


def stop_whisper(step: Step, member_id: str) -> None:
    for member in step.room.members:
        if member.whispering and member_id in (member.id, member.whispering):
            step.set(dataclasses.replace(member, whispering=""))


def unmute_hand(step: Step, moderator: str = "") -> bool:
    """Unmute whoever's hand has been up longest (not the moderator's own); whether there was one."""
    raised = [m for m in step.room.raised() if m.id != moderator]
    if raised:
        step.set(muted(raised[0], False, forced=False))
        step.effects.append(Notify((raised[0].id,), ("unmuted",)))
    return bool(raised)
