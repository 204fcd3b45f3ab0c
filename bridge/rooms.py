"""One room on a bridge node: feeds conference.room, carries out its effects.

The decisions (who is let in, who hears what, which prompt) are conference/room.py's;
this class only turns them into prompts, mixer links, calls and hang-ups, and reports
who is in the room, all through the narrow interfaces of bridge/edge.py.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from bridge.edge import DialRequest, Leg, LiveState, Mixer, Playback, Port, Recording, Rights, Switchboard
from conference import billing, consult, dialin, gate, identity, keypad, menus, roster
from conference import room as rules
from conference.address import RoomAddress
from conference.menus import MenuSettings
from conference.mixing import DRAIN, MUSIC, Link, drained, link_changes, music_sound
from conference.rooms import RoomSettings
from conference.schedule import JoinedBy

log = logging.getLogger("kamconf.bridge")

JOINED = (rules.Stage.WAITING, rules.Stage.IN_CONFERENCE)
SCHEDULE = "schedule"  # who dials for a scheduled conference: the room itself


def billed_leg(room: rules.Room, inviter: rules.Member | None, number: str, first: bool,
               by_operator: bool = False) -> billing.Leg:
    """How a dialled leg is billed (seed 002): a "#" call's original call and every number it
    adds are outgoing calls of the employee; a *8 invitation is the inviter's; a scheduled
    conference's calls are its owner's; an operator's invitation is nobody's extension's; where a
    voice menu or a call back puts a caller through is the menu's or the call back's owner's."""
    if by_operator:
        return billing.Leg(room.settings.number, billing.LegKind.INVITED, rules.OPERATOR, number, "")
    if room.kind == rules.Kind.SCHEDULED and inviter is None:
        return billing.Leg(room.settings.number, billing.LegKind.SCHEDULED, room.settings.number, number,
                           room.owner or "")
    extension = inviter.extension if inviter and inviter.extension else ""
    caller = extension or (inviter.caller if inviter else "")
    if room.kind != rules.Kind.CALL:
        return billing.Leg(room.settings.number, billing.LegKind.INVITED, caller, number, extension)
    if first:
        return billing.Leg(room.settings.number, billing.LegKind.ORIGINAL, caller, number,
                           extension if room.controller_is_caller else room.owner or "")
    return billing.Leg(room.settings.number, billing.LegKind.ADDED, caller, number, extension)


# Rooms whose operator commands go through conference.room's rules.
RULED = (rules.Kind.ROOM, rules.Kind.LOCAL, rules.Kind.SCHEDULED)


class LiveRoom:
    def __init__(self, address: RoomAddress, state: rules.Room, switchboard: Switchboard, mixer: Mixer,
                 live: LiveState, noise_gate: bool = False) -> None:
        self.address = address
        self.number = str(address)  # its name on the wire, in Redis and in the log
        self.switchboard, self.mixer, self.live = switchboard, mixer, live
        self.state = state
        self.calls: dict[str, Leg] = {}  # by member (participant) id
        self.keypads: dict[str, keypad.Keypad] = {}  # feature codes being typed, by member
        # A "#" call has rules of its own (conference.consult); every other room, conference.room's.
        anchored = state.kind == rules.Kind.CALL
        rulebook: Any = {rules.Kind.CALL: consult, rules.Kind.DIAL_IN: dialin, rules.Kind.MENU: menus}.get(
            state.kind, rules)
        self.transition = self.menu_transition if state.kind == rules.Kind.MENU else rulebook.transition
        self.rules_links = rulebook.links
        self.menu: MenuSettings | None = None  # a voice menu's, as it was when its latest caller arrived
        self.keys = keypad.KeyMap.CONSULT if anchored else keypad.KeyMap.CONFERENCE
        self.links: frozenset[Link] = frozenset()
        self.prompts: dict[str, Playback] = {}  # what each member in the IVR hears now
        self.overlays: list[Playback] = []  # notices over the mix, until they end
        self.recording: Recording | None = None
        self.attended = False  # somebody has been in (a scheduled conference that empties is over)
        self.figures: dict[str, dict[str, float | None]] = {}  # call quality, by member (conference.quality)
        self.tries: dict[str, int] = {}  # which try a call the room placed is, by member (its call_failed says)
        self.levels: dict[str, tuple[int, int]] = {}  # (hear, talk) dB set on each member's port
        self.noise_gate = noise_gate and state.kind in RULED  # ([bridge] noise_gate) conference.room's rooms only
        self.closed: set[str] = set()  # members the noise gate keeps out of the mix now
        self.gated: list[str] = []  # the voices the noise gate watches: none unless the room gates

    @property
    def empty(self) -> bool:
        return not self.calls

    def arrive(self, call: Leg, settings: RoomSettings, locked_out: bool,
               role: rules.Role | None = None) -> None:
        if self.address.kind == rules.Kind.MENU:
            self.menu = self.live.menu(self.address.id) or self.menu  # Redis down: the menu as it last was
        self.calls[call.participant_id] = call
        self.state = dataclasses.replace(self.state, settings=settings)
        log.info("room %s: %s arrived as %s%s", self.number, call.caller, call.participant_id,
                 " (locked out)" if locked_out else "")
        self.feed(rules.Arrived(call.participant_id, call.caller, locked_out, call.extension, call.name, role))

    def release(self, call: Leg) -> None:
        """The call leaves this room for another, still up (the dial-in service's callers)."""
        member = call.participant_id
        if self.calls.pop(member, None) is None:
            return
        self.prompts.pop(member, None)
        self.figures.pop(member, None)
        self.levels.pop(member, None)
        self.closed.discard(member)
        self.links = frozenset(link for link in self.links if member not in link)
        self.feed(rules.Left(member))

    def menu_transition(self, state: rules.Room, event: Any) -> tuple[rules.Room, list[Any]]:
        """A voice menu's rules, on the wall clock (its opening hours) and the monotonic one (its timeouts)."""
        menu = self.menu or MenuSettings(self.address.id)
        return menus.transition(menu, state, event, datetime.now(UTC), time.monotonic())

    def invited(self, call: Leg, by: str, extension: str | None = None) -> None:
        """The node dialled `call` for member `by`; it joins on early media or answer."""
        self.calls[call.participant_id] = call
        log.info("room %s: %s invited by %s", self.number, call.caller, by)
        self.feed(rules.Invited(call.participant_id, call.caller, by, extension))

    def media(self, call: Leg) -> None:
        member = self.state.member(call.participant_id)
        if member is not None and member.stage == rules.Stage.RINGING:
            self.feed(rules.Connected(member.id, answered=False))
        else:
            self.reconnect(call)

    def answered(self, call: Leg) -> None:
        self.feed(rules.Connected(call.participant_id, answered=True))

    def reconnect(self, call: Leg) -> None:
        """A re-INVITE may have given the call a new mixer port: connect it afresh."""
        member = call.participant_id
        self.links = frozenset(link for link in self.links if member not in link)
        audio = call.audio()
        if member in self.prompts and audio is not None:
            self.prompts[member].play_to(audio)
        self.remix()
        self.levels.pop(member, None)  # a new port starts at the mix's level
        if (joined := self.state.member(member)) is not None and joined.stage in JOINED:
            self.level(joined)

    def leave(self, call: Leg, status: int) -> None:
        member = call.participant_id
        if self.calls.pop(member, None) is None:
            return
        self.prompts.pop(member, None)
        self.keypads.pop(member, None)
        self.figures.pop(member, None)
        self.levels.pop(member, None)
        self.closed.discard(member)
        # The mixer dropped the gone port already; only forget its links.
        self.links = frozenset(link for link in self.links if member not in link)
        self.feed(rules.Left(member, status), left_status=status)

    def feed(self, event: rules.Event | dialin.Told | menus.Tick | menus.Unreachable, left_status: int = 0) -> None:
        before = {m.id: m for m in self.state.members}
        consulting = self.state.consulting
        self.state, effects = self.transition(self.state, event)
        if consulting and not self.state.consulting and self.state.controller:
            self.keypads.pop(self.state.controller, None)  # the consultation is over: "#" holds again
        for effect in effects:
            self.carry_out(effect)
        self.remix()
        self.record()
        self.report(before, left_status)

    def carry_out(self, effect: rules.Effect | dialin.Asked | menus.Forward) -> None:
        if isinstance(effect, rules.Play):
            call = self.calls.get(effect.member)
            if call is not None:
                self.prompts[effect.member] = self.play(effect.pieces, [call], effect.member, overlay=False)
        elif isinstance(effect, rules.Notify):
            listeners = [self.calls[m] for m in effect.members if m in self.calls]
            if listeners:
                # A newer notice to the same people replaces the one still playing ("trying to
                # get through", then "busy"): two at once would be heard as noise.
                self.overlays = [p for p in self.overlays if p.member != ",".join(effect.members)]
                self.overlays.append(self.play(effect.pieces, listeners, ",".join(effect.members), overlay=True))
        elif isinstance(effect, rules.Hangup):
            if effect.member in self.calls:
                self.switchboard.hangup_soon(self.calls[effect.member])
        elif isinstance(effect, rules.PinFailed):
            if (call := self.calls.get(effect.member)) is not None and call.lockout:
                self.live.pin_failed(self.number, call.lockout)
        elif isinstance(effect, rules.Answer):
            if effect.member in self.calls:
                self.switchboard.answer(self.calls[effect.member])
        elif isinstance(effect, rules.Reject):
            if effect.member in self.calls:
                self.switchboard.hangup(self.calls[effect.member], effect.status if effect.status >= 300 else 480)
        elif isinstance(effect, dialin.Asked | menus.Forward):
            self.switchboard.after(effect)  # after this transition: each feeds rooms again
        elif isinstance(effect, rules.ExtendEnd):
            if self.address.kind == rules.Kind.SCHEDULED:
                self.live.extend_meeting(self.address.id, effect.minutes)  # the end time is the worker's (SQL)
        elif isinstance(effect, rules.Dial):
            # After this transition is carried out, not within it: dialling feeds the room again.
            self.switchboard.after(DialRequest(self.number, effect.number, effect.by))

    def play(self, pieces: tuple[str, ...], calls: list[Leg], member: str, overlay: bool) -> Playback:
        ports = [port for call in calls if (port := call.audio()) is not None]
        # Which pieces, in order: what a caller was told (a count, its plural form) is in the log.
        log.info("room %s: %s hears %s", self.number, member, "+".join(pieces))
        return self.mixer.play(pieces, self.state.settings.language, ports, member, overlay)

    def dial(self, number: str, by: str, attempt: int = 1) -> Leg | None:
        """Call `number` into the room for member `by` (or for the room itself: SCHEDULE; for an
        operator: rules.OPERATOR), if `by` may reach it; `attempt`: which try at the number this is.
        The call, or None if it never went out (the inviter hears why)."""
        state = self.state
        # A "#" call's first dial is the number its caller dialled, which Kamailio already allowed;
        # a scheduled conference calls the people its owner listed.
        first = state.kind == rules.Kind.CALL and None in (state.customer, state.controller)
        inviter = state.member(by)
        by_operator = by == rules.OPERATOR
        rights = Rights.NODE if first or by == SCHEDULE else Rights.OPERATOR if by_operator else Rights.INVITER
        billed = billed_leg(state, inviter, number, first, by_operator)
        shown = identity.presented(state, inviter, first, by_operator, self.switchboard.numbers)
        dialled = self.switchboard.dial(self.number, number, billed, inviter, rights, shown)
        self.tries[dialled.call.participant_id] = attempt
        self.invited(dialled.call, by, dialled.extension)
        if dialled.refused:
            self.leave(dialled.call, dialled.refused)  # as a call the far end refused at once
            return None
        return dialled.call

    def command(self, op: str, participant: str = "", value: str = "") -> None:
        """An operator's command from the panel or the API (store.live.room_command): through the
        room's rules where it has them; a "#" call or the dial-in service can only be hung up.
        `value`: the number to invite, the library sound to play (its id), or the moderator who
        whispers to `participant`."""
        by_rules = self.state.kind in RULED
        call = self.calls.get(participant)
        if op in ("start_recording", "stop_recording") and by_rules:
            self.feed(rules.SetRecording(op == "start_recording"))
        elif op in ("pause_recording", "resume_recording") and by_rules:
            self.feed(rules.PauseRecording(op == "pause_recording"))
        elif op in ("mute_all", "unmute_all") and by_rules:
            self.feed(rules.MuteAll(op == "mute_all"))
        elif op == "play" and by_rules and value.isascii() and value.isdigit():
            self.feed(rules.PlaySound(int(value), participant))
        elif op == "whisper" and by_rules and value:
            self.feed(rules.Whisper(participant, by=value))
        elif op == "stop_whisper" and by_rules:
            self.feed(rules.StopWhisper(participant))
        elif op == "invite" and by_rules and value:
            self.feed(rules.OperatorInvite(value))
        elif op in ("mute", "unmute") and by_rules:
            self.feed(rules.SetMuted(participant, op == "mute"))
        elif op == "drop" and call is not None and by_rules:
            self.feed(rules.Drop(participant))
        elif op == "drop" and call is not None:
            self.switchboard.hangup(call)
        elif op == "unmute_hand" and by_rules:
            self.feed(rules.UnmuteHand())
        elif op in ("admit", "admit_next") and by_rules:
            self.feed(rules.Admit(participant if op == "admit" else ""))
        elif op in ("lock", "unlock") and by_rules:
            self.feed(rules.SetLocked(op == "lock"))
        elif op == "end" and by_rules:
            self.feed(rules.Close("conference_over"))
        elif op == "end":
            for leg in list(self.calls.values()):
                self.switchboard.hangup(leg)
        else:
            log.warning("room %s: %s %s is not possible here", self.number, op, participant)

    def prompt_ended(self, prompt: Playback) -> None:
        if prompt.overlay:
            self.overlays = [p for p in self.overlays if p is not prompt]
        elif self.prompts.get(prompt.member) is prompt:
            del self.prompts[prompt.member]
            self.feed(rules.PromptDone(prompt.member))

    def digit(self, call: Leg, digit: str, method: str, now: float) -> None:
        settings = self.state.settings
        # In a room with PINs a digit may be part of one: never write it to the log.
        shown = "a key" if settings.has_pins else digit
        log.info("room %s: %s pressed %s (%s)", self.number, call.caller, shown, method)
        member = self.state.member(call.participant_id)
        if member is None or member.stage != rules.Stage.IN_CONFERENCE:
            self.feed(rules.Digit(call.participant_id, digit))
            return
        pad, commands = keypad.press(self.keypads.get(member.id, keypad.Keypad(self.keys)), digit, now)
        self.keypads[member.id] = pad
        self.press(member.id, commands)

    def tick(self, now: float) -> None:
        """Feature codes that silence completes (a number after *8); the end-time warning; a voice menu's
        callers who stay silent."""
        if self.state.ends_at is not None and rules.end_check_due(self.state, wall := self.live.now()):
            self.feed(rules.Clock(wall))
        if self.address.kind == rules.Kind.MENU and menus.due(self.state, now):
            self.feed(menus.Tick())
        for member_id, pad in list(self.keypads.items()):
            pad, command = keypad.expire(pad, now)
            self.keypads[member_id] = pad
            self.press(member_id, [command] if command else [])

    def press(self, member_id: str, commands: list[keypad.Command]) -> None:
        for command in commands:
            log.info("room %s: %s", self.number, type(command).__name__)
            self.feed(rules.Pressed(member_id, command))

    def gate(self, member: str, is_open: bool) -> None:
        """The noise gate opened or closed on a member's voice."""
        (self.closed.discard if is_open else self.closed.add)(member)
        self.remix()

    def remix(self) -> None:
        """Make the mixer's links what the rules want (less the voices the noise gate keeps out). A call
        whose media is already gone (its hang-up is still queued) has no port: its links are simply not
        there."""
        wanted = self.rules_links(self.state)
        if self.noise_gate:
            # Kept for the node, which reads their levels every frame (every change of state remixes).
            voices = rules.voices(self.state)
            self.gated = voices if gate.gates(voices) else []
            inside = [m.id for m in self.state.at(rules.Stage.IN_CONFERENCE)]
            wanted = gate.gated_links(wanted, voices, self.closed, inside, rules.SILENCE)
        wanted = drained(wanted, self.calls)
        stop, start = link_changes(self.links, wanted)
        for src, dst in stop:
            source, sink = self.port(src), self.port(dst)
            if source is not None and sink is not None:
                self.mixer.disconnect(source, sink)
        missing = set()
        for src, dst in start:
            source, sink = self.port(src), self.port(dst)
            if source is not None and sink is not None:
                self.mixer.connect(source, sink)
            else:
                missing.add((src, dst))
        self.links = wanted - missing

    def record(self) -> None:
        """While the room records (`record` on, or an operator's start), one session runs from the first
        entry to the room's end or the operator's stop; a start after a stop is a new file."""
        if self.recording is not None and not self.state.records:
            self.finish_recording()
        ports = {m.id: (m.caller, self.port(m.id)) for m in self.state.at(rules.Stage.IN_CONFERENCE)}
        inside = {member: (caller, port) for member, (caller, port) in ports.items() if port is not None}
        if self.recording is None and inside and self.state.records:
            self.recording = self.mixer.record(self.number, self.state.settings.record_tracks)
            if self.recording is not None:
                log.info("room %s: recording %s", self.number, self.recording.id)
                self.live.recording(self.number, self.recording.id)
                self.live.room_event("recording_started", self.number, recording=self.recording.id)
        if self.recording is not None:
            paused = self.state.recording_paused
            if paused != self.recording.paused:
                log.info("room %s: recording %s %s", self.number, self.recording.id, "paused" if paused else "resumed")
                self.live.room_event("recording_paused" if paused else "recording_resumed", self.number,
                                     recording=self.recording.id)
            self.recording.follow(inside, set(rules.voices(self.state)), paused)

    def close(self) -> None:
        """The room is empty: finish its recording, if any."""
        self.finish_recording()

    def finish_recording(self) -> None:
        """Finish the file and have it filed."""
        if self.recording is not None:
            recording, self.recording = self.recording, None
            recording.close()
            log.info("room %s: recording %s finished", self.number, recording.id)
            self.live.recording(self.number, None)
            self.live.room_event("recording_stopped", self.number, recording=recording.id)
            self.live.file_recording(recording.id)

    def port(self, name: str) -> Port | None:
        if name in (MUSIC, rules.SILENCE, DRAIN) or music_sound(name) is not None:
            return self.mixer.background(name)
        call = self.calls.get(name)
        return None if call is None else call.audio()

    def members_in(self) -> list[tuple[str, Leg]]:
        return [(m.id, self.calls[m.id]) for m in self.state.at(rules.Stage.IN_CONFERENCE) if m.id in self.calls]

    # Who is in the room, for the panel, metrics and history -------------------------

    def report(self, before: dict[str, rules.Member], left_status: int) -> None:
        after = {m.id: m for m in self.state.members}
        for member_id, old in before.items():
            new = after.get(member_id)
            # Sent away (ended, dropped) counts as gone now, not when the hang-up completes.
            if old.stage in JOINED and (new is None or new.stage not in JOINED):
                self.attend(old, joined=False, when=self.live.now())
                self.live.room_event("left", self.number, participant=member_id, caller=old.caller,
                                     status=left_status, present=self.present)
            if roster.shown(old) is not None and (new is None or roster.shown(new) is None):
                self.live.remove_participant(self.number, member_id)
            if new is None:
                attempt = self.tries.pop(member_id, 1)
                if roster.failed(old, new):
                    self.live.room_event("call_failed", self.number, participant=member_id, number=old.caller,
                                         status=left_status, reason=str(roster.reason(left_status)), attempt=attempt)
        for member_id, new in after.items():
            was = before.get(member_id)
            joined = new.stage in JOINED and (was is None or was.stage not in JOINED)
            when = self.live.now()
            if joined and new.id in self.calls:
                self.calls[new.id].joined_at = when
            if roster.shown(new) is not None and (was is None or _shown_state(was) != _shown_state(new)):
                # Listed before the event goes out: the Live page redraws on "joined" and must find it.
                self.publish(new)
            if joined:
                self.joined(new, when)
            if new.stage == rules.Stage.LOBBY and (was is None or was.stage != rules.Stage.LOBBY):
                self.live.room_event("lobby", self.number, participant=new.id, caller=new.caller)
            # One who joins muted is shown so by "joined" (its state), with no "muted" event.
            if was is not None and was.whispering != new.whispering:
                self.live.room_event("whisper_started" if new.whispering else "whisper_stopped", self.number,
                                     participant=new.id, to=new.whispering or was.whispering)
            if was is not None and was.stage in JOINED and new.stage in JOINED:
                if was.muted != new.muted:
                    self.live.room_event("muted" if new.muted else "unmuted", self.number, participant=new.id)
                if bool(was.hand) != bool(new.hand):
                    self.live.room_event("hand_raised" if new.hand else "hand_lowered", self.number,
                                         participant=new.id, caller=new.caller)
            if new.stage in JOINED and new.id in self.calls:
                self.level(new)

    def level(self, member: rules.Member) -> None:
        """What the member hears and how loud its voice is in the mix (its own keys *2-*6)."""
        port = self.port(member.id)
        wanted = (member.hear_db, member.talk_db)
        if port is not None and self.levels.get(member.id) != wanted:
            self.mixer.adjust(port, *wanted)
            self.levels[member.id] = wanted

    def joined(self, member: rules.Member, when: float) -> None:
        self.attend(member, joined=True, when=when)
        self.live.room_event("joined", self.number, participant=member.id, caller=member.caller,
                             role=str(member.role), present=self.present)
        log.info("room %s: %s joined as %s (%d present)", self.number, member.caller, member.role, self.present)

    def publish(self, member: rules.Member) -> None:
        self.live.put_participant(self.number, member.id, self.shown(member))

    def shown(self, member: rules.Member) -> dict[str, Any]:
        """A participant as the live state shows it (conference.roster: from its first ring on)."""
        call = self.calls.get(member.id)
        return {"id": member.id, "caller": member.caller, "extension": member.extension, "role": str(member.role),
                "state": str(roster.shown(member)), "hand": member.hand,
                "joined_at": None if call is None else call.joined_at,
                "node": self.live.node_id, "run": self.live.run, **self.figures.get(member.id, {})}

    def present_now(self) -> dict[str, dict[str, Any]]:
        """Everyone the roster shows now (what a heartbeat asserts again)."""
        return {m.id: self.shown(m) for m in self.state.members if roster.shown(m) is not None and m.id in self.calls}

    def quality(self, member_id: str, figures: dict[str, float | None]) -> None:
        """A member's latest call quality (loss_percent, jitter_ms, rtt_ms, mos), shown with them once joined."""
        self.figures[member_id] = figures
        member = self.state.member(member_id)
        if member is not None and member.stage in JOINED and member_id in self.calls:
            self.publish(member)

    def attend(self, member: rules.Member, joined: bool, when: float) -> None:
        """Attendance (history) of scheduled conferences, filed by the worker."""
        if self.address.kind != rules.Kind.SCHEDULED:
            return
        self.attended = self.attended or joined
        how = JoinedBy.CALLED if member.invited_by is not None else JoinedBy.DIAL_IN
        self.live.file_attendance(self.address.id, member, how, when, joined)

    @property
    def present(self) -> int:
        return sum(1 for m in self.state.members if m.stage in JOINED)


def _shown_state(member: rules.Member) -> tuple[object, ...]:
    """What the live state shows of a member, to publish when it changes."""
    return roster.shown(member), member.role, member.hand


class Rooms:
    """The rooms open on this node, by their wire name."""

    def __init__(self, switchboard: Switchboard, mixer: Mixer, live: LiveState, noise_gate: bool = False) -> None:
        self.switchboard, self.mixer, self.live = switchboard, mixer, live
        self.noise_gate = noise_gate
        self.by_name: dict[str, LiveRoom] = {}

    def get(self, name: str | None) -> LiveRoom | None:
        return None if name is None else self.by_name.get(name)

    def open(self, address: RoomAddress, template: rules.Room) -> LiveRoom:
        """The room at `address`, made from `template` unless it is open already."""
        room = self.by_name.get(str(address))
        if room is None:
            room = self.by_name[str(address)] = LiveRoom(address, template, self.switchboard, self.mixer, self.live,
                                                          self.noise_gate)
            self.live.room_event("started", room.number)  # its "ended" comes when it empties (BridgeNode.ended)
        return room

    def remove(self, room: LiveRoom) -> None:
        del self.by_name[room.number]

    def clear(self) -> None:
        self.by_name.clear()

    def __iter__(self) -> Iterator[LiveRoom]:
        return iter(list(self.by_name.values()))  # a copy: handling a room may close it

    def __len__(self) -> int:
        return len(self.by_name)
