"""A bridge node: answers room calls, keeps each room's mix, registers itself in Redis.

The loop is the only thread that touches pjsua2. Callbacks queue events
(bridge/sip.py); the loop handles them, applies conference/ decisions and
keeps explicit references to every Call and player it hands to PJSIP.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from dataclasses import dataclass, field

import pjsua2 as pj
import redis

from bridge import sip
from bridge.metrics import NodeMetrics
from conference.liveness import RxWatch, observe
from conference.mixing import MUSIC, Link, link_changes, room_links
from conference.placement import NodeStatus
from conference.talking import Talk, observe_level
from stack.config import BridgeConfig
from store import live

log = logging.getLogger("kamconf.bridge")

POLL_MS = 10
WATCH_INTERVAL = 2.0
LEVEL_INTERVAL = 0.2  # how often speech levels are sampled for talking / not talking
HANGUP_GRACE = 5.0


@dataclass
class Room:
    number: str
    members: dict[int, sip.RoomCall] = field(default_factory=dict)  # joined calls by call id
    links: frozenset[Link] = frozenset()


class BridgeNode:
    def __init__(self, config: BridgeConfig, client: redis.Redis, music_path: str, metrics: NodeMetrics) -> None:
        self.config = config
        self.client = client
        self.metrics = metrics
        self.events: deque[sip.Event] = deque()
        self.endpoint = sip.start_endpoint(config)
        self.account = sip.create_account(config, self.events)
        self.music = sip.create_music(music_path)
        self.calls: dict[int, sip.RoomCall] = {}  # every call PJSIP knows of, by call id
        self.rooms: dict[str, Room] = {}
        self.watches: dict[int, RxWatch] = {}
        self.talks: dict[int, Talk] = {}
        self.stopping = False

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
                next_level = now + LEVEL_INTERVAL
        self.shutdown()

    def drain(self) -> None:
        while self.events:
            event = self.events.popleft()
            try:
                self.handle(event)
            except pj.Error as exc:  # one call's failure must not stop the node
                log.error("pjsua2 error on %s: %s", type(event).__name__, exc.info())

    def handle(self, event: sip.Event) -> None:
        if isinstance(event, sip.Incoming):
            self.incoming(event)
        elif isinstance(event, sip.MediaReady):
            self.media_ready(event.call)
        elif isinstance(event, sip.Ended):
            self.ended(event)
        elif isinstance(event, sip.Digit):
            log.info("room %s: %s pressed %s (%s)", event.call.room, event.call.caller, event.digit, event.method)

    # Call events ---------------------------------------------------------------

    def incoming(self, event: sip.Incoming) -> None:
        call = event.call
        call_id = call.key
        self.calls[call_id] = call
        call.room, call.caller = event.room, event.caller
        answer = pj.CallOpParam()
        if event.room is None:
            answer.statusCode = 404
        elif self.stopping or len(self.calls) > self.config.capacity:
            answer.statusCode = 503
            log.warning("node full or stopping (%d calls): refusing %s", len(self.calls), event.caller)
        else:
            answer.statusCode = 200
        self.metrics.call("answered" if answer.statusCode == 200 else f"refused_{answer.statusCode}")
        call.answer(answer)

    def media_ready(self, call: sip.RoomCall) -> None:
        if call.ended or call.room is None or call.audio() is None:
            return
        room = self.rooms.setdefault(call.room, Room(call.room))
        call_id = call.key
        if call_id in room.members:
            # A re-INVITE may have given the call a new mixer port: connect it afresh
            # (startTransmit on a link that still exists is harmless).
            room.links = self.without(room.links, call_id)
        else:
            room.members[call_id] = call
            self.watches[call_id] = RxWatch(since=time.monotonic())
            self.talks[call_id] = Talk()
            log.info("room %s: %s joined (%d present)", room.number, call.caller, len(room.members))
            self.announce_join(room, call)
        self.remix(room)

    def ended(self, event: sip.Ended) -> None:
        call = event.call
        call_id = call.key
        if self.calls.get(call_id) is not call:
            return
        del self.calls[call_id]
        self.watches.pop(call_id, None)
        self.talks.pop(call_id, None)
        room = self.rooms.get(call.room or "")
        if room is None or room.members.pop(call_id, None) is None:
            return
        log.info("room %s: %s left (%d, %s)", room.number, call.caller, event.status, event.reason)
        self.announce_leave(room, call, event.status)
        # The mixer has already dropped the gone port; forget its links.
        room.links = self.without(room.links, call_id)
        if room.members:
            self.remix(room)
            return
        del self.rooms[room.number]
        self.safely(live.room_event, "ended", room.number, node=self.config.id)
        self.safely(live.release_affinity, room.number, self.config.id)

    def remix(self, room: Room) -> None:
        wanted = room_links(str(cid) for cid in room.members)
        stop, start = link_changes(room.links, wanted)
        for src, dst in stop:
            self.port(room, src).stopTransmit(self.port(room, dst))
        for src, dst in start:
            self.port(room, src).startTransmit(self.port(room, dst))
        room.links = wanted

    def sample_talking(self, now: float) -> None:
        for room in self.rooms.values():
            for call_id, call in room.members.items():
                audio = call.audio()
                if audio is None:
                    continue
                # pjsua2 names levels from the port's side: "tx" is what the caller sends into the mix.
                talk, changed = observe_level(self.talks[call_id], audio.getTxLevel(), now)
                self.talks[call_id] = talk
                if changed:
                    self.safely(live.room_event, "talking" if talk.talking else "not_talking", room.number,
                                participant=call.participant_id)

    # Room events ---------------------------------------------------------------

    def announce_join(self, room: Room, call: sip.RoomCall) -> None:
        call.joined_at = time.time()
        participant = {"id": call.participant_id, "caller": call.caller, "role": "user",
                       "state": "in_conference", "joined_at": call.joined_at, "node": self.config.id}
        self.safely(live.put_participant, room.number, call.participant_id, participant)
        self.safely(live.room_event, "joined", room.number, participant=call.participant_id,
                    caller=call.caller, role="user", present=len(room.members))

    def announce_leave(self, room: Room, call: sip.RoomCall, status: int) -> None:
        self.safely(live.remove_participant, room.number, call.participant_id)
        self.safely(live.room_event, "left", room.number, participant=call.participant_id,
                    caller=call.caller, status=status, present=len(room.members))

    @staticmethod
    def without(links: frozenset[Link], call_id: int) -> frozenset[Link]:
        return frozenset(link for link in links if str(call_id) not in link)

    def port(self, room: Room, name: str) -> pj.AudioMedia:
        if name == MUSIC:
            return self.music
        return room.members[int(name)].getAudioMedia(-1)

    def drop_silent_legs(self, now: float) -> None:
        for room in list(self.rooms.values()):
            for call_id, call in list(room.members.items()):
                watch, silent = observe(self.watches[call_id], call.rx_packets(), now, self.config.rtp_timeout)
                self.watches[call_id] = watch
                if silent and not call.ended:
                    log.warning("room %s: no RTP from %s for %.0f s; hanging up",
                                room.number, call.caller, self.config.rtp_timeout)
                    self.metrics.dropped.inc()
                    self.hangup(call, 408)

    def hangup(self, call: sip.RoomCall, status: int = 200) -> None:
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
        self.metrics.participants.set(sum(len(room.members) for room in self.rooms.values()))
        self.metrics.capacity.set(self.config.capacity)
        self.safely(live.heartbeat, self.status(), self.config.heartbeat_ttl)

    def safely(self, func: object, *args: object, **kwargs: object) -> None:
        """Redis is down: keep mixing the calls we have (events of the outage are lost)."""
        try:
            func(self.client, *args, **kwargs)  # type: ignore[operator]
        except redis.RedisError as exc:
            log.error("redis: %s", exc)

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
        self.events.clear()
        del self.music
        self.account.shutdown()
        del self.account
        self.endpoint.libDestroy()
