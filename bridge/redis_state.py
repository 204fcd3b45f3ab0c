"""Redis and the worker's queue as one bridge node uses them (bridge.edge.LiveState and the
node's own registry). Redis down: reads fall back, writes are lost and logged, and the node
keeps mixing the calls it has."""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import redis

from bridge import templates
from bridge.edge import Fields, Rights
from conference import billing, numberplan
from conference import room as rules
from conference.address import DIAL_IN, Kind, RoomAddress
from conference.menus import MenuSettings
from conference.numberplan import Caller, CallerKind, Refuse
from conference.placement import NodeStatus, run_of
from conference.rooms import RoomSettings
from conference.schedule import LiveMeeting
from store import live, queue
from store.spool import left_open, mark_alive, open_record, spool

log = logging.getLogger("kamconf.bridge")

T = TypeVar("T")
UNAVAILABLE: numberplan.Decision = Refuse(503, "Service Unavailable")  # Redis down: nobody is called
TOO_MANY = Refuse(403, "Too Many Calls")


class RedisState:
    def __init__(self, client: redis.Redis, queue_client: redis.Redis, node_id: str, cdrs: Path,
                 originations_per_minute: int = 10, operator_outside_calls: bool = False, dial_in: str = "") -> None:
        self.client = client
        self.queue_client = queue_client  # RQ needs undecoded replies
        self.node_id = node_id
        self.instance = secrets.token_hex(6)  # this start of the node (conference.placement.NodeStatus.run)
        self.run = run_of(node_id, self.instance)
        self.since = time.time()
        self.cdrs = cdrs
        self.originations_per_minute = originations_per_minute
        self.operator_outside_calls = operator_outside_calls
        self.dial_in = dial_in  # the scheduled conferences' service number: Kamailio routes it before the plan

    def now(self) -> float:
        return time.time()

    # Reads ---------------------------------------------------------------------

    def room_template(self, room: RoomAddress, current: rules.Room | None, language: str) -> rules.Room | None:
        """An empty room as the API last wrote it (a local conference: as its owner's extension says,
        a scheduled one: as the worker projected it). `current`: the room's state if it is open, what a
        numbered room or a local conference keeps while Redis is down. None: no such room."""
        try:
            if room.kind == Kind.LOCAL:
                return templates.local_conference(live.get_entry(self.client, live.EXTENSIONS, room.id), room)
            if room.kind == Kind.SCHEDULED:
                meeting = live.meeting(self.client, room.id)
                return None if meeting is None else templates.scheduled_conference(meeting, language)
            if room.kind == Kind.DIAL_IN:
                return rules.Room(RoomSettings(str(room), language=language), kind=Kind.DIAL_IN)
            if room.kind == Kind.MENU:
                menu = live.Directory(self.client).menu(room.id)
                return None if menu is None else rules.Room(RoomSettings(str(room), language=menu.language),
                                                            kind=Kind.MENU)
            if room.kind == Kind.CALL:
                return None  # made by its first INVITE only (BridgeNode.anchored_call)
            projected = live.get_entry(self.client, live.ROOMS, room.id)
            return None if projected is None else rules.Room(RoomSettings.from_dict(projected))
        except redis.RedisError as exc:
            log.error("redis: %s", exc)
            if room.kind == Kind.LOCAL:
                return current
            if room.kind == Kind.ROOM:
                return rules.Room(current.settings if current else RoomSettings(str(room)))
            return None

    def allowed(self, inviter: rules.Member | None, number: str, rights: Rights) -> numberplan.Decision:
        """The number plan as for the caller `rights` names: the inviting extension calling `number`
        itself (no toll fraud by *8 or #, and no more than originations_per_minute), an operator, or
        this node (a number Kamailio already allowed)."""
        if rights == Rights.OPERATOR:
            return self.reach(None, number)
        if rights == Rights.INVITER:
            extension = inviter.extension if inviter and inviter.extension else None
            if extension is None:
                return numberplan.FORBIDDEN
            decision = self.reach(extension, number)
            return TOO_MANY if not isinstance(decision, Refuse) and self.over_rate(extension, number) else decision
        if number == self.dial_in:
            return numberplan.ToRoom(str(DIAL_IN))
        return self.ask(lambda client: numberplan.decide(Caller(CallerKind.BRIDGE), number, live.Directory(client)),
                        default=UNAVAILABLE)

    def over_rate(self, extension: str, number: str) -> bool:
        """Count a call placed for `extension` (to `number`): whether that is more than
        originations_per_minute (*8, "#", calls back: no flood on its account)."""
        if self.ask(live.originated, extension, default=0) <= self.originations_per_minute:
            return False
        log.warning("extension %s: over %d calls a minute; %s not called", extension, self.originations_per_minute,
                    number)
        return True

    def menu(self, number: str) -> MenuSettings | None:
        return self.ask(lambda client: live.Directory(client).menu(number), default=None)

    def reach(self, owner: str | None, number: str) -> numberplan.Decision:
        """The number plan as for extension `owner` (an operator when None) calling `number`: whom it
        invites, where a voice menu of its sends a caller (web.menus checked the same on saving), whom a
        call back for it calls. The dial-in number is open to all, as Kamailio routes it."""
        if number == self.dial_in:
            return numberplan.ToRoom(str(DIAL_IN))

        def decide(client: redis.Redis) -> numberplan.Decision:
            directory = live.Directory(client)
            if owner is None:
                return numberplan.decide(numberplan.operator(self.operator_outside_calls), number, directory)
            extension = directory.extension(owner)
            if extension is None:
                return numberplan.FORBIDDEN
            return numberplan.decide(Caller(CallerKind.EXTENSION, extension), number, directory)

        return self.ask(decide, default=UNAVAILABLE)

    def called_back(self, number: str) -> int:
        """Count a call back to `number`: how many this hour (Redis down: too many, none is made)."""
        return self.ask(live.called_back, number, default=1_000_000)

    def pin_locked(self, room: str, lockout: str) -> bool:
        return bool(lockout) and self.ask(live.pin_locked, room, lockout, default=False)

    def meeting(self, code: str) -> LiveMeeting | None:
        return self.ask(live.meeting, code, default=None)

    def conference_home(self, code: str) -> str | None:
        return self.ask(live.home_node, str(RoomAddress(Kind.SCHEDULED, code)), default=None)

    def node_runs(self) -> dict[str, str] | None:
        return self.ask(lambda client: {n.id: n.run for n in live.live_nodes(client)}, default=None)

    def commands(self, after: str) -> list[tuple[str, dict[str, str]]]:
        return self.ask(live.commands, self.node_id, after, default=[])

    # Writes --------------------------------------------------------------------

    def room_event(self, kind: str, room: str, **fields: Fields) -> None:
        self.safely(live.room_event, kind, room, **fields)

    def put_participant(self, room: str, member: str, data: Mapping[str, Any]) -> None:
        self.safely(live.put_participant, room, member, data)

    def remove_participant(self, room: str, member: str) -> None:
        self.safely(live.remove_participant, room, member)

    def pin_failed(self, room: str, lockout: str) -> None:
        self.safely(live.pin_failed, room, lockout)

    def recording(self, room: str, recording_id: str | None) -> None:
        self.safely(live.set_recording, room, self.node_id, recording_id)

    def forget_recordings(self) -> None:
        self.safely(live.forget_recordings, self.node_id)

    def heartbeat(self, status: NodeStatus, ttl: int, rooms: Mapping[str, Mapping[str, Mapping[str, Any]]]) -> None:
        """Register this node for `ttl` more seconds with its `rooms` (number -> participant id ->
        participant), and clear what dead nodes left in the live state."""
        self.safely(live.heartbeat, status, ttl, rooms)
        try:
            mark_alive(self.cdrs, self.node_id)  # when the calls of a crash ended, for their records (store.spool)
        except OSError as exc:
            log.error("cannot mark the node alive for its call records: %s", exc)
        ghosts = self.ask(live.drop_ghosts, default=0)
        if ghosts:
            log.warning("%d participants of bridge runs that are gone removed from the live state", ghosts)

    def deregister(self) -> None:
        self.safely(live.deregister, self.node_id)

    def release_affinity(self, room: str) -> None:
        self.safely(live.release_affinity, room, self.node_id)

    # The worker's queue --------------------------------------------------------

    def file_recording(self, recording_id: str) -> None:
        """Have the worker import a finished recording into SQL."""
        self.enqueue(queue.enqueue_import, recording_id,
                     lost=f"recording {recording_id} not queued for filing; the next start files it")

    def file_cdr(self, cdr: dict[str, Any]) -> None:
        """A call detail record: spooled to a file first so none is lost, then queued for filing."""
        try:
            spool(self.cdrs, cdr)
        except OSError as exc:
            log.error("call record not written: %s (%s)", exc, cdr)
            return
        self.enqueue(queue.enqueue_cdr, str(cdr["id"]),
                     lost=f"call record {cdr['id']} not queued for filing; the next start files it")

    def open_cdr(self, cdr: dict[str, Any]) -> None:
        """The record of a dialled leg just answered: kept open while it lasts (a crash leaves it)."""
        try:
            open_record(self.cdrs, cdr)
        except OSError as exc:
            log.error("open call record not written: %s (%s)", exc, cdr)

    def close_left_open(self) -> None:
        """At start: file the records of answered legs a dead run of this node left open, ended
        when it was last known alive."""
        try:
            records, alive = left_open(self.cdrs, self.node_id)
        except OSError as exc:
            log.error("records left open not read: %s", exc)
            return
        for cdr in records:
            log.warning("call record %s was left open by a stopped node; closed at its last heartbeat", cdr["id"])
            self.file_cdr(billing.closed(cdr, alive))

    def file_attendance(self, code: str, member: rules.Member, how: str, when: float, joined: bool) -> None:
        self.enqueue(queue.enqueue_attendance, member.id, code, member.caller, str(member.role), how, when, joined,
                     lost=f"attendance of {member.caller} not filed")

    def report_emptied(self, code: str) -> None:
        self.enqueue(queue.enqueue_emptied, code, lost=f"conference {code}: end not reported; its end time ends it")

    def extend_meeting(self, code: str, minutes: int) -> None:
        self.enqueue(queue.enqueue_extension, code, minutes,
                     lost=f"conference {code}: a moderator's extension by {minutes} minutes not filed")

    # Redis is down -------------------------------------------------------------

    def safely(self, func: Callable[..., object], *args: object, **kwargs: object) -> None:
        self.ask(func, *args, default=None, **kwargs)

    def ask(self, func: Callable[..., T], *args: object, default: T, **kwargs: object) -> T:
        try:
            return func(self.client, *args, **kwargs)
        except redis.RedisError as exc:
            log.error("redis: %s", exc)
            return default

    def enqueue(self, job: Callable[..., None], *args: object, lost: str) -> None:
        try:
            job(self.queue_client, *args)
        except redis.RedisError as exc:
            log.error("%s (%s)", lost, exc)
