"""What happens in a conference room: entry IVR, roles, waiting for the admin, notices, ending.

`transition(room, event) -> (room, effects)` is the whole behaviour of the 13
room options (seed 000), of local *8 conferences and of the in-call feature
codes (seed 003: *8NUMBER invites, ## drops the last invited leg, the
moderator's *92-*95). The bridge feeds it call events and complete feature
codes (conference.keypad) and carries out the effects (play prompts, dial,
hang up); who hears whom follows from the state (`links`). Pure: no I/O, no clocks.
The state, events and effects are conference.room_state's (importable from here as before); the
moderators' and operators' actions beyond entry, and the end time, conference.moderation's.

Moderator commands (an admin in a room, the owner in a local conference):
*92 mutes every participant who is no moderator (the other moderators stay heard), or unmutes
them if all are muted; *93 locks entry, or
unlocks it; *94 drops the participant who joined last; *95 ends the conference;
*96 unmutes the participant whose hand has been up longest; *97 lets in the one who has
waited in the lobby longest; *98 moves the end time on by the conference's extension step.

The end time (a scheduled conference's; a numbered room has none): END_WARNING_SECONDS before
it everyone in the conference hears "five minutes left", once per end time, and only within
END_WARNING_LATE of that moment (a conference that began later, or was extended to end sooner, is
not told a wrong time). The bridge feeds Clock(now) once `end_check_due`; an extension (*98, the
API's, the worker's auto-extension: Extended) re-arms the warning for the new end.

The lobby (the room's `lobby`): a caller who is no moderator, past its PIN, waits there
(music, heard by nobody, its keys ignored) until a moderator's *97 or an operator admits it.
Nothing it types leads out: only Admit does.

Every participant's own keys (conference.keypad.Own): *1 mutes or unmutes oneself (not
when a moderator or an operator muted one: then *5 asks to speak), *2/*3 make one's voice
quieter/louder, *4/*6 what one hears quieter/louder (LEVEL_STEP dB a press, within
LEVELS), *5 raises or lowers one's hand, *0 says how many others are in, ** says the keys.

Roles: a moderator (ADMIN), a participant (USER), or a LISTENER, who hears and is
never heard (a listener PIN, or the room's listen_only for everyone who is no moderator).

Operators (the panel or the API) mute, unmute and drop participants, mute or unmute all but the
moderators, lock, unlock and end the room, start, pause, resume and stop its recording, play a
library sound to it or to one participant, let a moderator whisper to one participant (only that
one hears the moderator, who still hears the room) and invite a number into it (OPERATOR is the
inviter then; the bridge dials with an operator's rights, conference.numberplan.operator).
"""

from __future__ import annotations

import dataclasses

from conference import keypad, moderation
from conference.mixing import Link, music
from conference.moderation import end_check_due
from conference.prompts import MAX_COUNT, count_sentence
from conference.room_state import (  # the model, importable from here as ever (rules.Member, ...)
    END_WARNING_LATE,
    END_WARNING_SECONDS,
    EXTEND_MINUTES,
    LEVEL_STEP,
    LEVELS,
    MAX_PIN_DIGITS,
    MAX_PIN_TRIES,
    MAX_RINGING,
    OPERATOR,
    SILENCE,
    Admit,
    Answer,
    Arrived,
    Clock,
    Close,
    Connected,
    Dial,
    Digit,
    Drop,
    Effect,
    Event,
    Extended,
    ExtendEnd,
    Hangup,
    Invited,
    Kind,
    Left,
    Member,
    MuteAll,
    Notify,
    OperatorInvite,
    PauseRecording,
    PinFailed,
    Play,
    PlaySound,
    Pressed,
    PromptDone,
    Reject,
    Role,
    Room,
    SetLocked,
    SetMuted,
    SetRecording,
    Stage,
    Step,
    StopWhisper,
    UnmuteHand,
    Whisper,
    muted,
)
from conference.rooms import RoomSettings, pin_matches

__all__ = [
    "END_WARNING_LATE",
    "END_WARNING_SECONDS",
    "EXTEND_MINUTES",
    "LEVELS",
    "LEVEL_STEP",
    "MAX_PIN_DIGITS",
    "MAX_PIN_TRIES",
    "MAX_RINGING",
    "OPERATOR",
    "SILENCE",
    "Admit",
    "Answer",
    "Arrived",
    "Clock",
    "Close",
    "Connected",
    "Dial",
    "Digit",
    "Drop",
    "Effect",
    "Event",
    "ExtendEnd",
    "Extended",
    "Hangup",
    "Invited",
    "Kind",
    "Left",
    "Member",
    "MuteAll",
    "Notify",
    "OperatorInvite",
    "PauseRecording",
    "PinFailed",
    "Play",
    "PlaySound",
    "Pressed",
    "PromptDone",
    "Reject",
    "Role",
    "Room",
    "SetLocked",
    "SetMuted",
    "SetRecording",
    "Stage",
    "Step",
    "StopWhisper",
    "UnmuteHand",
    "Whisper",
    "add_member",
    "drop_member",
    "end_check_due",
    "failure_prompt",
    "links",
    "transition",
    "voices",
]


def transition(room: Room, event: Event) -> tuple[Room, list[Effect]]:
    step = Step(room)
    if isinstance(event, Arrived):
        _arrived(step, event)
    elif isinstance(event, Close):
        for other in room.members:
            if other.stage == Stage.RINGING:
                drop_member(step, other)
            elif other.stage != Stage.LEAVING:
                _send_away(step, other.id, event.prompt)
    elif isinstance(event, SetLocked):
        step.room = dataclasses.replace(room, locked=event.locked)
    elif isinstance(event, SetRecording):
        step.room = dataclasses.replace(room, recording=event.on, recording_paused=False)
        listeners = tuple(m.id for m in room.at(Stage.IN_CONFERENCE))
        if event.on and not room.records and listeners:
            step.effects.append(Notify(listeners, ("recording_notice",)))  # nobody is recorded unawares
    elif isinstance(event, PauseRecording):
        step.room = dataclasses.replace(room, recording_paused=event.paused and room.records)
    elif isinstance(event, PlaySound):
        moderation.play_sound(step, event)
    elif isinstance(event, MuteAll):
        moderation.mute_all(step, event.muted)
    elif isinstance(event, Whisper):
        moderation.whisper(step, event.member, event.by)
    elif isinstance(event, StopWhisper):
        moderation.stop_whisper(step, event.member)
    elif isinstance(event, Clock):
        moderation.clock(step, event.now)
    elif isinstance(event, Extended):
        moderation.extend(step, event.minutes)
    elif isinstance(event, UnmuteHand):
        moderation.unmute_hand(step)
    elif isinstance(event, Admit):
        _admit_from_lobby(step, event.member)
    elif isinstance(event, OperatorInvite):
        if _may_ring(room, event.number):
            step.effects.append(Dial(event.number, OPERATOR))
    elif isinstance(event, Invited):
        add_member(step, Member(event.member, event.number, Stage.RINGING, Role.USER, invited_by=event.by,
                                extension=event.extension))
    elif (member := room.member(event.member)) is not None:
        if isinstance(event, SetMuted) and member.stage in (Stage.IN_CONFERENCE, Stage.WAITING):
            step.set(muted(member, event.muted, forced=True))
        elif isinstance(event, Drop) and member.stage != Stage.LEAVING:
            drop_member(step, member)
        elif isinstance(event, PromptDone):
            _prompt_done(step, member)
        elif isinstance(event, Digit) and member.stage in (Stage.GREETING, Stage.PIN) and _has_pin(room):
            # Digits typed during the greeting count too (type-ahead), as in any IVR.
            _digit(step, member, event.digit)
        elif isinstance(event, Connected):
            _connected(step, member, event.answered)
        elif isinstance(event, Pressed) and member.stage == Stage.IN_CONFERENCE:
            _pressed(step, member, event.command)
        elif isinstance(event, Left):
            _left(step, member, event.status)
    return step.room, step.effects


def add_member(step: Step, member: Member) -> None:
    arrivals = step.room.arrivals + 1
    numbered = dataclasses.replace(member, order=arrivals)
    step.room = dataclasses.replace(step.room, members=(*step.room.members, numbered), arrivals=arrivals)


def _arrived(step: Step, event: Arrived) -> None:
    settings = step.room.settings
    present = [m for m in step.room.members if m.stage != Stage.LEAVING]
    add_member(step, Member(event.member, event.caller, Stage.GREETING, role=event.role, extension=event.extension,
                            name=event.name))
    if event.locked_out:
        _send_away(step, event.member, "too_many_attempts")
    elif step.room.locked:
        _send_away(step, event.member, "conference_locked")
    elif settings.max_participants and len(present) >= settings.max_participants:
        _send_away(step, event.member, "conference_full")
    else:
        greeting = f"sound:{settings.greeting_sound_id}" if settings.greeting_sound_id else "welcome"
        step.effects.append(Play(event.member, (greeting,)))


def _prompt_done(step: Step, member: Member) -> None:
    if member.stage == Stage.LEAVING:
        step.effects.append(Hangup(member.id))
    elif member.stage == Stage.GREETING:
        if _is_owner(step.room, member):
            _admit(step, member, Role.ADMIN)  # an owner needs no PIN for its own conference
        elif member.role is not None:
            _admit(step, member, member.role)  # decided before it came in (or called by the room)
        elif member.typed or member.tries:
            step.set(dataclasses.replace(member, stage=Stage.PIN))  # typed ahead; the rest follows
        elif _has_pin(step.room):
            step.set(dataclasses.replace(member, stage=Stage.PIN))
            step.effects.append(Play(member.id, ("enter_pin",)))
        else:
            _admit(step, member, Role.USER)
    elif member.stage == Stage.ANNOUNCING:
        _enter(step, member)


def _is_owner(room: Room, member: Member) -> bool:
    """The owner of a local conference, or of a scheduled one: called by it, or proved to Kamailio to
    be the owner's extension (dialling in, or back after hanging up)."""
    proved = member.extension is not None and member.extension == room.owner
    if room.kind == Kind.SCHEDULED:
        called = member.invited_by is not None and member.caller == room.owner
        return room.owner is not None and (called or proved)
    return room.kind == Kind.LOCAL and proved


def _has_pin(room: Room) -> bool:
    return room.settings.has_pins


# Which role each PIN field gives; a room's PINs all differ (conference.rooms), so order is moot.
_PIN_ROLES = (("admin_pin", Role.ADMIN), ("admin_pins", Role.ADMIN), ("user_pin", Role.USER),
              ("user_pins", Role.USER), ("listener_pins", Role.LISTENER))


def _role_of(settings: RoomSettings, typed: str) -> Role | None:
    for name, role in _PIN_ROLES:
        if any(pin_matches(stored, typed) for stored in settings.pins(name)):
            return role
    return None


def _digit(step: Step, member: Member, digit: str) -> None:
    if digit != "#":
        if digit.isdigit() and len(member.typed) < MAX_PIN_DIGITS:
            step.set(dataclasses.replace(member, typed=member.typed + digit))
        return
    role = _role_of(step.room.settings, member.typed)
    if role is not None:
        _admit(step, member, role)
    else:
        step.effects.append(PinFailed(member.id))
        tries = member.tries + 1
        step.set(dataclasses.replace(member, typed="", tries=tries))
        if tries >= MAX_PIN_TRIES:
            _send_away(step, member.id, "too_many_attempts")
        else:
            step.effects.append(Play(member.id, ("wrong_pin", "enter_pin")))


def _admit(step: Step, member: Member, role: Role) -> None:
    settings = step.room.settings
    if role == Role.USER and settings.listen_only:
        role = Role.LISTENER
    pieces: list[str] = []
    if step.room.records:
        pieces.append("recording_notice")
    others = len(step.room.at(Stage.IN_CONFERENCE)) + len(step.room.at(Stage.WAITING))
    if settings.announce_count:
        pieces += _count(others, settings.language)
    if _lobby_for(step.room, member, role):
        pieces.append("lobby_wait")
    elif settings.wait_for_admin and role != Role.ADMIN and not step.room.admin_in:
        pieces.append("waiting_for_admin")
    admitted = dataclasses.replace(member, role=role, typed="", stage=Stage.ANNOUNCING,
                                   muted=_joins_muted(settings, role, others))
    step.set(admitted)
    if pieces:
        step.effects.append(Play(member.id, tuple(pieces)))
    else:
        _enter(step, admitted)


def _count(others: int, language: str) -> list[str]:
    return count_sentence(min(others, MAX_COUNT), language) if others else ["only_participant"]


def _joins_muted(settings: RoomSettings, role: Role, others: int) -> bool:
    """Whether a member joins muted (it may unmute itself: *1). Listeners are never heard anyway."""
    if role == Role.ADMIN:
        return settings.admins_join_muted
    large = bool(settings.start_muted_at) and others >= settings.start_muted_at
    return role == Role.USER and (settings.users_join_muted or large)


def _lobby_for(room: Room, member: Member, role: Role | None) -> bool:
    """Whether the member waits in the lobby first: a caller (not one the room or a member called)
    who is no moderator, not let in yet."""
    return room.settings.lobby and role != Role.ADMIN and member.invited_by is None and not member.admitted


def _enter(step: Step, member: Member) -> None:
    settings = step.room.settings
    if _lobby_for(step.room, member, member.role):
        step.set(dataclasses.replace(member, stage=Stage.LOBBY))
        moderators = tuple(m.id for m in step.room.at(Stage.IN_CONFERENCE) if m.role == Role.ADMIN)
        if moderators:
            step.effects.append(Notify(moderators, ("lobby_knock",)))
        return
    if settings.wait_for_admin and member.role != Role.ADMIN and not step.room.admin_in:
        step.set(dataclasses.replace(member, stage=Stage.WAITING))
        return
    joining = [member] + (step.room.at(Stage.WAITING) if member.role == Role.ADMIN else [])
    listeners = tuple(m.id for m in step.room.at(Stage.IN_CONFERENCE))
    for m in joining:
        step.set(dataclasses.replace(m, stage=Stage.IN_CONFERENCE))
    _joined_notice(step, member, listeners)


def _joined_notice(step: Step, member: Member, listeners: tuple[str, ...]) -> None:
    if not listeners or step.room.settings.mute_notifications:
        return
    pieces: tuple[str, ...] = ("participant_joined",)
    if step.room.announce_names and member.extension is not None:
        pieces = (f"name:{member.extension}", *pieces)
    step.effects.append(Notify(listeners, pieces))


def _connected(step: Step, member: Member, answered: bool) -> None:
    """An invited call brings media: early media is heard by everyone at once, as is the answer.
    A scheduled conference's call is answered by a person it greets and seats (seed 001)."""
    if member.invited_by is None or member.stage not in (Stage.RINGING, Stage.IN_CONFERENCE):
        return
    if step.room.kind == Kind.SCHEDULED:
        if answered and member.stage == Stage.RINGING:
            step.set(dataclasses.replace(member, stage=Stage.GREETING, answered=True))
            settings = step.room.settings
            greeting = f"sound:{settings.greeting_sound_id}" if settings.greeting_sound_id else "welcome"
            step.effects.append(Play(member.id, (greeting,)))
        return
    listeners = tuple(m.id for m in step.room.at(Stage.IN_CONFERENCE) if m.id != member.id)
    step.set(dataclasses.replace(member, stage=Stage.IN_CONFERENCE, answered=member.answered or answered))
    if answered and not member.answered:
        _joined_notice(step, member, listeners)


# Invited calls end badly: what the inviter hears.
_FAILURES = {486: "number_busy", 600: "number_busy", 408: "no_answer", 480: "no_answer", 487: "no_answer"}


def failure_prompt(status: int) -> str:
    return _FAILURES.get(status, "number_unavailable")


def _pressed(step: Step, member: Member, command: keypad.Command) -> None:
    room = step.room
    may_invite = _is_owner(room, member) if room.kind == Kind.LOCAL else member.extension is not None
    if isinstance(command, keypad.Invite) and may_invite and not _may_ring(room, command.number):
        step.effects.append(Notify((member.id,), ("number_unavailable",)))
    elif isinstance(command, keypad.Invite) and may_invite:
        step.effects.append(Dial(command.number, member.id))
        step.effects.append(Notify((member.id,), ("trying_to_get_through",)))
    elif isinstance(command, keypad.DropLast) and may_invite:
        invited = [m for m in room.members if m.invited_by is not None and m.stage != Stage.LEAVING]
        if invited:
            drop_member(step, max(invited, key=lambda m: m.order))
    elif isinstance(command, keypad.Moderator) and member.role == Role.ADMIN:
        _moderate(step, member, command.code)
    elif isinstance(command, keypad.Own):
        _own(step, member, command.key)


def _own(step: Step, member: Member, key: keypad.OwnKey) -> None:
    """A participant's own key: what changes for it, and what it hears back."""
    said: tuple[str, ...]
    if key == keypad.OwnKey.MUTE:
        if member.role == Role.LISTENER:
            said = ("listen_only",)
        elif member.muted and member.forced:
            said = ("muted_by_moderator",)
        else:
            step.set(muted(member, not member.muted, forced=False))
            said = ("muted" if not member.muted else "unmuted",)
    elif key in _LEVEL_KEYS:
        name, change = _LEVEL_KEYS[key]
        level = max(LEVELS[0], min(LEVELS[1], getattr(member, name) + change))
        step.set(dataclasses.replace(member, **{name: level}))
        said = (f"{name.removesuffix('_db')}_{'louder' if change > 0 else 'quieter'}",)
    elif key == keypad.OwnKey.HAND:
        said = ("listen_only",) if member.role == Role.LISTENER else _hand(step, member)
    elif key == keypad.OwnKey.COUNT:
        said = tuple(_count(len(step.room.at(Stage.IN_CONFERENCE)) + len(step.room.at(Stage.WAITING)) - 1,
                            step.room.settings.language))
    else:
        said = ("help_keys", "help_moderator") if member.role == Role.ADMIN else ("help_keys",)
    step.effects.append(Notify((member.id,), said))


_LEVEL_KEYS = {keypad.OwnKey.TALK_QUIETER: ("talk_db", -LEVEL_STEP), keypad.OwnKey.TALK_LOUDER: ("talk_db", LEVEL_STEP),
               keypad.OwnKey.HEAR_QUIETER: ("hear_db", -LEVEL_STEP), keypad.OwnKey.HEAR_LOUDER: ("hear_db", LEVEL_STEP)}


def _hand(step: Step, member: Member) -> tuple[str, ...]:
    """*5 raises a hand (the moderators hear that one is up) or lowers it again."""
    if member.hand:
        step.set(dataclasses.replace(member, hand=0))
        return ("hand_lowered",)
    hands = step.room.hands + 1
    step.room = dataclasses.replace(step.room, hands=hands)
    step.set(dataclasses.replace(member, hand=hands))
    moderators = tuple(m.id for m in step.room.at(Stage.IN_CONFERENCE) if m.role == Role.ADMIN and m.id != member.id)
    if moderators:
        step.effects.append(Notify(moderators, ("hand_raised_notice",)))
    return ("hand_raised",)


def _may_ring(room: Room, number: str) -> bool:
    """Another invitation may go out: fewer than MAX_RINGING ring, and it does not call the room
    into itself (its audio would come back to it: a feedback loop)."""
    ringing = sum(1 for m in room.members if m.stage == Stage.RINGING)
    return ringing < MAX_RINGING and number != room.settings.number


def _moderate(step: Step, moderator: Member, code: str) -> None:
    others = [m for m in step.room.members if m.id != moderator.id and m.stage in (Stage.IN_CONFERENCE, Stage.WAITING)]
    if code == "92":
        mute = any(not m.muted for m in moderation.speakers_but_moderators(step.room))
        moderation.mute_all(step, mute)
        step.effects.append(Notify((moderator.id,), ("all_muted" if mute else "all_unmuted",)))
    elif code == "93":
        step.room = dataclasses.replace(step.room, locked=not step.room.locked)
        step.effects.append(Notify((moderator.id,), ("entry_locked" if step.room.locked else "entry_unlocked",)))
    elif code == "94" and others:
        drop_member(step, max(others, key=lambda m: m.order))
    elif code == "95":
        for other in step.room.members:
            if other.stage != Stage.LEAVING:
                _send_away(step, other.id, "ended_by_admin")
    elif code == "96":
        unmuted = moderation.unmute_hand(step, moderator.id)
        step.effects.append(Notify((moderator.id,), ("hand_unmuted" if unmuted else "no_raised_hands",)))
    elif code == "97":
        admitted = _admit_from_lobby(step)
        step.effects.append(Notify((moderator.id,), ("lobby_admitted" if admitted else "lobby_empty",)))
    elif code == "98" and step.room.ends_at is None:
        step.effects.append(Notify((moderator.id,), ("no_end_time",)))
    elif code == "98":
        step.effects.append(ExtendEnd(step.room.extend_minutes))
        moderation.extend(step, step.room.extend_minutes)


def _admit_from_lobby(step: Step, member_id: str = "") -> bool:
    """Let `member_id` (or whoever has waited longest) in from the lobby; whether anyone was."""
    waiting = sorted(step.room.at(Stage.LOBBY), key=lambda m: m.order)
    chosen = [m for m in waiting if m.id == member_id] if member_id else waiting[:1]
    if chosen:
        _enter(step, dataclasses.replace(chosen[0], admitted=True))
    return bool(chosen)


def drop_member(step: Step, member: Member) -> None:
    """Hang up at once: CANCEL while it rings, BYE once answered."""
    step.set(dataclasses.replace(member, stage=Stage.LEAVING))
    step.effects.append(Hangup(member.id))


def _left(step: Step, member: Member, status: int = 0) -> None:
    moderation.stop_whisper(step, member.id)
    step.room = dataclasses.replace(step.room, members=tuple(m for m in step.room.members if m.id != member.id))
    if member.invited_by is not None and not member.answered and member.stage != Stage.LEAVING:
        inviter = step.room.member(member.invited_by)
        if inviter is not None and inviter.stage == Stage.IN_CONFERENCE:
            step.effects.append(Notify((inviter.id,), (failure_prompt(status),)))
        return
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


def _send_away(step: Step, member_id: str, prompt: str) -> None:
    member = step.room.member(member_id)
    if member is not None:
        step.set(dataclasses.replace(member, stage=Stage.LEAVING))
        step.effects.append(Play(member_id, (prompt,)))


def voices(room: Room) -> list[str]:
    """Members in the conference whose voice the room hears (and its recording keeps): not a muted
    one, a listener, nor a moderator whispering to one member."""
    return [m.id for m in room.at(Stage.IN_CONFERENCE) if not m.muted and not m.whispering and m.role != Role.LISTENER]


def links(room: Room) -> frozenset[Link]:
    """Who hears whom: the conference mixes mix-minus; waiting members hear music
    (or silence); a lone member hears music; members in the IVR hear only their prompts.
    A whispering moderator is heard by its target alone, muted or not."""
    sound = music(room.settings.music_sound_id) if room.settings.music_on_hold else SILENCE
    inside = sorted(m.id for m in room.at(Stage.IN_CONFERENCE))
    speaking = voices(room)
    result: set[Link] = {(sound, m.id) for m in (*room.at(Stage.WAITING), *room.at(Stage.LOBBY))}
    if len(inside) == 1:
        result.add((sound, inside[0]))
    result.update((src, dst) for src in speaking for dst in inside if src != dst)
    result.update((m.id, m.whispering) for m in room.at(Stage.IN_CONFERENCE) if m.whispering in inside)
    return frozenset(result)
