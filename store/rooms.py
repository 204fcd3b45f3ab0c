"""Rooms: SQL rows and their Redis projection, changed together or not at all."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterator
from contextlib import contextmanager

import redis
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from conference.rooms import RoomSettings
from store import live
from store.sql import Room, utcnow

log = logging.getLogger("kamconf.store")

SETTINGS = [f.name for f in dataclasses.fields(RoomSettings)]


class RoomExistsError(Exception):
    pass


class StoreUnavailableError(Exception):
    """Redis or the database failed mid-change; the change was rolled back."""


def to_settings(row: Room) -> RoomSettings:
    return RoomSettings(**{name: getattr(row, name) for name in SETTINGS})


class RoomRepository:
    def __init__(self, sessions: sessionmaker[Session], client: redis.Redis) -> None:
        self.sessions = sessions
        self.client = client

    def list(self) -> list[RoomSettings]:
        with self.sessions() as session:
            return [to_settings(r) for r in session.scalars(select(Room).order_by(Room.number))]

    def get(self, number: str) -> RoomSettings | None:
        with self.sessions() as session:
            row = session.scalars(select(Room).where(Room.number == number)).first()
            return None if row is None else to_settings(row)

    def create(self, settings: RoomSettings) -> RoomSettings:
        with self._unit(settings.number) as session:
            session.add(Room(**settings.as_dict()))
            session.flush()
            live.put_room(self.client, settings.number, settings.as_dict())
        return settings

    def update(self, settings: RoomSettings) -> RoomSettings:
        with self._unit(settings.number) as session:
            row = session.scalars(select(Room).where(Room.number == settings.number)).one()
            for name, value in settings.as_dict().items():
                setattr(row, name, value)
            row.updated_at = utcnow()
            session.flush()
            live.put_room(self.client, settings.number, settings.as_dict())
        return settings

    def delete(self, number: str) -> bool:
        with self._unit(number) as session:
            row = session.scalars(select(Room).where(Room.number == number)).first()
            if row is None:
                return False
            session.delete(row)
            session.flush()
            live.delete_room(self.client, number)
        return True

    def project_all(self) -> int:
        """Rebuild the Redis projection from SQL (at start); the number of rooms."""
        rooms = self.list()
        live.replace_rooms(self.client, {room.number: room.as_dict() for room in rooms})
        return len(rooms)

    @contextmanager
    def _unit(self, number: str) -> Iterator[Session]:
        """SQL and Redis change together: Redis is written last, before the SQL commit,
        so a Redis failure rolls the SQL change back and nothing is half-written."""
        with self.sessions() as session:
            try:
                yield session
                session.commit()
            except IntegrityError as exc:
                session.rollback()
                raise RoomExistsError(str(exc.orig)) from exc
            except redis.RedisError as exc:
                session.rollback()
                raise StoreUnavailableError("live state (Redis)") from exc
            except SQLAlchemyError as exc:
                session.rollback()
                self._resync(number)
                raise StoreUnavailableError("the database") from exc

    def _resync(self, number: str) -> None:
        """The commit failed after Redis took the change: put Redis back to what SQL holds."""
        try:
            room = self.get(number)
            if room is None:
                live.delete_room(self.client, number)
            else:
                live.put_room(self.client, number, room.as_dict())
        except (SQLAlchemyError, redis.RedisError) as exc:
            # Both stores are failing; the projection is rebuilt from SQL at the next start.
            log.error("room %s: projection may differ from SQL until restart: %s", number, exc)
