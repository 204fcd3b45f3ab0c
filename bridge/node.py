"""A bridge node: answers room calls, keeps each room's mix, registers itself in Redis.

The loop is the only thread that touches pjsua2. Callbacks queue events
(bridge/sip.py); the loop hands them to the rooms (bridge/rooms.py), which carry
out conference/ decisions through the node's calls, the mixer (bridge/mixer.py)
and Redis (bridge/redis_state.py). The node keeps an explicit reference to every
Call it hands to PJSIP, the mixer to every player.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pjsua2 as pj
import redis

from bridge import sip
from bridge.edge import Callback, Dialled, DialRequest, Leg, Request, Rights
from bridge.inbound import Gate
from bridge.meetings import Meetings
from bridge.metrics import NodeMetrics
from bridge.mixer import BridgeMixer
from bridge.players import PromptEnded
from bridge.quality import SLICES, CallQuality, LoopClock, count_by_kind, room_figures
from bridge.recorder import recover
from bridge.redis_state import TOO_MANY, RedisState
from bridge.rooms import RULED, LiveRoom, Rooms
from conference import address, billing, dialin, gain, identity, menus, numberplan, vouch
from conference import gate as noise_gate
from conference import room as rules
from conference.address import Kind, RoomAddress
from conference.liveness import RxWatch, observe
from conference.numberplan import Refuse
from conference.placement import NodeStatus
from conference.quality import Figures, Summary
from conference.rooms import RoomSettings
from conference.talking import Talk, observe_level
from settings import BridgeConfig, ConferencesConfig

log = logging.getLogger("kamconf.bridge")

POLL_MS = 10
WATCH_INTERVAL = 2.0
LEVEL_INTERVAL = 0.2  # how often speech levels are sampled for talking / not talking
# A last prompt's final frames are still in jitter buffers when its player ends;
# hanging up at once would cut "Goodbye".
FAREWELL_DRAIN = 0.6
HANGUP_GRACE = 5.0


class BridgeNode:
    def __init__(self, config: BridgeConfig, client: redis.Redis, queue_client: redis.Redis, sounds: Path,
                 recordings: Path, metrics: NodeMetrics, proxy: str, cdrs: Path, gate: Gate,
                 conferences: ConferencesConfig | None = None) -> None:
        self.config = config
        self.proxy = proxy  # Kamailio's host:port: every call this node makes goes through it
        conferences = conferences or ConferencesConfig()
        self.numbers = identity.Numbers(conferences.caller_id or conferences.dial_in,
                                        consult_shows_customer=conferences.consult_caller_id == identity.CUSTOMER)
        self.live = RedisState(client, queue_client, config.id, cdrs, config.originations_per_minute,
                               conferences.operator_outside_calls, conferences.dial_in)
        self.metrics = metrics
        self.events: deque[object] = deque()
        self.endpoint = sip.start_endpoint(config)
        self.account = sip.create_account(config, self.events, gate)
        self.mixer = BridgeMixer(self.endpoint, config.clock_rate, sounds, recordings, config.id)
        for recording_id in recover(recordings, config.id):
            log.warning("recording %s was left running by a stopped node; completed it", recording_id)
            self.live.file_recording(recording_id)
        self.live.close_left_open()
        self.live.forget_recordings()  # what a stopped node said it was recording
        self.calls: dict[int, sip.RoomCall] = {}  # every call PJSIP knows of, by call id
        self.rooms = Rooms(self, self.mixer, self.live, config.noise_gate)
        self.watches: dict[int, RxWatch] = {}
        self.talks: dict[int, Talk] = {}
        self.gains: dict[int, gain.Gain] = {}  # automatic gain of each leg's voice ([bridge] agc)
        self.gates: dict[int, noise_gate.LegGate] = {}  # noise gate of each leg's voice ([bridge] noise_gate)
        # Calls back ringing: (where to put through, whose account, until when).
        self.callbacks: dict[int, tuple[str, str | None, float]] = {}
        self.ring_seconds = conferences.ring_seconds
        self.farewells: list[tuple[float, Leg]] = []  # (when, call) to hang up
        self.quality, self.clock = CallQuality(metrics), LoopClock(metrics, POLL_MS)
        self.stopping = False
        self.meetings = Meetings(self, self.live, self.rooms, conferences or ConferencesConfig(), self.metrics.ring)

    # The loop ------------------------------------------------------------------

    def run(self) -> None:
        self.heartbeat()
        next_beat = next_watch = next_level = next_quality = next_gate = time.monotonic()
        while not self.stopping:
            self.endpoint.libHandleEvents(POLL_MS)
            self.drain()
            now = time.monotonic()
            self.clock.turn(now)
            if now >= next_beat:
                self.step("heartbeat", self.heartbeat)
                next_beat = now + self.config.heartbeat_interval
            if now >= next_watch:
                self.step("RTP watch", self.drop_silent_legs, now)
                next_watch = now + WATCH_INTERVAL
            if now >= next_level:
                self.step("talk levels", self.sample_talking, now)
                self.tick_rooms(now)
                self.step("scheduled conferences", self.meetings.poll, now)
                next_level = now + LEVEL_INTERVAL
            if now >= next_gate and self.config.noise_gate:
                self.step("noise gate", self.sample_gates, now)
                next_gate = now + noise_gate.SAMPLE_INTERVAL
            if now >= next_quality and self.config.quality_interval > 0:
                self.step("call quality", self.sample_quality)
                next_quality = now + self.config.quality_interval / SLICES
            if self.farewells and self.farewells[0][0] <= now:
                self.step("farewell", self.hangup, self.farewells.pop(0)[1])
            self.step("prompt ends", self.end_prompts, now)
        self.shutdown()

    def step(self, what: str, action: Callable[..., object], *args: Any) -> None:
        """One periodic step of the loop: its failure (a bug, a malformed entry in Redis) is logged,
        and the loop, with every call it carries, goes on."""
        try:
            action(*args)
        except pj.Error as exc:
            log.error("%s: pjsua2 error: %s", what, exc.info())
        except Exception:
            log.exception("%s failed", what)

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
        for key, (_, _, deadline) in list(self.callbacks.items()):
            if now >= deadline and (call := self.calls.get(key)) is not None:
                log.info("call back %s: no answer within %d s", call.caller, self.ring_seconds)
                self.hangup(call)
        for room in self.rooms:
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
                room.dial(event.number, event.by)
        elif isinstance(event, dialin.Lookup) and (service := self.rooms.get(str(address.DIAL_IN))) is not None:
            self.meetings.look_up(service, event.member, event.code)
        elif isinstance(event, dialin.Transfer) and (service := self.rooms.get(str(address.DIAL_IN))) is not None:
            self.meetings.transfer(service, event.member, event.code, event.role)
        elif isinstance(event, Callback):
            self.call_back(event)
        elif isinstance(event, menus.Forward):
            for room in self.rooms:
                if room.address.kind == Kind.MENU and event.member in room.calls:
                    self.forward(room, event)
                    break
        elif isinstance(event, dialin.Forward) and (service := self.rooms.get(str(address.DIAL_IN))) is not None:
            if (leg := service.calls.get(event.leg)) is not None:
                self.send_digit(leg, event.digit)
        elif isinstance(event, sip.Answered):
            self.bill(event.call, 200, ended=False)
            if (pending := self.callbacks.pop(event.call.key, None)) is not None:
                self.connect(event.call, pending[0], pending[1])  # a caller called back answered: on it goes
            elif (room := self.rooms.get(event.call.room)) is not None:
                room.answered(event.call)
        elif isinstance(event, sip.Digit):
            if (room := self.rooms.get(event.call.room)) is not None:
                room.digit(event.call, event.digit, event.method, time.monotonic())
        elif isinstance(event, PromptEnded):
            for room in self.rooms:
                room.prompt_ended(event.player)

    # Call events ---------------------------------------------------------------

    def incoming(self, event: sip.Incoming) -> None:
        call = event.call
        call_id = call.key
        self.calls[call_id] = call
        call.room, call.caller, call.extension, call.name = event.room, event.caller, event.extension, event.name
        call.lockout, call.vouched = event.lockout, event.vouched
        where = RoomAddress.parse(event.room or "")
        answer = pj.CallOpParam()
        if event.refused:
            answer.statusCode = event.refused
            log.warning("refused a call from %s: %d (not vouched for by Kamailio)", event.source, event.refused)
        elif where is None or not self.may_enter(where, event.anchor is not None, event.extension,
                                                 bool(event.vouched.role)):
            answer.statusCode = 404
        elif self.stopping or len(self.calls) > self.config.capacity:
            answer.statusCode = 503
            log.warning("node full or stopping (%d calls): refusing %s", len(self.calls), event.caller)
        elif event.anchor is not None:
            self.anchored_call(call, where, event.anchor)
            return
        else:
            answer.statusCode = 200
        self.metrics.call("answered" if answer.statusCode == 200 else f"refused_{answer.statusCode}")
        call.answer(answer)

    def may_enter(self, room: RoomAddress, anchored: bool, extension: str | None, relayed: bool = False) -> bool:
        """A local conference exists once its owner opened it; only then may others join.
        A "#" call's room is made by its first INVITE only, which says what to call. A scheduled
        conference is entered by INVITE only on a relay leg, with the role its dial-in service gave."""
        is_open = self.rooms.get(str(room)) is not None
        if room.kind == Kind.SCHEDULED or relayed:
            return room.kind == Kind.SCHEDULED and relayed
        if room.kind == Kind.CALL or anchored:
            return room.kind == Kind.CALL and anchored and not is_open
        return room.kind != Kind.LOCAL or is_open or extension == room.id

    def anchored_call(self, call: sip.RoomCall, room: RoomAddress, anchor: tuple[str, bool]) -> None:
        """A "#" call (seed 002): it rings while the room calls the number it dialled."""
        ringing = pj.CallOpParam()
        ringing.statusCode = 180
        call.answer(ringing)
        self.metrics.call("anchored")
        number, controller_is_caller = anchor
        state = rules.Room(RoomSettings(str(room)), kind=Kind.CALL, anchor=number,
                           controller_is_caller=controller_is_caller)
        self.rooms.open(room, state).arrive(call, state.settings, locked_out=False)

    def forward(self, menu: LiveRoom, forward: menus.Forward) -> None:
        """A voice menu's caller goes on to `number`, if the menu's owner may send it there: it is
        answered already, and hears the far end from its ringback on, in a room of its own that
        calls the number through Kamailio, like a "#" call's (whose "#" is the callee's, if it may)."""
        call, number = menu.calls.get(forward.member), forward.number
        if call is None or call.ended or menu.menu is None:
            return
        decision = self.live.reach(menu.menu.owner, number)
        refused = decision.code if isinstance(decision, Refuse) else 0
        self.live.room_event("menu_forwarded", menu.number, caller=call.caller, to=number, why=forward.why,
                             refused=refused)
        if refused:
            log.warning("menu %s: %s may not be sent to %s (%d)", menu.number, call.caller, number, refused)
            menu.feed(menus.Unreachable(forward.member))
            return
        log.info("menu %s: %s goes on to %s (%s)", menu.number, call.caller, number, forward.why)
        menu.release(call)
        self.connect(call, number, menu.menu.owner)

    def connect(self, call: Leg, number: str, payer: str | None) -> None:
        """Put an answered call through to `number`, billed to extension `payer` (None: nobody's): in a
        room of its own that calls the number through Kamailio, as a "#" call's does (whose "#" is the
        callee's, if it may)."""
        where = address.call(f"{self.config.id}/{call.participant_id}/{time.time()}")
        state = rules.Room(RoomSettings(str(where)), kind=Kind.CALL, anchor=number, controller_is_caller=False,
                           owner=payer)
        call.room = str(where)
        room = self.rooms.open(where, state)
        room.arrive(call, state.settings, locked_out=False)
        room.media(call)  # its media is up: it hears the far end as soon as that sends any

    def call_back(self, request: Callback) -> None:
        """Call a caller back (a trunk's call-back number, an operator's click-to-call) from the
        installation's number, if the number plan lets the owner call it and it has not been called back
        too often this hour; once it answers, it is put through to the request's destination."""
        number = request.number
        if not (identity.is_number(number) and request.destination.isascii() and request.destination.isdigit()):
            log.error("call back %r to %r: not numbers; not made", number, request.destination)
            return
        refused = 0
        decision = self.live.reach(request.owner, number)
        if isinstance(decision, Refuse):
            refused = decision.code
        elif self.live.called_back(number) > request.per_hour:
            refused = 429
        elif request.owner is not None and self.live.over_rate(request.owner, number):
            refused = TOO_MANY.code  # a caller ID anyone may write: spoofed ones call no more than this
        self.live.room_event("callback", request.destination, number=number, owner=request.owner or "",
                             refused=refused)
        if refused:
            log.warning("call back %s for %s: refused (%d)", number, request.owner or "an operator", refused)
            return
        call = sip.RoomCall(self.account)
        call.room, call.caller = str(address.call(f"callback/{self.config.id}/{number}/{time.time()}")), number
        call.leg = billing.Leg(call.room, billing.LegKind.CALLBACK, request.destination, number, request.owner or "")
        shown = self.numbers.installation if identity.is_number(self.numbers.installation) else None
        try:
            call.dial(f"sip:{number}@{self.proxy}", shown)
        except pj.Error as exc:
            log.error("call back %s: cannot dial: %s", number, exc.info())
            self.not_dialled(call, 503)
            return
        self.calls[call.key] = call
        self.callbacks[call.key] = (request.destination, request.owner, time.monotonic() + self.ring_seconds)
        log.info("calling %s back for %s", number, request.destination)

    def answer(self, call: Leg) -> None:
        own = self.own(call)
        if own is None or own.ended or own.getInfo().state == pj.PJSIP_INV_STATE_CONFIRMED:
            return  # gone, or answered already (a voice menu's caller, forwarded)
        ok = pj.CallOpParam()
        ok.statusCode = 200
        try:
            own.answer(ok)
        except pj.Error as exc:
            log.error("answer failed: %s", exc.info())

    def media_ready(self, call: sip.RoomCall) -> None:
        if call.ended or call.room is None or call.audio() is None or call.key in self.callbacks:
            return  # a caller called back is put through once it answers
        room = self.rooms.get(call.room)
        if room is not None and call.participant_id in room.calls:
            self.watch(call)
            room.media(call)
            return
        where = RoomAddress.parse(call.room)
        template = None if where is None else self.room_template(where)
        if where is None or template is None:
            log.warning("room %s no longer exists; hanging up %s", call.room, call.caller)
            self.hangup(call, 404)
            return
        room = self.rooms.open(where, template)
        self.watch(call)
        role = rules.Role(call.vouched.role) if call.vouched.role else None  # a relay leg's, from its dial-in
        room.arrive(call, template.settings, locked_out=self.live.pin_locked(call.room, call.lockout), role=role)

    def watch(self, call: sip.RoomCall) -> None:
        """From its first media on, a call without RTP for rtp_timeout is dropped."""
        if call.key not in self.watches:
            self.watches[call.key] = RxWatch(since=time.monotonic())
            self.talks[call.key] = Talk()
            audio = call.audio()
            if audio is not None:
                self.mixer.new_port(audio)

    def room_template(self, room: RoomAddress) -> rules.Room | None:
        """An empty room as the live state describes it (bridge.redis_state); None: no such room."""
        current = self.rooms.get(str(room))
        template = self.live.room_template(room, current.state if current else None, self.meetings.settings.language)
        if template is None or template.settings.max_participants or room.kind not in RULED:
            return template
        # A room without a limit of its own gets the installation's: nobody can take every slot of the node.
        limited = dataclasses.replace(template.settings, max_participants=self.config.default_max_participants)
        return dataclasses.replace(template, settings=limited)

    def dial(self, room: str, number: str, billed: billing.Leg, inviter: rules.Member | None,
             rights: Rights, shown: str | None = None) -> Dialled:
        call = sip.RoomCall(self.account)
        call.room, call.caller, call.leg = room, number, billed
        decision = self.live.allowed(inviter, number, rights)
        if isinstance(decision, Refuse):
            log.warning("room %s: %s may not call %s (%d)", room, inviter.caller if inviter else rights, number,
                        decision.code)
            return self.not_dialled(call, decision.code)
        try:
            call.dial(f"sip:{number}@{self.proxy}", shown)
        except pj.Error as exc:
            log.error("room %s: cannot dial %s: %s", room, number, exc.info())
            return self.not_dialled(call, 503)
        self.calls[call.key] = call
        self.metrics.call("dialled")
        return Dialled(call, extension=decision.number if isinstance(decision, numberplan.ToExtension) else None)

    def relay(self, room: str, conference: RoomAddress, caller: Leg, role: rules.Role) -> Dialled:
        call = sip.RoomCall(self.account)
        call.room, call.caller = room, str(conference)  # no call.leg: the caller's own leg is the call
        own = self.own(caller)
        # A From URI is what the caller wrote: an empty one is shown as what it is.
        vouched = dataclasses.replace(own.vouched if own else vouch.ANONYMOUS, role=str(role),
                                      caller=caller.caller or "anonymous")
        ticket = vouch.sign_relay(self.account.gate.secret, str(conference), vouched, time.time())
        try:
            call.dial(f"sip:{conference}@{self.proxy}", headers=((vouch.RELAY_HEADER, ticket),))
        except pj.Error as exc:
            log.error("room %s: cannot relay %s to %s: %s", room, caller.caller, conference, exc.info())
            return Dialled(call, refused=503)
        self.calls[call.key] = call
        self.metrics.call("relayed")
        return Dialled(call)

    def send_digit(self, call: Leg, digit: str) -> None:
        own = self.own(call)
        if own is None or own.ended:
            return
        try:
            own.dialDtmf(digit)
        except pj.Error as exc:
            log.error("sending a key on %s failed: %s", call.caller, exc.info())

    def not_dialled(self, call: sip.RoomCall, status: int) -> Dialled:
        """A call that never went out is billed as one refused at once."""
        self.bill(call, status)
        return Dialled(call, refused=status)

    def ended(self, event: sip.Ended) -> None:
        call = event.call
        call_id = call.key
        if self.calls.get(call_id) is not call:
            return
        del self.calls[call_id]
        self.callbacks.pop(call_id, None)
        self.watches.pop(call_id, None)
        self.talks.pop(call_id, None)
        self.gains.pop(call_id, None)
        self.gates.pop(call_id, None)
        self.bill(call, event.status, self.quality.forget(call_id))
        room = self.rooms.get(call.room)
        if room is None:
            return
        log.info("room %s: %s hung up (%d, %s)", room.number, call.caller, event.status, event.reason)
        self.meetings.ended(room, call, event.status, time.monotonic())
        room.leave(call, event.status)
        if room.empty:
            self.meetings.emptied(room)
            room.close()
            self.rooms.remove(room)
            self.live.room_event("ended", room.number, node=self.config.id)
            self.live.release_affinity(room.number)

    def sample_talking(self, now: float) -> None:
        for room in self.rooms:
            for member, leg in room.members_in():
                call = self.own(leg)
                audio = None if call is None else call.audio()
                if audio is None or leg.key not in self.talks:
                    continue
                # pjsua2 names levels from the port's side: "tx" is what the caller sends into the mix,
                # measured after the gain the mixer gives it; talking is judged on the phone's own level.
                level, (talk_db, gain_db) = audio.getTxLevel(), self.mixer.voice(audio)
                talk, changed = observe_level(self.talks[leg.key], gain.before_gain(level, talk_db + gain_db), now)
                self.talks[leg.key] = talk
                if changed:
                    self.live.room_event("talking" if talk.talking else "not_talking", room.number, participant=member)
                if self.config.agc:
                    learnt = gain.observe(self.gains.get(leg.key, gain.Gain()), level, talk_db + gain_db,
                                          talk.talking, now)
                    self.gains[leg.key] = learnt
                    if gain.worth_applying(learnt.gain_db, gain_db):
                        self.mixer.set_gain(audio, learnt.gain_db)

    def sample_gates(self, now: float) -> None:
        """The noise gate of every voice in a room that gates: a frame's level each (conference.gate)."""
        # Every gated leg, 50 times a second: kept to a dict look-up or two and two pjsua2 calls a leg.
        gates, fresh = self.gates, noise_gate.LegGate()
        for room in self.rooms:
            for member in room.gated:
                call = room.calls.get(member)
                own = None if call is None else self.own(call)
                if own is None or (audio := own.audio()) is None:
                    continue
                # Judged on the phone's own level, as talking is (the level is read after the gains).
                talk_db, gain_db = self.mixer.voice(audio)
                level = audio.getTxLevel()
                if talk_db or gain_db:
                    level = gain.before_gain(level, talk_db + gain_db)
                leg_gate, changed = noise_gate.observe(gates.get(own.key, fresh), level, now)
                gates[own.key] = leg_gate
                if changed:
                    room.gate(member, leg_gate.open)

    def drop_silent_legs(self, now: float) -> None:
        for call in list(self.calls.values()):
            if call.key not in self.watches:
                continue
            watch, silent = observe(self.watches[call.key], call.rx_packets(), now, self.config.rtp_timeout)
            self.watches[call.key] = watch
            if silent and not call.ended:
                log.warning("room %s: no RTP from %s for %.0f s; hanging up",
                            call.room, call.caller, self.config.rtp_timeout)
                self.metrics.dropped.inc()
                self.hangup(call, 408)

    def sample_quality(self) -> None:
        """This turn's slice of the legs with media: call quality into the metrics and, if it changed,
        onto the participant."""
        legs = {leg.key: (room, member) for room in self.rooms for member, leg in room.calls.items()
                if self.quality.due(leg.key) and leg.key in self.watches and self.own(leg) is not None}

        def show(key: int, seen: Figures) -> None:
            room, member = legs[key]
            figures = seen.to_dict()
            room.quality(member, figures)
            self.live.room_event("quality", room.number, participant=member,
                                 **{name: value for name, value in figures.items() if value is not None})

        self.quality.sample(((key, self.calls[key]) for key in legs), show)

    def end_prompts(self, now: float) -> None:
        # A method of its own so no local of the loop keeps a player alive past libDestroy.
        for prompt in self.mixer.ended_prompts(now):
            self.events.append(PromptEnded(prompt))

    def own(self, call: Leg) -> sip.RoomCall | None:
        """This node's call behind a room's leg; None once it ended (PJSIP reuses call ids)."""
        own = self.calls.get(call.key)
        return own if own is call else None

    def bill(self, call: sip.RoomCall, status: int, heard: Summary | None = None, ended: bool = True) -> None:
        """A dialled leg's call detail record, spooled to a file first so none is lost: open from its
        answer (what a crash leaves), filed when it ends."""
        if call.leg is None:
            return
        cdr = billing.record(call.leg, call.record_id, self.config.id, status, call.started_at, call.answered_at,
                             time.time(), call.cancelled, heard)
        if ended:
            self.live.file_cdr(cdr)
        else:
            self.live.open_cdr(cdr)

    def hangup(self, call: Leg, status: int = 200) -> None:
        own = self.own(call)
        if own is None or own.ended:
            return
        own.cancelled = own.outgoing and own.answered_at is None
        param = pj.CallOpParam()
        param.statusCode = status
        try:
            own.hangup(param)
        except pj.Error as exc:
            log.error("hangup failed: %s", exc.info())

    def hangup_soon(self, call: Leg) -> None:
        self.farewells.append((time.monotonic() + FAREWELL_DRAIN, call))

    def after(self, request: Request) -> None:
        self.events.append(request)

    # Registry ------------------------------------------------------------------

    def status(self) -> NodeStatus:
        c = self.config
        return NodeStatus(id=c.id, address=c.address, port=c.sip_port, capacity=c.capacity, load=len(self.calls),
                          instance=self.live.instance, since=self.live.since)

    def heartbeat(self) -> None:
        self.metrics.rooms.set(len(self.rooms))
        self.metrics.participants.set(sum(len(room.calls) for room in self.rooms))
        self.metrics.capacity.set(self.config.capacity)
        self.metrics.by_kind(*count_by_kind((room.address.kind, len(room.calls)) for room in self.rooms))
        self.metrics.mixer(self.endpoint.mediaActivePorts(), self.endpoint.mediaMaxPorts(), self.mixer.prompt_count,
                           sum(1 for room in self.rooms if room.recording is not None))
        self.metrics.rooms_now({room.number: room_figures(
            room.present, ((leg.key, self.talks.get(leg.key, Talk()).talking) for _, leg in room.members_in()),
            self.quality.legs) for room in self.rooms if room.address.kind == Kind.ROOM}, time.monotonic())
        # The rooms and who is in them, asserted again: what a Redis failover or restart lost is back.
        self.live.heartbeat(self.status(), self.config.heartbeat_ttl,
                            {room.number: room.present_now() for room in self.rooms})

    # Shutdown ------------------------------------------------------------------

    def hangup_all(self) -> None:
        # A method of its own so no local keeps a Call alive past libDestroy.
        for call in list(self.calls.values()):
            if not call.ended:
                self.hangup(call)

    def shutdown(self) -> None:
        """Deregister first (no new calls), send BYE to every call, then free PJSIP."""
        self.live.deregister()
        self.hangup_all()
        deadline = time.monotonic() + HANGUP_GRACE
        while self.calls and time.monotonic() < deadline:
            self.endpoint.libHandleEvents(POLL_MS)
            self.drain()
        for room in self.rooms:
            self.live.release_affinity(room.number)
        # PJSIP asserts if a Call or player outlives the library.
        self.rooms.clear()
        self.calls.clear()
        self.farewells.clear()
        self.events.clear()
        self.mixer.close()
        self.account.shutdown()
        del self.account
        self.endpoint.libDestroy()
