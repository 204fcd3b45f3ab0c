"""A call anchored for "#" consult and merge (seed 002): the rules of a CALL room.

The caller's leg arrives; the room dials the number it called (the anchor) and
answers the caller when that answers, or refuses it as the far end did. From
then on the controller (the employee whose extension has `consult_merge`) may:
  #            hold: the others hear music
  NUMBER #     consult NUMBER privately (its ringback and answer reach only the controller)
  #            merge everyone into one conference; # again consults the next number
  *            abandon the consultation and go back
A consultation that fails tells the controller why (the others still on hold)
and goes back. It all ends
when the customer (the controller's original counterpart) hangs up, or when no
employee (a member that is an extension) is left.

Pure, like conference.room, whose Member, events and effects it shares.
"""

from __future__ import annotations

import dataclasses

from conference import keypad
from conference.mixing import MUSIC, Link
from conference.room import (
    Admit,
    Answer,
    Arrived,
    Clock,
    Close,
    Connected,
    Dial,
    Effect,
    Event,
    Extended,
    Invited,
    Left,
    Member,
    MuteAll,
    OperatorInvite,
    PauseRecording,
    Play,
    PlaySound,
    Pressed,
    PromptDone,
    Reject,
    Role,
    Room,
    SetLocked,
    SetRecording,
    Stage,
    Step,
    UnmuteHand,
    add_member,
    drop_member,
    failure_prompt,
)


def transition(room: Room, event: Event) -> tuple[Room, list[Effect]]:
    step = Step(room)
    if isinstance(event, Arrived):
        _arrived(step, event)
    elif isinstance(event, Invited):
        _invited(step, event)
    elif isinstance(event, Close | SetLocked | SetRecording | PauseRecording | PlaySound | MuteAll
                            | OperatorInvite | UnmuteHand | Admit | Clock | Extended):
        pass  # conferences' commands; a "#" call never gets them
    elif (member := room.member(event.member)) is not None:
        if isinstance(event, Connected):
            _connected(step, member, event.answered)
        elif isinstance(event, Pressed) and member.id == room.controller and member.stage == Stage.IN_CONFERENCE:
            _pressed(step, member, event.command)
        elif isinstance(event, Left):
            _left(step, member, event.status)
        elif isinstance(event, PromptDone) and member.id == room.controller and room.consulting is None:
            step.room = dataclasses.replace(room, held=False)
    return step.room, step.effects


def _arrived(step: Step, event: Arrived) -> None:
    """The caller: it rings (unanswered) while the room calls the anchor number."""
    add_member(step, Member(event.member, event.caller, Stage.RINGING, Role.USER, extension=event.extension,
                            name=event.name))
    if step.room.controller_is_caller:
        step.room = dataclasses.replace(step.room, controller=event.member)
    else:
        step.room = dataclasses.replace(step.room, customer=event.member)
    step.effects.append(Dial(step.room.anchor, event.member))


def _invited(step: Step, event: Invited) -> None:
    add_member(step, Member(event.member, event.number, Stage.RINGING, Role.USER, invited_by=event.by,
                            extension=event.extension))
    room = step.room
    if room.customer is None:
        step.room = dataclasses.replace(room, customer=event.member)
    elif room.controller is None:
        step.room = dataclasses.replace(room, controller=event.member)
    else:
        step.room = dataclasses.replace(room, consulting=event.member)


def _is_anchor(room: Room, member: Member) -> bool:
    """The leg the room dialled for the caller (the original call's far end)."""
    return member.invited_by is not None and member.id in (room.customer, room.controller)


def _connected(step: Step, member: Member, answered: bool) -> None:
    room = step.room
    if _is_anchor(room, member):
        if answered and not member.answered:
            # Both ends of the original call are in: the caller is answered now.
            step.set(dataclasses.replace(member, stage=Stage.IN_CONFERENCE, answered=True))
            step.effects.append(Answer(member.invited_by or ""))
    elif member.invited_by is None:
        step.set(dataclasses.replace(member, stage=Stage.IN_CONFERENCE, answered=True))  # the caller's media
    else:
        # A consulted number: its ringback and answer reach the controller only (see links).
        step.set(dataclasses.replace(member, stage=Stage.IN_CONFERENCE, answered=member.answered or answered))


def _pressed(step: Step, controller: Member, command: keypad.Command) -> None:
    room = step.room
    if isinstance(command, keypad.Hold):
        step.room = dataclasses.replace(room, held=True)
    elif isinstance(command, keypad.Consult) and room.consulting is None:
        step.room = dataclasses.replace(room, held=True)
        step.effects.append(Dial(command.number, controller.id))
    elif isinstance(command, keypad.Merge):
        step.room = dataclasses.replace(room, held=False, consulting=None)
    elif isinstance(command, keypad.Abandon):
        consulted = room.member(room.consulting) if room.consulting else None
        step.room = dataclasses.replace(room, held=False, consulting=None)
        if consulted is not None:
            drop_member(step, consulted)


def _left(step: Step, member: Member, status: int) -> None:
    room = step.room
    established = any(_is_anchor(room, m) and m.answered for m in room.members)
    step.room = dataclasses.replace(room, members=tuple(m for m in room.members if m.id != member.id))
    if member.id == room.consulting:
        controller = step.room.member(room.controller or "")
        if not member.answered and member.stage != Stage.LEAVING and controller is not None:
            # Still held while the controller hears why; back together when the prompt ends.
            step.room = dataclasses.replace(step.room, consulting=None)
            step.effects.append(Play(controller.id, (failure_prompt(status),)))
        else:
            step.room = dataclasses.replace(step.room, held=False, consulting=None)
        return
    if not established and _is_anchor(room, member) and member.stage != Stage.LEAVING:
        # The original call failed: the caller hears it as the far end said it (busy, ...).
        caller = step.room.member(member.invited_by or "")
        if caller is not None:
            step.set(dataclasses.replace(caller, stage=Stage.LEAVING))
            step.effects.append(Reject(caller.id, status or 480))
        return
    employees = [m for m in step.room.members if m.extension is not None and m.stage != Stage.LEAVING]
    caller_gave_up = not established and member.invited_by is None
    if caller_gave_up or member.id == room.customer or not employees:
        for other in step.room.members:
            if other.stage != Stage.LEAVING:
                drop_member(step, other)


def links(room: Room) -> frozenset[Link]:
    """Everyone hears everyone, except while the controller holds or consults: then the others
    hear music (and one another) and the controller talks only with the consulted number."""
    inside = [m.id for m in room.at(Stage.IN_CONFERENCE)]
    private = {room.controller, room.consulting} if room.held or room.consulting else set()
    public = [m for m in inside if m not in private]
    result: set[Link] = {(a, b) for a in public for b in public if a != b}
    if private:
        result.update((MUSIC, m) for m in public)
        pair = [m for m in inside if m in private]
        result.update((a, b) for a in pair for b in pair if a != b)
    return frozenset(result)

