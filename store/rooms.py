"""Rooms in SQL, projected into Redis for KEMI and the bridge (store.projected)."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import redis
from sqlalchemy.orm import Session, sessionmaker

from conference.rooms import PIN_LISTS, RoomSettings
from store import live
from store.projected import ProjectedRepository, Table
from store.sql import Room

SETTINGS = tuple(f.name for f in dataclasses.fields(RoomSettings))


def to_settings(row: Room) -> RoomSettings:
    columns = {name: getattr(row, name) for name in SETTINGS}
    return RoomSettings(**{**columns, **{name: tuple(json.loads(columns[name])) for name in PIN_LISTS}})


def to_row(settings: RoomSettings) -> dict[str, Any]:
    """SQL columns: the PIN lists as JSON text."""
    data = settings.as_dict()
    return {**data, **{name: json.dumps(data[name]) for name in PIN_LISTS}}


ROOMS = Table("room", Room, "number", live.ROOMS, to_settings, to_row)


class RoomRepository(ProjectedRepository[RoomSettings]):
    def __init__(self, sessions: sessionmaker[Session], client: redis.Redis) -> None:
        super().__init__(ROOMS, sessions, client)
