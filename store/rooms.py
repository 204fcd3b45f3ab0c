"""Rooms: SQL rows and their Redis projection (store.live), changed together or not at all.

Each change runs as one unit: the SQL statement is flushed (so a duplicate
number fails before Redis is touched), the projection is written, and only then
is SQL committed. A Redis failure rolls SQL back; a failed commit puts the
projection back to what SQL holds.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import redis
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from conference.rooms import RoomSettings
from store import live
from store.sql import Room, StoreUnavailableError, reading, utcnow

log = logging.getLogger("kamconf.store.rooms")
T = TypeVar("T")

SETTINGS = tuple(f.name for f in dataclasses.fields(RoomSettings))
# A change that lost a race with another writer of the same room is re-applied on
# top of the winner's version; this many tries, then RoomConflictError.
ATTEMPTS = 5


class RoomExistsError(Exception):
    pass


class RoomNotFoundError(Exception):
    pass


class RoomConflictError(Exception):
    """The room kept changing under a change (ATTEMPTS times in a row)."""


def to_settings(row: Room) -> RoomSettings:
    return RoomSettings(**{name: getattr(row, name) for name in SETTINGS})


class RoomRepository:
    def __init__(self, sessions: sessionmaker[Session], client: redis.Redis) -> None:
        self.sessions = sessions
        self.client = client
        # Numbers whose projection may hold a change SQL rolled back: a Redis that
        # hangs (rather than refusing) can still apply a write after we gave up on it.
        self._suspect: set[str] = set()

    def list(self) -> list[RoomSettings]:
        """Every room, shorter numbers first, then in digit order (9 before 10)."""
        query = select(Room).order_by(func.length(Room.number), Room.number)
        with reading(self.sessions) as session:
            return [to_settings(row) for row in session.scalars(query)]

    def get(self, number: str) -> RoomSettings:
        with reading(self.sessions) as session:
            row = _find(session, number)
            if row is None:
                raise RoomNotFoundError(number)
            return to_settings(row)

    def create(self, settings: RoomSettings) -> RoomSettings:
        self.heal()
        with self._unit(settings.number) as session:
            session.add(Room(**settings.as_dict()))
            session.flush()
            live.put_room(self.client, settings.number, settings.as_dict())
        return settings

    def update(self, number: str, change: Callable[[RoomSettings], RoomSettings]) -> RoomSettings:
        """Apply `change` (e.g. a validated PATCH) to the room's current settings.

        `change` may raise (a validation error) and may run more than once.
        """
        self.heal()
        return _retrying(number, lambda: self._update_once(number, change))

    def delete(self, number: str) -> None:
        self.heal()
        _retrying(number, lambda: self._delete_once(number))

    def project_all(self) -> int:
        """Rebuild the whole Redis projection from SQL (at start); the number of rooms."""
        rooms = self.list()
        try:
            live.replace_rooms(self.client, {room.number: room.as_dict() for room in rooms})
        except redis.RedisError as exc:
            raise StoreUnavailableError("live state (Redis)") from exc
        self._suspect.clear()
        return len(rooms)

    def heal(self) -> None:
        """Put the projection of suspect rooms back to what SQL holds, now that Redis answers."""
        for number in sorted(self._suspect):
            self._resync(number)

    def _update_once(self, number: str, change: Callable[[RoomSettings], RoomSettings]) -> RoomSettings:
        with self._unit(number) as session:
            row = _find(session, number)
            if row is None:
                raise RoomNotFoundError(number)
            settings = change(to_settings(row))
            if settings.number != number:
                raise ValueError("a room's number cannot change")
            for name, value in settings.as_dict().items():
                setattr(row, name, value)
            # Always a real UPDATE, even for an empty PATCH, so the version check runs.
            row.updated_at = utcnow()
            session.flush()
            live.put_room(self.client, number, settings.as_dict())
        return settings

    def _delete_once(self, number: str) -> None:
        with self._unit(number) as session:
            row = _find(session, number)
            if row is None:
                raise RoomNotFoundError(number)
            session.delete(row)
            session.flush()
            live.delete_room(self.client, number)


    @contextmanager
    def _unit(self, number: str) -> Iterator[Session]:
        with self.sessions() as session:
            try:
                yield session
                session.commit()
            except IntegrityError as exc:
                session.rollback()
                raise RoomExistsError(number) from exc
            except StaleDataError:
                session.rollback()  # nothing reached Redis: the flush came first
                raise
            except redis.RedisError as exc:
                session.rollback()
                self._suspect.add(number)
                raise StoreUnavailableError("live state (Redis)") from exc
            except SQLAlchemyError as exc:
                session.rollback()
                self._suspect.add(number)
                self._try_resync(number)
                raise StoreUnavailableError("the database") from exc

    def _try_resync(self, number: str) -> None:
        try:
            self._resync(number)
        except StoreUnavailableError as exc:
            # Stays suspect: healed on this process's next change, rebuilt by bootstrap at start.
            log.error("room %s: projection may differ from SQL until healed: %s", number, exc.__cause__)

    def _resync(self, number: str) -> None:
        # A writer in another process changing this very room between our read and
        # our write could still be undone here; the next change or bootstrap fixes it.
        try:
            with self.sessions() as session:
                row = _find(session, number)
                settings = None if row is None else to_settings(row)
        except SQLAlchemyError as exc:
            raise StoreUnavailableError("the database") from exc
        try:
            if settings is None:
                live.delete_room(self.client, number)
            else:
                live.put_room(self.client, number, settings.as_dict())
        except redis.RedisError as exc:
            raise StoreUnavailableError("live state (Redis)") from exc
        self._suspect.discard(number)


def _retrying(number: str, attempt: Callable[[], T]) -> T:
    """Run `attempt` again while it loses the race with another writer of the room."""
    for _ in range(ATTEMPTS):
        try:
            return attempt()
        except StaleDataError:
            continue
    raise RoomConflictError(number)


def _find(session: Session, number: str) -> Room | None:
    return session.scalars(select(Room).where(Room.number == number)).first()
