"""A bridge node: answers room calls, keeps each room's mix, registers itself in Redis.

The loop is the only thread that touches pjsua2. Callbacks queue events
(bridge/sip.py); the loop handles them, applies conference/ decisions and
keeps explicit references to every Call and player it hands to PJSIP.
"""

from __future__ import annotations

import heapq
import logging
import time
import uuid
import weakref
from collections import deque
from pathlib import Path

import pjsua2 as pj
import redis

from bridge import sip
from bridge.meetings import SCHEDULE, Meetings
from bridge.meetings import template as meeting_room
from bridge.inbound import Gate
from bridge.metrics import NodeMetrics
from bridge.players import PieceFiles, Prompt, PromptEnded
from bridge.recorder import recover
from bridge.rooms import DialRequest, LiveRoom
from conference import billing, dialin, numberplan
from conference import room as rules
from conference.extensions import ExtensionSettings
from conference.liveness import RxWatch, observe
from conference.numberplan import LOCAL_CONFERENCE, Caller, CallerKind, Refuse
from conference.placement import NodeStatus
from conference.rooms import RoomSettings
from conference.schedule import DIAL_IN_ROOM, ROOM_PREFIX
from conference.talking import Talk, observe_level
from settings import BridgeConfig, ConferencesConfig
from stack.sounds import ensure_music, ensure_silence
from store import live
from store.cdrs import spool
from workers.jobs import enqueue_cdr, enqueue_import

log = logging.getLogger("kamconf.bridge")

POLL_MS = 10
WATCH_INTERVAL = 2.0
LEVEL_INTERVAL = 0.2  # how often speech levels are sampled for talking / not talking
# A last prompt's final frames are still in jitter buffers when its player ends;
# hanging up at once would cut "Goodbye".
FAREWELL_DRAIN = 0.6
HANGUP_GRACE = 5.0
ANCHORED = "call-"  # rooms of calls anchored for "#" (kemi.routes names them)


def leg(room: rules.Room, inviter: rules.Member | None, number: str, first: bool) -> billing.Leg:
    """How a dialled leg is billed (seed 002): a "#" call's original call and every number it
    adds are outgoing calls of the employee; a *8 invitation is the inviter's; a scheduled
    conference's calls are its owner's."""
    if room.kind == rules.Kind.SCHEDULED and inviter is None:
        return billing.Leg(room.settings.number, billing.LegKind.SCHEDULED, room.settings.number, number,
                           room.owner or "")
    extension = inviter.extension if inviter and inviter.extension else ""
    caller = extension or (inviter.caller if inviter else "")
    if room.kind != rules.Kind.CALL:
        return billing.Leg(room.settings.number, billing.LegKind.INVITED, caller, number, extension)
    if first:
        return billing.Leg(room.settings.number, billing.LegKind.ORIGINAL, caller, number,
                           extension if room.controller_is_caller else "")
    return billing.Leg(room.settings.number, billing.LegKind.ADDED, caller, number, extension)


class BridgeNode:
    def __init__(self, config: BridgeConfig, client: redis.Redis, queue_client: redis.Redis, sounds: Path,
                 recordings: Path, metrics: NodeMetrics, proxy: str, cdrs: Path, gate: Gate,
                 conferences: ConferencesConfig | None = None) -> None:
        self.config = config
        self.proxy = proxy  # Kamailio's host:port: every call this node makes goes through it
        self.client = client
        self.queue_client = queue_client  # RQ needs undecoded replies
        self.metrics = metrics
        self.events: deque[object] = deque()
        self.endpoint = sip.start_endpoint(config)
        self.account = sip.create_account(config, self.events, gate)
        self.music = sip.create_music(str(ensure_music(sounds, config.clock_rate)))
        self.silence = sip.create_music(str(ensure_silence(sounds, config.clock_rate)))
        self.files = PieceFiles(config.clock_rate, sounds / "library", sounds / "names")
        self.recordings = recordings
        self.cdrs = cdrs
        for recording_id in recover(recordings):
            log.warning("recording %s was left running by a stopped node; completed it", recording_id)
            self.file_recording(recording_id)
        self.calls: dict[int, sip.RoomCall] = {}  # every call PJSIP knows of, by call id
        self.rooms: dict[str, LiveRoom] = {}
        self.watches: dict[int, RxWatch] = {}
        self.talks: dict[int, Talk] = {}
        self.farewells: list[tuple[float, sip.RoomCall]] = []  # (when, call) to hang up
        # (when, tie-breaker, prompt): weak, so a prompt replaced early stops playing at once
        self.prompt_ends: list[tuple[float, int, weakref.ref[Prompt]]] = []
        self.prompt_count = 0
        self.stopping = False
        self.meetings = Meetings(self, conferences or ConferencesConfig())

    # The loop ------------------------------------------------------------------

    def run(self) -> None:
        self.heartbeat()
        next_beat = next_watch = next_level = time.monotonic()
        while not self.stopping:
            self.endpoint.libHandleEvents(POLL_MS)
            self.drain()
            now = time.monotonic()
            if now >= next_beat:
                self.heartbeat()
                next_beat = now + self.config.heartbeat_interval
            if now >= next_watch:
                self.drop_silent_legs(now)
                next_watch = now + WATCH_INTERVAL
            if now >= next_level:
                self.sample_talking(now)
                self.tick_rooms(now)
                self.meetings.poll(now)
                next_level = now + LEVEL_INTERVAL
            if self.farewells and self.farewells[0][0] <= now:
                self.hangup(self.farewells.pop(0)[1])
            if self.prompt_ends and self.prompt_ends[0][0] <= now:
                self.end_prompts(now)
        self.shutdown()

    def drain(self) -> None:
        while self.events:
            event = self.events.popleft()
            try:
                self.handle(event)
            except pj.Error as exc:  # one call's failure must not stop the node
                log.error("pjsua2 error on %s: %s", type(event).__name__, exc.info())
            except Exception:  # nor a missing file or a bug in one room's handling
                log.exception("failed to handle %s", type(event).__name__)

    def tick_rooms(self, now: float) -> None:
        for room in list(self.rooms.values()):
            try:
                room.tick(now)
            except pj.Error as exc:
                log.error("room %s: pjsua2 error on tick: %s", room.number, exc.info())
            except Exception:  # one room's failure must not stop the node
                log.exception("room %s: tick failed", room.number)

    def handle(self, event: object) -> None:
        if isinstance(event, sip.Incoming):
            self.incoming(event)
        elif isinstance(event, sip.MediaReady):
            self.media_ready(event.call)
        elif isinstance(event, sip.Ended):
            self.ended(event)
        elif isinstance(event, DialRequest):
            if (room := self.rooms.get(event.room)) is not None:
                self.dial(room, event.number, event.by)
        elif isinstance(event, dialin.Lookup) and (service := self.rooms.get(DIAL_IN_ROOM)) is not None:
            self.meetings.look_up(service, event.member, event.code)
        elif isinstance(event, dialin.Transfer) and (service := self.rooms.get(DIAL_IN_ROOM)) is not None:
            self.meetings.transfer(service, event.member, event.code, event.role)
        elif isinstance(event, sip.Answered):
            if (room := self.rooms.get(event.call.room or "")) is not None:
                room.answered(event.call)
        elif isinstance(event, sip.Digit):
            if (room := self.rooms.get(event.call.room or "")) is not None:
                room.digit(event.call, event.digit, event.method, time.monotonic())
        elif isinstance(event, PromptEnded):
            for room in self.rooms.values():
                room.prompt_ended(event.player)

    # Call events ---------------------------------------------------------------

    def incoming(self, event: sip.Incoming) -> None:
        call = event.call
        call_id = call.key
        self.calls[call_id] = call
        call.room, call.caller, call.extension, call.name = event.room, event.caller, event.extension, event.name
        answer = pj.CallOpParam()
        if event.refused:
            answer.statusCode = event.refused
            log.warning("refused a call from %s: %d (not vouched for by Kamailio)", event.source, event.refused)
        elif event.room is None or not self.may_enter(event.room, event.anchor is not None, event.extension):
            answer.statusCode = 404
        elif self.stopping or len(self.calls) > self.config.capacity:
            answer.statusCode = 503
            log.warning("node full or stopping (%d calls): refusing %s", len(self.calls), event.caller)
        elif event.anchor is not None:
            self.anchored_call(call, event.anchor)
            return
        else:
            answer.statusCode = 200
        self.metrics.call("answered" if answer.statusCode == 200 else f"refused_{answer.statusCode}")
        call.answer(answer)

    def may_enter(self, room: str, anchored: bool, extension: str | None) -> bool:
        """A local conference exists once its owner opened it; only then may others join.
        A "#" call's room is made by its first INVITE only, which says what to call."""
        if room.startswith(ANCHORED) or anchored:
            return room.startswith(ANCHORED) and anchored and room not in self.rooms
        return not room.startswith(LOCAL_CONFERENCE) or room in self.rooms or extension == room[2:]

    def anchored_call(self, call: sip.RoomCall, anchor: tuple[str, bool]) -> None:
        """A "#" call (seed 002): it rings while the room calls the number it dialled."""
        ringing = pj.CallOpParam()
        ringing.statusCode = 180
        call.answer(ringing)
        self.metrics.call("anchored")
        number, controller_is_caller = anchor
        state = rules.Room(RoomSettings(call.room or ""), kind=rules.Kind.CALL, anchor=number,
                           controller_is_caller=controller_is_caller)
        self.open_room(call.room or "", state).arrive(call, state.settings, locked_out=False)

    def answer(self, call: sip.RoomCall) -> None:
        if call.ended:
            return
        ok = pj.CallOpParam()
        ok.statusCode = 200
        try:
            call.answer(ok)
        except pj.Error as exc:
            log.error("answer failed: %s", exc.info())

    def media_ready(self, call: sip.RoomCall) -> None:
        if call.ended or call.room is None or call.audio() is None:
            return
        room = self.rooms.get(call.room)
        if room is not None and call.participant_id in room.calls:
            self.watch(call)
            room.media(call)
            return
        template = self.room_template(call.room)
        if template is None:
            log.warning("room %s no longer exists; hanging up %s", call.room, call.caller)
            self.hangup(call, 404)
            return
        room = self.open_room(call.room, template)
        self.watch(call)
        locked = self.ask(live.pin_locked, call.room, call.caller, default=False)
        room.arrive(call, template.settings, locked_out=bool(locked))

    def open_room(self, number: str, template: rules.Room) -> LiveRoom:
        room = self.rooms.get(number)
        if room is None:
            room = self.rooms[number] = LiveRoom(number, template, self)
        return room

    def watch(self, call: sip.RoomCall) -> None:
        """From its first media on, a call without RTP for rtp_timeout is dropped."""
        if call.key not in self.watches:
            self.watches[call.key] = RxWatch(since=time.monotonic())
            self.talks[call.key] = Talk()

    def room_template(self, number: str) -> rules.Room | None:
        """An empty room as the API last wrote it (a local conference: as its owner's extension
        says); Redis down: the settings in use, else defaults. None: no such room."""
        if number.startswith(LOCAL_CONFERENCE):
            return self.local_conference(number)
        if number.startswith(ROOM_PREFIX):
            meeting = self.ask(live.get_entry, live.MEETINGS, number[len(ROOM_PREFIX):], default=None)
            return meeting_room(meeting, self.meetings.settings.language) if isinstance(meeting, dict) else None
        if number == DIAL_IN_ROOM:
            return rules.Room(RoomSettings(number, language=self.meetings.settings.language), kind=rules.Kind.DIAL_IN)
        projected = self.ask(live.get_entry, live.ROOMS, number, default=...)
        if projected is ...:
            room = self.rooms.get(number)
            return rules.Room(room.state.settings if room else RoomSettings(number))
        if not isinstance(projected, dict):
            return None
        return rules.Room(RoomSettings.from_dict(projected))

    def local_conference(self, number: str) -> rules.Room | None:
        owner = number[len(LOCAL_CONFERENCE):]
        room = self.rooms.get(number)
        projected = self.ask(live.get_entry, live.EXTENSIONS, owner, default=...)
        if projected is ...:
            return room.state if room else None
        if not isinstance(projected, dict):
            return None
        extension = ExtensionSettings.from_dict(projected)
        # Seed 003: a PIN for guests, ending with the owner, names spoken instead of plain notices.
        settings = RoomSettings(number, language=extension.language, user_pin=extension.conference_pin,
                                end_on_admin_exit=extension.conference_end_on_exit, announce_count=False,
                                mute_notifications=not extension.conference_announce_caller_name)
        return rules.Room(settings, kind=rules.Kind.LOCAL, owner=owner,
                          announce_names=extension.conference_announce_caller_name)

    def dial(self, room: LiveRoom, number: str, by: str) -> sip.RoomCall | None:
        """Call `number` into the room for member `by` (or for the room itself: SCHEDULE), through
        Kamailio, if `by` may reach it. The call, or None if it could not be made."""
        call = sip.RoomCall(self.account)
        call.room, call.caller = room.number, number
        state = room.state
        # A "#" call's first dial is the number its caller dialled, which Kamailio already allowed;
        # a scheduled conference calls the people its owner listed.
        first = state.kind == rules.Kind.CALL and None in (state.customer, state.controller)
        inviter = state.member(by)
        call.leg = leg(state, inviter, number, first)
        decision = self.allowed(inviter, number, on_behalf=not (first or by == SCHEDULE))
        if isinstance(decision, Refuse):
            log.warning("room %s: %s may not invite %s (%d)", room.number, by, number, decision.code)
            self.not_dialled(room, call, by, decision.code)
            return None
        try:
            call.dial(f"sip:{number}@{self.proxy}")
        except pj.Error as exc:
            log.error("room %s: cannot dial %s: %s", room.number, number, exc.info())
            self.not_dialled(room, call, by, 503)
            return None
        self.calls[call.key] = call
        self.metrics.call("dialled")
        room.invited(call, by, decision.number if isinstance(decision, numberplan.ToExtension) else None)
        return call

    def not_dialled(self, room: LiveRoom, call: sip.RoomCall, by: str, status: int) -> None:
        """A call that never went out fails like one refused at once: the room says why, and it is billed."""
        room.invited(call, by)
        room.leave(call, status)
        self.bill(call, status)

    def allowed(self, inviter: rules.Member | None, number: str, on_behalf: bool = True) -> numberplan.Decision:
        """The number plan as for the inviting extension calling `number` itself: no toll fraud by
        *8 or #. Not `on_behalf`: as for this node (a number Kamailio already allowed)."""
        try:
            directory = live.Directory(self.client)
            if not on_behalf:
                return numberplan.decide(Caller(CallerKind.BRIDGE), number, directory)
            extension = directory.extension(inviter.extension) if inviter and inviter.extension else None
            if extension is None:
                return numberplan.FORBIDDEN
            return numberplan.decide(Caller(CallerKind.EXTENSION, extension), number, directory)
        except redis.RedisError as exc:
            log.error("redis: %s", exc)
            return Refuse(503, "Service Unavailable")

    def ended(self, event: sip.Ended) -> None:
        call = event.call
        call_id = call.key
        if self.calls.get(call_id) is not call:
            return
        del self.calls[call_id]
        self.watches.pop(call_id, None)
        self.talks.pop(call_id, None)
        self.bill(call, event.status)
        room = self.rooms.get(call.room or "")
        if room is None:
            return
        log.info("room %s: %s hung up (%d, %s)", room.number, call.caller, event.status, event.reason)
        self.meetings.ended(call, event.status)
        room.leave(call, event.status)
        if room.empty:
            self.meetings.emptied(room)
            room.close()
            del self.rooms[room.number]
            self.safely(live.room_event, "ended", room.number, node=self.config.id)
            if room.number != DIAL_IN_ROOM:  # the scheduled conferences' home stays here
                self.safely(live.release_affinity, room.number, self.config.id)

    def sample_talking(self, now: float) -> None:
        for room in self.rooms.values():
            for member, call in room.members_in():
                audio = call.audio()
                if audio is None or call.key not in self.talks:
                    continue
                # pjsua2 names levels from the port's side: "tx" is what the caller sends into the mix.
                talk, changed = observe_level(self.talks[call.key], audio.getTxLevel(), now)
                self.talks[call.key] = talk
                if changed:
                    self.safely(live.room_event, "talking" if talk.talking else "not_talking", room.number,
                                participant=member)

    def drop_silent_legs(self, now: float) -> None:
        for room in list(self.rooms.values()):
            for call in list(room.calls.values()):
                call_id = call.key
                if call_id not in self.watches:
                    continue
                watch, silent = observe(self.watches[call_id], call.rx_packets(), now, self.config.rtp_timeout)
                self.watches[call_id] = watch
                if silent and not call.ended:
                    log.warning("room %s: no RTP from %s for %.0f s; hanging up",
                                room.number, call.caller, self.config.rtp_timeout)
                    self.metrics.dropped.inc()
                    self.hangup(call, 408)

    def file_recording(self, recording_id: str) -> None:
        """Have the worker import it into SQL; if Redis is down, the next bootstrap does."""
        try:
            enqueue_import(self.queue_client, recording_id)
        except redis.RedisError as exc:
            log.error("recording %s not queued for filing (%s); the next start files it", recording_id, exc)

    def end_prompts(self, now: float) -> None:
        # A method of its own so no local of the loop keeps a player alive past libDestroy.
        while self.prompt_ends and self.prompt_ends[0][0] <= now:
            prompt = heapq.heappop(self.prompt_ends)[2]()
            if prompt is not None:
                self.events.append(PromptEnded(prompt))

    def expect_end(self, prompt: Prompt) -> None:
        self.prompt_count += 1
        heapq.heappush(self.prompt_ends, (time.monotonic() + prompt.seconds, self.prompt_count, weakref.ref(prompt)))

    def has_free_port(self) -> bool:
        """Room in the mixer for one more player (a few spare for music and recorders)."""
        return int(self.endpoint.mediaActivePorts()) + 4 < int(self.endpoint.mediaMaxPorts())

    def hangup_soon(self, call: sip.RoomCall) -> None:
        self.farewells.append((time.monotonic() + FAREWELL_DRAIN, call))

    def bill(self, call: sip.RoomCall, status: int) -> None:
        """A dialled leg ended: its call detail record, spooled to a file first so none is lost."""
        if call.leg is None:
            return
        cdr = billing.record(call.leg, uuid.uuid4().hex, self.config.id, status, call.started_at, call.answered_at,
                             time.time(), call.cancelled)
        try:
            spool(self.cdrs, cdr)
        except OSError as exc:
            log.error("call record of %s not written: %s (%s)", call.caller, exc, cdr)
            return
        try:
            enqueue_cdr(self.queue_client, str(cdr["id"]))
        except redis.RedisError as exc:
            log.error("call record %s not queued for filing (%s); the next start files it", cdr["id"], exc)

    def hangup(self, call: sip.RoomCall, status: int = 200) -> None:
        if call.ended:
            return
        call.cancelled = call.outgoing and call.answered_at is None
        param = pj.CallOpParam()
        param.statusCode = status
        try:
            call.hangup(param)
        except pj.Error as exc:
            log.error("hangup failed: %s", exc.info())

    # Registry ------------------------------------------------------------------

    def status(self) -> NodeStatus:
        c = self.config
        return NodeStatus(id=c.id, address=c.address, port=c.sip_port, capacity=c.capacity, load=len(self.calls))

    def heartbeat(self) -> None:
        self.metrics.rooms.set(len(self.rooms))
        self.metrics.participants.set(sum(len(room.calls) for room in self.rooms.values()))
        self.metrics.capacity.set(self.config.capacity)
        self.safely(live.heartbeat, self.status(), self.config.heartbeat_ttl)

    def safely(self, func: object, *args: object, **kwargs: object) -> None:
        """Redis is down: keep mixing the calls we have (events of the outage are lost)."""
        self.ask(func, *args, default=None, **kwargs)

    def ask(self, func: object, *args: object, default: object, **kwargs: object) -> object:
        try:
            return func(self.client, *args, **kwargs)  # type: ignore[operator]
        except redis.RedisError as exc:
            log.error("redis: %s", exc)
            return default

    # Shutdown ------------------------------------------------------------------

    def hangup_all(self) -> None:
        # A method of its own so no local keeps a Call alive past libDestroy.
        for call in list(self.calls.values()):
            if not call.ended:
                self.hangup(call)

    def shutdown(self) -> None:
        """Deregister first (no new calls), send BYE to every call, then free PJSIP."""
        self.safely(live.deregister, self.config.id)
        self.hangup_all()
        deadline = time.monotonic() + HANGUP_GRACE
        while self.calls and time.monotonic() < deadline:
            self.endpoint.libHandleEvents(POLL_MS)
            self.drain()
        for number in list(self.rooms):
            self.safely(live.release_affinity, number, self.config.id)
        # PJSIP asserts if a Call or player outlives the library.
        self.rooms.clear()
        self.calls.clear()
        self.farewells.clear()
        self.prompt_ends.clear()
        self.events.clear()
        del self.music, self.silence
        self.account.shutdown()
        del self.account
        self.endpoint.libDestroy()
