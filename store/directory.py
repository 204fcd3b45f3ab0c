"""Extensions, trunks and voice menus in SQL, projected into Redis for KEMI and the bridge (store.projected)."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import redis
from sqlalchemy.orm import Session, sessionmaker

from conference.extensions import ExtensionSettings, Presentation, TrunkSettings
from conference.menus import MenuSettings
from store import live
from store.projected import ProjectedRepository, Table
from store.sql import Extension, Menu, Trunk

_EXTENSION_COLUMNS = tuple(f.name for f in dataclasses.fields(ExtensionSettings))


def _extension(row: Extension) -> ExtensionSettings:
    return ExtensionSettings(**{name: getattr(row, name) for name in _EXTENSION_COLUMNS})


def _trunk(row: Trunk) -> TrunkSettings:
    return TrunkSettings(row.name, row.gateway, tuple(json.loads(row.sources)), tuple(json.loads(row.prefixes)),
                         json.loads(row.inbound), row.trusted, row.caller_id, Presentation(row.present_as),
                         tuple(json.loads(row.callback)), row.callback_owner, row.callback_per_hour,
                         row.direct_media)


def _trunk_row(trunk: TrunkSettings) -> dict[str, Any]:
    data = trunk.as_dict()
    return {**data, **{name: json.dumps(data[name]) for name in ("sources", "prefixes", "inbound", "callback")}}


def menu_of(row: Menu) -> MenuSettings:
    return MenuSettings.from_dict({**json.loads(row.settings), "number": row.number, "owner": row.owner})


def _menu_row(menu: MenuSettings) -> dict[str, Any]:
    data = menu.as_dict()
    return {"number": data.pop("number"), "owner": data.pop("owner"), "settings": json.dumps(data)}


EXTENSIONS = Table("extension", Extension, "number", live.EXTENSIONS, _extension, ExtensionSettings.as_dict)
TRUNKS = Table("trunk", Trunk, "name", live.TRUNKS, _trunk, _trunk_row)
MENUS = Table("menu", Menu, "number", live.MENUS, menu_of, _menu_row)


def extensions(sessions: sessionmaker[Session], client: redis.Redis) -> ProjectedRepository[ExtensionSettings]:
    return ProjectedRepository(EXTENSIONS, sessions, client)


def trunks(sessions: sessionmaker[Session], client: redis.Redis) -> ProjectedRepository[TrunkSettings]:
    return ProjectedRepository(TRUNKS, sessions, client)


def menus(sessions: sessionmaker[Session], client: redis.Redis) -> ProjectedRepository[MenuSettings]:
    return ProjectedRepository(MENUS, sessions, client)
