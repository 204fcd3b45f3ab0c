"""Scheduled conferences on a bridge node: the worker's commands (start, end, extended, lock),
calling everyone at the start with rings that time out and retries, and telling the worker
when a conference empties. The node owns the calls; this keeps the schedule's bookkeeping."""

from __future__ import annotations

import heapq
import logging
import time
from typing import TYPE_CHECKING, Any

import redis

from bridge import sip
from conference import dialin
from conference import room as rules
from conference.rooms import RoomSettings
from conference.schedule import ROOM_PREFIX
from settings import ConferencesConfig
from store import live
from workers.meetings import enqueue_attendance, enqueue_emptied

if TYPE_CHECKING:
    from bridge.node import BridgeNode
    from bridge.rooms import LiveRoom

log = logging.getLogger("kamconf.bridge")

REPLAY_SECONDS = 60  # commands this recent are still carried out by a node that just started
SCHEDULE = "schedule"  # who dials for a scheduled conference: the room itself


def template(meeting: dict[str, Any], language: str) -> rules.Room:
    """The room of a scheduled conference (seed 001): greeting on answer, music until the owner."""
    settings = RoomSettings(ROOM_PREFIX + str(meeting["code"]), language=language,
                            greeting_sound_id=meeting.get("greeting_sound_id"),
                            wait_for_admin=True, music_on_hold=True, announce_count=False,
                            max_participants=int(meeting.get("max_participants") or 0))
    return rules.Room(settings, kind=rules.Kind.SCHEDULED, owner=meeting.get("owner"),
                      locked=bool(meeting.get("locked")))


class Meetings:
    def __init__(self, node: BridgeNode, settings: ConferencesConfig) -> None:
        self.node, self.settings = node, settings
        self.cursor = f"{int((time.time() - REPLAY_SECONDS) * 1000)}-0"
        self.rings: dict[int, float] = {}  # call key -> when its ringing ends unanswered
        self.attempts: dict[int, int] = {}  # call key -> which try it is
        self.redials: list[tuple[float, str, str, int]] = []  # (when, room, number, try)
        self.joined: set[str] = set()  # rooms where somebody has been in

    def poll(self, now: float) -> None:
        try:
            found = live.commands(self.node.client, self.node.config.id, self.cursor)
        except redis.RedisError as exc:
            log.error("redis: %s", exc)
            found = []
        for entry_id, fields in found:
            self.cursor = entry_id
            self.carry_out(fields)
        for key, deadline in list(self.rings.items()):
            call = self.node.calls.get(key)
            if call is None or call.answered_at is not None:
                self.rings.pop(key)
            elif now >= deadline:
                self.rings.pop(key)
                log.info("room %s: %s did not answer within %d s", call.room, call.caller, self.settings.ring_seconds)
                self.node.hangup(call)
        while self.redials and self.redials[0][0] <= now:
            _, room, number, attempt = heapq.heappop(self.redials)
            self.call(room, number, attempt)

    def carry_out(self, fields: dict[str, str]) -> None:
        op, code = fields.get("op"), fields.get("code", "")
        room = self.node.rooms.get(ROOM_PREFIX + code)
        log.info("conference %s: %s", code, op)
        if op == "start":
            self.start(code)
        elif room is None:
            return
        elif op == "end":
            room.feed(rules.Close("conference_over"))
        elif op == "extended":
            room.feed(rules.Announce("conference_extended"))
        elif op == "lock":
            room.feed(rules.SetLocked(fields.get("locked") == "1"))

    def start(self, code: str) -> None:
        meeting = self.node.ask(live.get_entry, live.MEETINGS, code, default=None)
        if not isinstance(meeting, dict):
            log.error("conference %s: not in the live state; not started", code)
            return
        room = self.node.open_room(ROOM_PREFIX + code, template(meeting, self.settings.language))
        if meeting.get("auto_invite", True):
            for number in meeting.get("numbers", []):
                self.call(room.number, str(number), 1)

    def call(self, room_name: str, number: str, attempt: int) -> None:
        meeting = self.node.ask(live.get_entry, live.MEETINGS, room_name[len(ROOM_PREFIX):], default=None)
        if not isinstance(meeting, dict):
            return  # the conference is over: no more calls for it
        room = self.node.open_room(room_name, template(meeting, self.settings.language))
        call = self.node.dial(room, number, SCHEDULE)
        if call is not None:
            self.rings[call.key] = time.monotonic() + self.settings.ring_seconds
            self.attempts[call.key] = attempt
        log.info("room %s: calling %s (try %d)", room_name, number, attempt)

    def ended(self, call: sip.RoomCall, status: int) -> None:
        """A scheduled call that was never answered is tried again, a few times."""
        attempt = self.attempts.pop(call.key, None)
        self.rings.pop(call.key, None)
        if attempt is None or call.answered_at is not None or not (call.room or "").startswith(ROOM_PREFIX):
            return
        room = self.node.rooms.get(call.room or "")
        dropped = room is not None and _dropped(room, call)
        if attempt <= self.settings.retries and not dropped:
            when = time.monotonic() + self.settings.retry_seconds
            heapq.heappush(self.redials, (when, call.room or "", call.caller, attempt + 1))
            log.warning("room %s: %s not reached (%d); trying again in %d s", call.room, call.caller, status,
                        self.settings.retry_seconds)
        else:
            log.warning("room %s: %s not reached (%d) after %d tries", call.room, call.caller, status, attempt)
        self.node.safely(live.room_event, "call_failed", call.room or "", number=call.caller, status=status,
                         attempt=attempt)

    def look_up(self, room: LiveRoom, member: str, code: str) -> None:
        """The dial-in service asks for a code: what the live state holds for it."""
        meeting = self.node.ask(live.get_entry, live.MEETINGS, code, default=None) if code else None
        room.feed(dialin.Looked(member, meeting if isinstance(meeting, dict) else None, time.time()))

    def transfer(self, service: LiveRoom, member: str, code: str, role: rules.Role) -> None:
        """Move a dial-in caller into its conference (on this node: the conferences run here)."""
        call = service.calls.get(member)
        meeting = self.node.ask(live.get_entry, live.MEETINGS, code, default=None)
        if call is None or call.ended:
            return
        if not isinstance(meeting, dict):
            service.feed(dialin.Looked(member, None, time.time()))  # it ended meanwhile
            return
        service.release(call)
        room = self.node.open_room(ROOM_PREFIX + code, template(meeting, self.settings.language))
        call.room = room.number
        log.info("room %s: %s came in by dial-in as %s", room.number, call.caller, role)
        room.arrive(call, room.state.settings, locked_out=False, role=role)

    def member_changed(self, room: LiveRoom, member: rules.Member, joined: bool, when: float) -> None:
        """Attendance (history) of scheduled conferences, filed by the worker."""
        if not room.number.startswith(ROOM_PREFIX):
            return
        if joined:
            self.joined.add(room.number)
        how = "called" if member.invited_by is not None else "dial-in"
        try:
            enqueue_attendance(self.node.queue_client, member.id, room.number[len(ROOM_PREFIX):], member.caller,
                               str(member.role), how, when, joined)
        except redis.RedisError as exc:
            log.error("attendance of %s not filed (%s)", member.caller, exc)

    def emptied(self, room: LiveRoom) -> None:
        """The last one left a scheduled conference somebody had been in: it is over (seed 001)."""
        if room.number.startswith(ROOM_PREFIX) and room.number in self.joined:
            self.joined.discard(room.number)
            try:
                enqueue_emptied(self.node.queue_client, room.number[len(ROOM_PREFIX):])
            except redis.RedisError as exc:
                log.error("conference %s: end not reported (%s); its end time ends it", room.number, exc)


def _dropped(room: LiveRoom, call: sip.RoomCall) -> bool:
    """Hung up by the room itself (the conference closed), not unanswered."""
    member = room.state.member(call.participant_id)
    return member is not None and member.stage == rules.Stage.LEAVING
