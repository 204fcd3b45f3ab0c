"""What the views use, built once per app by create_app() (the composition root)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import redis
from flask import current_app
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from conference import numberplan
from conference.address import scheduled
from conference.extensions import ExtensionSettings, TrunkSettings
from conference.menus import MenuSettings
from store import live, migrations
from store.projected import ExistsError, NotFoundError, ProjectedRepository
from store.queue import enqueue_menu_greeting, enqueue_name, enqueue_tick
from store.rooms import RoomRepository
from web.errors import ApiError

log = logging.getLogger("kamconf.web")

EXTENSION = "kamconf"
PARTICIPANT_OPS = frozenset({"mute", "unmute", "drop", "admit", "stop_whisper"})
ROOM_OPS = frozenset({"lock", "unlock", "end", "start_recording", "stop_recording", "pause_recording",
                      "resume_recording", "unmute_hand", "admit_next", "mute_all", "unmute_all"})
# With a value: the library sound's id, the number to call, the moderator who whispers.
VALUE_OPS = frozenset({"play", "invite", "whisper"})
NAMED = PARTICIPANT_OPS | {"whisper"}  # act on one participant, which they name
TO_ONE_OR_ALL = frozenset({"play"})  # to the room, or to one participant


class NotLiveError(ApiError):
    """No bridge node holds the room now: nobody is in it."""

    def __init__(self, room: str) -> None:
        super().__init__(404, "not_found", f"room {room} is not live now (nobody is in it)")
        self.room = room


class InviteRefusedError(ApiError):
    """The number plan does not let an operator call the number: an outside number where operators may
    not call out (403); the room itself, or a forwarding loop (400); a number nothing answers to (400).
    `code`: the number plan's SIP status (403, 482, 404)."""

    def __init__(self, number: str, code: int) -> None:
        if code == numberplan.FORBIDDEN.code:
            super().__init__(403, "forbidden", f"operators may invite rooms and extensions only, not {number}; "
                             "outside numbers need [conferences] operator_outside_calls", "number")
        elif code == 482:
            super().__init__(400, "invalid_field", f"{number} leads back to this room (or forwards in a loop)",
                             "number")
        else:
            super().__init__(400, "invalid_field", f"no room, extension or outside route answers to {number}",
                             "number")
        self.number, self.code = number, code


@dataclass(frozen=True)
class Services:
    engine: Engine
    sessions: sessionmaker[Session]
    client: redis.Redis
    rooms: RoomRepository
    extensions: ProjectedRepository[ExtensionSettings]
    trunks: ProjectedRepository[TrunkSettings]
    menus: ProjectedRepository[MenuSettings]
    realm: str  # of extensions' digest passwords
    queue: redis.Redis  # RQ's connection (undecoded replies)
    dial_in: str  # the scheduled conferences' service number
    operator_outside_calls: bool = False  # operators may invite outside numbers ([conferences])

    def meetings_changed(self) -> None:
        """Have the worker look at the conferences now (mail, start, end); it also does every few
        seconds on its own, so a Redis outage here only delays it."""
        try:
            enqueue_tick(self.queue)
        except redis.RedisError as exc:
            log.error("the worker is not told of a conference change now (%s); its next round sees it", exc)

    def tell_bridge(self, op: str, code: str, **fields: str) -> None:
        """A live change of a current conference (lock, end, extended) to the node running it."""
        try:
            node = live.affinity(self.client, str(scheduled(code)))  # none: nobody is in it, nothing to tell
            if node is not None:
                live.command(self.client, node, op=op, code=code, **fields)
        except redis.RedisError as exc:
            log.error("conference %s: the bridge is not told to %s (%s)", code, op, exc)

    def room_event(self, kind: str, room: str, **fields: str) -> None:
        """An event of the API's own on the room event stream (webhooks, the panel): a Redis outage
        loses it, and is logged, but never fails the change it tells of."""
        try:
            live.room_event(self.client, kind, room, **fields)
        except redis.RedisError as exc:
            log.error("room %s: event %s not published (%s)", room, kind, exc)

    def room_command(self, room: str, op: str, participant: str = "", value: str = "") -> None:
        """An operator's live action on a room (mute, unmute, drop a participant; lock, unlock, end
        the room, start or stop its recording; play a sound, invite a number), sent to the node holding
        it: the one path of the API and the panel alike. NotLiveError when no node holds the room now
        (it is empty, or not a room at all); NotFoundError when `participant` is not on its roster."""
        if (op not in ROOM_OPS | PARTICIPANT_OPS | VALUE_OPS or (op in VALUE_OPS) != bool(value)
                or (op in NAMED and not participant) or (participant and op not in NAMED | TO_ONE_OR_ALL)):
            raise ValueError(f"no live action {op!r} (participant {participant!r}, value {value!r})")
        if participant:
            self.participant(room, participant)
        if not live.room_command(self.client, room, op, participant, value):
            raise NotLiveError(room)
        log.info("room %s: %s %s sent to its node", room, op, participant or value or "the room")

    def participant(self, room: str, participant: str) -> dict[str, Any]:
        """One participant of the live room, as its roster shows it. NotLiveError when nobody is in
        the room; NotFoundError (404) when that one is not."""
        people = live.participants(self.client, room)
        if not people:
            raise NotLiveError(room)
        found = next((p for p in people if p.get("id") == participant), None)
        if found is None:
            raise NotFoundError("participant", f"{participant} in room {room}", "participant")
        return found

    def invite(self, room: str, number: str, extension: str | None = None) -> None:
        """An operator's invitation, refused here (InviteRefusedError) unless the number plan lets an
        operator call `number`; the node holding the room asks the number plan again as it dials,
        through Kamailio. `extension`: a conference owner's invitation, which its own extension must
        also be allowed to call (the node dials with an operator's rights: an owner gains none)."""
        directory = live.Directory(self.client)
        decision = numberplan.decide(numberplan.operator(self.operator_outside_calls), number, directory)
        if isinstance(decision, numberplan.ToRoom) and decision.number == room:
            decision = numberplan.Refuse(482, "Loop Detected")  # its own audio would come back to it
        if extension is not None and not isinstance(decision, numberplan.Refuse):
            own = directory.extension(extension)
            decision = numberplan.FORBIDDEN if own is None else numberplan.decide(
                numberplan.Caller(numberplan.CallerKind.EXTENSION, own), number, directory)
        if isinstance(decision, numberplan.Refuse):
            raise InviteRefusedError(number, decision.code)
        self.room_command(room, "invite", value=number)

    def speak_name_later(self, number: str) -> None:
        """Have the worker (re)make the extension's spoken name; the change itself is already saved."""
        try:
            enqueue_name(self.queue, number)
        except redis.RedisError as exc:
            log.error("extension %s: its name is not re-spoken (%s); save it again later", number, exc)

    def speak_menu_later(self, number: str) -> None:
        """Have the worker (re)make the menu's spoken greeting; the change itself is already saved."""
        try:
            enqueue_menu_greeting(self.queue, number)
        except redis.RedisError as exc:
            log.error("menu %s: its greeting is not re-spoken (%s); save it again later", number, exc)

    def check_number_free(self, number: str) -> None:
        """Rooms, extensions, voice menus and the dial-in service share one number space: a new one must
        be none."""
        if number == self.dial_in:
            raise ExistsError("service (the scheduled conferences' dial-in number)", number)
        for repository in (self.rooms, self.extensions, self.menus):
            try:
                repository.get(number)
            except NotFoundError:
                continue
            raise ExistsError(repository.table.kind, number)

    def check_health(self) -> None:
        """Raise unless SQL (at the newest schema) and Redis both answer."""
        try:
            current = migrations.is_current(self.engine)
        except SQLAlchemyError as exc:
            raise ApiError(503, "unavailable", "the database does not answer") from exc
        if not current:
            raise ApiError(503, "unavailable", "the database schema is not the newest; run python -m store.bootstrap")
        try:
            self.client.ping()
        except redis.RedisError as exc:
            raise ApiError(503, "unavailable", "live state (Redis) does not answer") from exc
        # Redis answers again: a projection a hung Redis may have spoilt is repaired now.
        for repository in (self.rooms, self.extensions, self.trunks, self.menus):
            repository.heal()


def services() -> Services:
    found: Services = current_app.extensions[EXTENSION]
    return found
