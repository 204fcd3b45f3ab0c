"""Scheduled conferences on a bridge node: the worker's commands (start, end, extended, lock) and
operators' commands to any room (mute, drop, lock, end, record, play, invite: LiveRoom.command),
calling everyone at the start with rings that time out and retries, and telling the worker
when a conference empties. Rooms own the calls; this keeps the schedule's bookkeeping and
reaches the world only through bridge.edge's Switchboard and LiveState."""

from __future__ import annotations

import heapq
import logging
from collections.abc import Callable
from dataclasses import dataclass

from bridge.edge import Callback, Leg, LiveState, Switchboard
from bridge.rooms import SCHEDULE, LiveRoom, Rooms
from bridge.templates import scheduled_conference
from conference import address, dialin, placement
from conference import room as rules
from settings import ConferencesConfig

log = logging.getLogger("kamconf.bridge")

# How a start-time call's ringing ended (bridge.metrics counts them): answered; not reached (tried
# again later); given up (its last try).
ANSWERED, NOT_REACHED, GIVEN_UP = "answered", "not_reached", "given_up"
RING_OUTCOMES = (ANSWERED, NOT_REACHED, GIVEN_UP)
MAX_AHEAD = 10.0  # seconds a start handed over early may wait (workers.meetings.LEAD is 2)
# A dial-in caller whose conference's node died waits on music while the worker resumes the
# conference elsewhere (within about 10 s: the node's heartbeat expires, then the next round); it
# is tried again every REJOIN_SECONDS, for REJOIN_LIMIT at most.
REJOIN_SECONDS, REJOIN_LIMIT = 2.0, 40.0


class Meetings:
    def __init__(self, switchboard: Switchboard, live: LiveState, rooms: Rooms, settings: ConferencesConfig,
                 rang: Callable[[str], None] = lambda outcome: None) -> None:
        self.switchboard, self.live, self.rooms, self.settings = switchboard, live, rooms, settings
        self.rang = rang  # told each ring's outcome (RING_OUTCOMES)
        # Only what is sent from now on: a node that starts again has no calls for older commands to
        # act on, and the conferences its previous run held are handed to it again by the worker
        # (workers.meetings.launch) once Kamailio has ended that run's calls.
        self.cursor = f"{int(live.now() * 1000)}-0"
        self.rings: dict[str, tuple[str, float]] = {}  # member -> (room, when its ringing ends unanswered)
        self.attempts: dict[str, int] = {}  # member -> which try its call is
        self.redials: list[tuple[float, str, str, int]] = []  # (when, conference code, number, try)
        self.starts: list[tuple[float, str]] = []  # (when, conference code): handed over before its start
        self.relays: dict[str, Relay] = {}  # relay leg -> what it carries
        self.rejoins: list[tuple[float, Relay, float]] = []  # (when, what to carry again, until when)

    def poll(self, now: float) -> None:
        """The worker's new commands, rings that time out, redials that are due (`now`: monotonic)."""
        for entry_id, fields in self.live.commands(self.cursor):
            self.cursor = entry_id
            self.carry_out(fields, now)
        for member, (room_name, deadline) in list(self.rings.items()):
            room = self.rooms.get(room_name)
            call = room.calls.get(member) if room else None
            if call is None or call.answered_at is not None:
                del self.rings[member]
                if call is not None:
                    self.rang(ANSWERED)
            elif now >= deadline:
                del self.rings[member]
                log.info("room %s: %s did not answer within %d s", room_name, call.caller, self.settings.ring_seconds)
                self.switchboard.hangup(call)
        while self.starts and self.starts[0][0] <= now:
            self.start(heapq.heappop(self.starts)[1], now)
        while self.rejoins and self.rejoins[0][0] <= now:
            _, relay, until = heapq.heappop(self.rejoins)
            self.rejoin(relay, until, now)
        while self.redials and self.redials[0][0] <= now:
            _, code, number, attempt = heapq.heappop(self.redials)
            self.call(code, number, attempt, now)

    def carry_out(self, fields: dict[str, str], now: float) -> None:
        if fields.get("op") == "callback":  # store.live.request_callback
            per_hour = fields.get("per_hour", "")
            self.switchboard.after(Callback(fields.get("number", ""), fields.get("destination", ""),
                                            fields.get("owner") or None, int(per_hour) if per_hour.isdigit() else 1))
            return
        if "room" in fields:  # an operator's command to any room (store.live.room_command)
            room = self.rooms.get(fields["room"])
            log.info("room %s: %s %s", fields["room"], fields.get("op"), fields.get("participant", ""))
            if room is not None:
                room.command(fields.get("op", ""), fields.get("participant", ""), fields.get("value", ""))
            return
        op, code = fields.get("op"), fields.get("code", "")
        log.info("conference %s: %s", code, op)
        try:
            room = self.rooms.get(str(address.scheduled(code)))
        except ValueError:  # a code is digits: this command did not come from our worker
            log.error("conference %r: not a conference code; %s ignored", code, op)
            return
        if op == "start":
            ahead = _seconds_to(fields.get("at", ""), self.live.now())
            if ahead > 0:  # workers.meetings.LEAD: everyone is called at the start, to the frame
                heapq.heappush(self.starts, (now + ahead, code))
            else:
                self.start(code, now)
        elif room is None:
            return
        elif op == "end":
            room.feed(rules.Close("conference_over"))
        elif op == "extended":
            minutes = fields.get("minutes", "")
            room.feed(rules.Extended(int(minutes) if minutes.isascii() and minutes.isdigit() else 0))
        elif op == "lock":
            room.feed(rules.SetLocked(fields.get("locked") == "1"))

    def start(self, code: str, now: float) -> None:
        meeting = self.live.meeting(code)
        if meeting is None:
            log.error("conference %s: not in the live state; not started", code)
            return
        running = self.rooms.get(str(address.scheduled(code)))
        # Resumed here after its node died, dial-in callers carried here first may have opened it:
        # everyone else is called, never anyone twice.
        there = set() if running is None else {m.caller for m in running.state.members}
        waiting = {number for _, later, number, _ in self.redials if later == code}
        if running is not None:
            log.info("conference %s: already running here; calling whoever is missing", code)
        self.rooms.open(address.scheduled(code), scheduled_conference(meeting, self.settings.language))
        if meeting.auto_invite:
            for number in meeting.numbers:
                if number not in there | waiting:
                    self.call(code, number, 1, now)

    def call(self, code: str, number: str, attempt: int, now: float) -> None:
        meeting = self.live.meeting(code)
        if meeting is None:
            return  # the conference is over: no more calls for it
        room = self.rooms.open(address.scheduled(code), scheduled_conference(meeting, self.settings.language))
        call = room.dial(number, SCHEDULE, attempt)
        if call is not None:
            self.rings[call.participant_id] = (room.number, now + self.settings.ring_seconds)
            self.attempts[call.participant_id] = attempt
        log.info("room %s: calling %s (try %d)", room.number, number, attempt)

    def ended(self, room: LiveRoom, call: Leg, status: int, now: float) -> None:
        """A scheduled call that was never answered is tried again, a few times."""
        attempt = self.attempts.pop(call.participant_id, None)
        ringing = self.rings.pop(call.participant_id, None) is not None
        if (relay := self.relays.pop(call.participant_id, None)) is not None:
            runs = self.live.node_runs()
            # Gone: its run is no more (Kamailio's BYE), or it stopped sending media or answering
            # (408: this node's RTP timeout, or a request that timed out) before its heartbeat expired.
            gone = status == 408 or (runs is not None and runs.get(relay.home) != relay.run)
            if call.answered_at is not None and gone:
                log.warning("conference %s: %s, where it ran, is gone; %s waits for it to come back", relay.code,
                            relay.home, relay.member)
                room.feed(dialin.RelayLost(call.participant_id))
                heapq.heappush(self.rejoins, (now + REJOIN_SECONDS, relay, now + REJOIN_LIMIT))
            return
        if attempt is None or call.answered_at is not None:
            if ringing and call.answered_at is not None:
                self.rang(ANSWERED)  # answered and gone before a poll saw it
            return
        dropped = _dropped(room, call)  # the conference closed: no ring failed
        retry = attempt <= self.settings.retries and not dropped
        if not dropped:
            self.rang(NOT_REACHED if retry else GIVEN_UP)
        if retry:
            heapq.heappush(self.redials, (now + self.settings.retry_seconds, room.address.id, call.caller, attempt + 1))
            log.warning("room %s: %s not reached (%d); trying again in %d s", room.number, call.caller, status,
                        self.settings.retry_seconds)
        else:
            log.warning("room %s: %s not reached (%d) after %d tries", room.number, call.caller, status, attempt)
        # Its call_failed event (with the try) is the room's, as for every call a room places.

    def look_up(self, service: LiveRoom, member: str, code: str) -> None:
        """The dial-in service asks for a code: what the live state holds for it."""
        meeting = self.live.meeting(code) if code else None
        service.feed(dialin.Looked(member, meeting, self.live.now()))

    def transfer(self, service: LiveRoom, member: str, code: str, role: rules.Role) -> None:
        """Move a dial-in caller into its conference: here if the conference lives here, else by a
        relay leg to the node that holds it (conference.dialin), so a conference never splits."""
        call = service.calls.get(member)
        meeting = self.live.meeting(code)
        if call is None or call.ended:
            return
        if meeting is None:
            service.feed(dialin.Looked(member, None, self.live.now()))  # it ended meanwhile
            return
        home = self.live.conference_home(code)
        if home is not None and placement.relayed(home, self.live.node_id):
            log.info("conference %s: lives on %s; relaying %s there as %s", code, home, call.caller, role)
            relay = self.switchboard.relay(service.number, address.scheduled(code), call, role)
            runs = self.live.node_runs() or {}
            self.relays[relay.call.participant_id] = Relay(member, code, role, home, runs.get(home, ""))
            service.invited(relay.call, member)
            if relay.refused:
                service.leave(relay.call, relay.refused)  # as a leg refused at once: the caller is told
            return
        service.release(call)
        room = self.rooms.open(address.scheduled(code), scheduled_conference(meeting, self.settings.language))
        call.room = room.number
        log.info("room %s: %s came in by dial-in as %s", room.number, call.caller, role)
        room.arrive(call, room.state.settings, locked_out=False, role=role)

    def rejoin(self, relay: Relay, until: float, now: float) -> None:
        """Carry a caller whose conference's node died to where the conference is now, once it runs
        again: on another node (relayed), or here (once the worker resumed it here)."""
        service = self.rooms.get(str(address.DIAL_IN))
        call = service.calls.get(relay.member) if service is not None else None
        if service is None or call is None or call.ended:
            return
        home = self.live.conference_home(relay.code) if self.live.meeting(relay.code) is not None else None
        runs = self.live.node_runs() or {}
        moved = home is not None and (home, runs.get(home)) != (relay.home, relay.run)  # not the lost run
        if moved and (home != self.live.node_id or self.rooms.get(str(address.scheduled(relay.code)))):
            log.info("conference %s: carrying %s again, to %s", relay.code, relay.member, home)
            self.transfer(service, relay.member, relay.code, relay.role)
        elif now < until:
            heapq.heappush(self.rejoins, (now + REJOIN_SECONDS, relay, until))
        else:
            log.warning("conference %s: not back within %.0f s; %s is told", relay.code, REJOIN_LIMIT, relay.member)
            service.feed(dialin.Abandon(relay.member))

    def emptied(self, room: LiveRoom) -> None:
        """The last one left a scheduled conference somebody had been in: it is over (seed 001)."""
        if room.address.kind == rules.Kind.SCHEDULED and room.attended:
            self.live.report_emptied(room.address.id)


@dataclass(frozen=True, order=True)
class Relay:
    """A dial-in caller (`member` of the service) carried by a relay leg to conference `code` on node
    `home`, in its `run` then: a leg that ends when that run is gone (dead, or restarted) was lost with it."""

    member: str
    code: str
    role: rules.Role
    home: str
    run: str


def _dropped(room: LiveRoom, call: Leg) -> bool:
    """Hung up by the room itself (the conference closed), not unanswered."""
    member = room.state.member(call.participant_id)
    return member is not None and member.stage == rules.Stage.LEAVING


def _seconds_to(at: str, wall: float) -> float:
    """Seconds from `wall` to the Unix time `at`: 0 if it is no time or past, and never more than
    MAX_AHEAD (hosts whose clocks disagree by more start at once rather than late)."""
    if not (at.isascii() and at.replace(".", "", 1).isdigit()):
        return 0.0
    return min(max(0.0, float(at) - wall), MAX_AHEAD)
