"""One room on a bridge node: feeds conference.room, carries out its effects on pjsua2.

The decisions (who is let in, who hears what, which prompt) are conference/room.py's;
this class only turns them into players, links and hang-ups, and reports
who is in the room to Redis.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pjsua2 as pj

from bridge import sip
from bridge.players import Prompt
from bridge.recorder import SessionRecording
from conference import consult, dialin, keypad
from conference import room as rules
from conference.mixing import MUSIC, Link, link_changes
from conference.rooms import RoomSettings
from store import live

if TYPE_CHECKING:
    from bridge.node import BridgeNode

log = logging.getLogger("kamconf.bridge")

JOINED = (rules.Stage.WAITING, rules.Stage.IN_CONFERENCE)


@dataclass(frozen=True)
class DialRequest:
    room: str
    number: str
    by: str  # member id


class LiveRoom:
    def __init__(self, number: str, state: rules.Room, node: BridgeNode) -> None:
        self.number = number
        self.node = node
        self.state = state
        self.calls: dict[str, sip.RoomCall] = {}  # by member (participant) id
        self.keypads: dict[str, keypad.Keypad] = {}  # feature codes being typed, by member
        # A "#" call has rules of its own (conference.consult); every other room, conference.room's.
        anchored = state.kind == rules.Kind.CALL
        rulebook: Any = {rules.Kind.CALL: consult, rules.Kind.DIAL_IN: dialin}.get(state.kind, rules)
        self.transition = rulebook.transition
        self.rules_links = rulebook.links
        self.keys = keypad.KeyMap.CONSULT if anchored else keypad.KeyMap.CONFERENCE
        self.links: frozenset[Link] = frozenset()
        self.prompts: dict[str, Prompt] = {}  # what each member in the IVR hears now
        self.overlays: list[Prompt] = []  # notices over the mix, until they end
        self.recording: SessionRecording | None = None

    @property
    def empty(self) -> bool:
        return not self.calls

    def arrive(self, call: sip.RoomCall, settings: RoomSettings, locked_out: bool,
               role: rules.Role | None = None) -> None:
        self.calls[call.participant_id] = call
        self.state = dataclasses.replace(self.state, settings=settings)
        log.info("room %s: %s arrived as %s%s", self.number, call.caller, call.participant_id,
                 " (locked out)" if locked_out else "")
        self.feed(rules.Arrived(call.participant_id, call.caller, locked_out, call.extension, call.name, role))

    def release(self, call: sip.RoomCall) -> None:
        """The call leaves this room for another, still up (the dial-in service's callers)."""
        member = call.participant_id
        if self.calls.pop(member, None) is None:
            return
        self.prompts.pop(member, None)
        self.links = frozenset(link for link in self.links if member not in link)
        self.feed(rules.Left(member))

    def invited(self, call: sip.RoomCall, by: str, extension: str | None = None) -> None:
        """The node dialled `call` for member `by`; it joins on early media or answer."""
        self.calls[call.participant_id] = call
        log.info("room %s: %s invited by %s", self.number, call.caller, by)
        self.feed(rules.Invited(call.participant_id, call.caller, by, extension))

    def media(self, call: sip.RoomCall) -> None:
        member = self.state.member(call.participant_id)
        if member is not None and member.stage == rules.Stage.RINGING:
            self.feed(rules.Connected(member.id, answered=False))
        else:
            self.reconnect(call)

    def answered(self, call: sip.RoomCall) -> None:
        self.feed(rules.Connected(call.participant_id, answered=True))

    def reconnect(self, call: sip.RoomCall) -> None:
        """A re-INVITE may have given the call a new mixer port: connect it afresh."""
        member = call.participant_id
        self.links = frozenset(link for link in self.links if member not in link)
        audio = call.audio()
        if member in self.prompts and audio is not None:
            self.prompts[member].play_to(audio)
        self.remix()

    def leave(self, call: sip.RoomCall, status: int) -> None:
        member = call.participant_id
        if self.calls.pop(member, None) is None:
            return
        self.prompts.pop(member, None)
        self.keypads.pop(member, None)
        # The mixer dropped the gone port already; only forget its links.
        self.links = frozenset(link for link in self.links if member not in link)
        self.feed(rules.Left(member, status), left_status=status)

    def feed(self, event: rules.Event | dialin.Looked, left_status: int = 0) -> None:
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

    def carry_out(self, effect: rules.Effect | dialin.Lookup | dialin.Transfer) -> None:
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
                self.node.hangup_soon(self.calls[effect.member])
        elif isinstance(effect, rules.PinFailed):
            self.node.safely(live.pin_failed, self.number, effect.caller)
        elif isinstance(effect, rules.Answer):
            if effect.member in self.calls:
                self.node.answer(self.calls[effect.member])
        elif isinstance(effect, rules.Reject):
            if effect.member in self.calls:
                self.node.hangup(self.calls[effect.member], effect.status if effect.status >= 300 else 480)
        elif isinstance(effect, dialin.Lookup | dialin.Transfer):
            self.node.events.append(effect)  # after this transition: both feed rooms again
        elif isinstance(effect, rules.Dial):
            # After this transition is carried out, not within it: dialling feeds the room again.
            self.node.events.append(DialRequest(self.number, effect.number, effect.by))

    def play(self, pieces: tuple[str, ...], calls: list[sip.RoomCall], member: str, overlay: bool) -> Prompt:
        files = self.node.files.resolve(pieces, self.state.settings.language)
        if not self.node.has_free_port():
            log.error("room %s: mixer full, prompt %s not played", self.number, "+".join(pieces))
            files = []  # PJSIP aborts the process when its mixer is out of ports
        prompt = Prompt(files, member, overlay)
        for call in calls:
            audio = call.audio()
            if audio is not None:
                prompt.play_to(audio)
        self.node.expect_end(prompt)
        return prompt

    def prompt_ended(self, prompt: Prompt) -> None:
        if prompt.overlay:
            self.overlays = [p for p in self.overlays if p is not prompt]
        elif self.prompts.get(prompt.member) is prompt:
            del self.prompts[prompt.member]
            self.feed(rules.PromptDone(prompt.member))

    def digit(self, call: sip.RoomCall, digit: str, method: str, now: float) -> None:
        settings = self.state.settings
        # In a room with PINs a digit may be part of one: never write it to the log.
        shown = "a key" if settings.user_pin or settings.admin_pin else digit
        log.info("room %s: %s pressed %s (%s)", self.number, call.caller, shown, method)
        member = self.state.member(call.participant_id)
        if member is None or member.stage != rules.Stage.IN_CONFERENCE:
            self.feed(rules.Digit(call.participant_id, digit))
            return
        pad, commands = keypad.press(self.keypads.get(member.id, keypad.Keypad(self.keys)), digit, now)
        self.keypads[member.id] = pad
        self.press(member.id, commands)

    def tick(self, now: float) -> None:
        """Feature codes that silence completes (a number after *8)."""
        for member_id, pad in list(self.keypads.items()):
            pad, command = keypad.expire(pad, now)
            self.keypads[member_id] = pad
            self.press(member_id, [command] if command else [])

    def press(self, member_id: str, commands: list[keypad.Command]) -> None:
        for command in commands:
            log.info("room %s: %s", self.number, type(command).__name__)
            self.feed(rules.Pressed(member_id, command))

    def remix(self) -> None:
        """Make the mixer's links what the rules want. A call whose media is already gone (its
        hang-up is still queued) has no port: its links are simply not there."""
        wanted = self.rules_links(self.state)
        stop, start = link_changes(self.links, wanted)
        for src, dst in stop:
            source, sink = self.port(src), self.port(dst)
            if source is not None and sink is not None:
                source.stopTransmit(sink)
        missing = set()
        for src, dst in start:
            source, sink = self.port(src), self.port(dst)
            if source is not None and sink is not None:
                source.startTransmit(sink)
            else:
                missing.add((src, dst))
        self.links = wanted - missing

    def record(self) -> None:
        """With `record` on, the session runs from the first entry to the room's end."""
        ports = {m.id: (m.caller, self.port(m.id)) for m in self.state.at(rules.Stage.IN_CONFERENCE)}
        inside = {member: (caller, port) for member, (caller, port) in ports.items() if port is not None}
        if self.recording is None and inside and self.state.settings.record and self.node.has_free_port():
            self.recording = SessionRecording(self.node.recordings, self.number, self.node.config.id)
            log.info("room %s: recording %s", self.number, self.recording.id)
        if self.recording is not None:
            self.recording.follow(inside)

    def close(self) -> None:
        """The room is empty: finish its recording, if any, and have it filed."""
        if self.recording is not None:
            meta = self.recording.close()
            self.recording = None
            log.info("room %s: recording %s finished", self.number, meta["id"])
            self.node.file_recording(meta["id"])

    def port(self, name: str) -> pj.AudioMedia | None:
        if name == MUSIC:
            return self.node.music
        if name == rules.SILENCE:
            return self.node.silence
        call = self.calls.get(name)
        return None if call is None else call.audio()

    def members_in(self) -> list[tuple[str, sip.RoomCall]]:
        return [(m.id, self.calls[m.id]) for m in self.state.at(rules.Stage.IN_CONFERENCE) if m.id in self.calls]

    # Who is in the room, for the panel, metrics and history -------------------------

    def report(self, before: dict[str, rules.Member], left_status: int) -> None:
        after = {m.id: m for m in self.state.members}
        for member_id, old in before.items():
            new = after.get(member_id)
            # Sent away (ended, dropped) counts as gone now, not when the hang-up completes.
            if old.stage in JOINED and (new is None or new.stage not in JOINED):
                self.node.meetings.member_changed(self, old, joined=False, when=time.time())
                self.node.safely(live.remove_participant, self.number, member_id)
                self.node.safely(live.room_event, "left", self.number, participant=member_id,
                                 caller=old.caller, status=left_status, present=self.present)
        for member_id, new in after.items():
            was = before.get(member_id)
            if new.stage in JOINED and (was is None or (was.stage, was.role, was.muted) != (new.stage, new.role,
                                                                                          new.muted)):
                self.publish(new, joined=was is None or was.stage not in JOINED)
                if was is not None and was.muted != new.muted:
                    self.node.safely(live.room_event, "muted" if new.muted else "unmuted", self.number,
                                     participant=new.id)

    def publish(self, member: rules.Member, joined: bool) -> None:
        call = self.calls[member.id]
        if joined:
            call.joined_at = time.time()
            self.node.meetings.member_changed(self, member, joined=True, when=call.joined_at)
            self.node.safely(live.room_event, "joined", self.number, participant=member.id, caller=member.caller,
                             role=str(member.role), present=self.present)
            log.info("room %s: %s joined as %s (%d present)", self.number, member.caller, member.role,
                     self.present)
        state = "muted" if member.muted else str(member.stage)
        participant = {"id": member.id, "caller": member.caller, "role": str(member.role), "state": state,
                       "joined_at": call.joined_at, "node": self.node.config.id}
        self.node.safely(live.put_participant, self.number, member.id, participant)

    @property
    def present(self) -> int:
        return sum(1 for m in self.state.members if m.stage in JOINED)
