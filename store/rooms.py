"""Rooms in SQL, projected into Redis for KEMI and the bridge (store.projected)."""

from __future__ import annotations

import dataclasses

import redis
from sqlalchemy.orm import Session, sessionmaker

from conference.rooms import RoomSettings
from store import live
from store.projected import ProjectedRepository, Table
from store.sql import Room

SETTINGS = tuple(f.name for f in dataclasses.fields(RoomSettings))


def to_settings(row: Room) -> RoomSettings:
    return RoomSettings(**{name: getattr(row, name) for name in SETTINGS})


ROOMS = Table("room", Room, "number", live.ROOMS, to_settings, RoomSettings.as_dict)


class RoomRepository(ProjectedRepository[RoomSettings]):
    def __init__(self, sessions: sessionmaker[Session], client: redis.Redis) -> None:
        super().__init__(ROOMS, sessions, client)
