"""direct_media of extensions and trunks (issue 17): off by default, set and refused through the API,
projected to Redis where Kamailio reads it, and migration 0020 keeps existing ones anchored."""

from __future__ import annotations

from pathlib import Path

import redis
from alembic import command
from alembic.config import Config as AlembicConfig
from flask.testing import FlaskClient
from sqlalchemy import inspect, text

from store import live, migrations
from store.sql import make_engine

BOTH_DATABASES = True

TRUNK = {"name": "lan-carrier", "gateway": "10.0.0.5", "sources": ["10.0.0.5"]}


def test_direct_media_is_off_until_set_and_reaches_redis(api: FlaskClient, auth: dict[str, str],
                                                         client: redis.Redis) -> None:
    extension = api.post("/api/v1/extensions", json={"number": "100", "password": "longenough"}, headers=auth)
    trunk = api.post("/api/v1/trunks", json=TRUNK, headers=auth)
    assert extension.get_json()["direct_media"] is False and trunk.get_json()["direct_media"] is False
    for path, key, table in (("/api/v1/extensions/100", "100", live.EXTENSIONS),
                             ("/api/v1/trunks/lan-carrier", "lan-carrier", live.TRUNKS)):
        assert live.get_entry(client, table, key)["direct_media"] is False  # type: ignore[index]
        patched = api.patch(path, json={"direct_media": True}, headers=auth)
        assert patched.status_code == 200 and patched.get_json()["direct_media"] is True
        assert live.get_entry(client, table, key)["direct_media"] is True  # type: ignore[index]
        assert api.get(path, headers=auth).get_json()["direct_media"] is True


def test_a_bad_direct_media_is_refused_by_name(api: FlaskClient, auth: dict[str, str], client: redis.Redis) -> None:
    for value in ("yes", 1, None, "true"):
        bad = api.post("/api/v1/extensions", json={"number": "100", "password": "longenough", "direct_media": value},
                       headers=auth)
        assert bad.status_code == 400 and bad.get_json()["error"]["field"] == "direct_media", value
        bad = api.post("/api/v1/trunks", json={**TRUNK, "direct_media": value}, headers=auth)
        assert bad.status_code == 400 and bad.get_json()["error"]["field"] == "direct_media", value
    assert client.hlen(live.EXTENSIONS) == 0 and client.hlen(live.TRUNKS) == 0


def test_migration_0020_keeps_existing_phones_and_trunks_anchored_and_takes_it_back(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'kamconf.db'}")
    config = AlembicConfig()
    config.set_main_option("script_location", str(migrations.HERE))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0019")
        connection.execute(text("INSERT INTO trunks (name, gateway, sources, prefixes, inbound, created_at, "
                                "updated_at) VALUES ('old', '192.0.2.1', '[]', '[]', '{}', '2026-01-01', "
                                "'2026-01-01')"))
        connection.execute(text("INSERT INTO extensions (number, ha1, display_name, language, consult_merge, "
                                "external_calls, conference_end_on_exit, conference_announce_caller_name, "
                                "created_at, updated_at) VALUES ('100', 'x', '', 'en', false, true, false, false, "
                                "'2026-01-01', '2026-01-01')"))
        command.upgrade(config, "0020")
        for table in ("trunks", "extensions"):
            assert connection.execute(text(f"SELECT direct_media FROM {table}")).all() == [(False,)]
        command.downgrade(config, "0019")
    for table in ("trunks", "extensions"):
        assert "direct_media" not in {column["name"] for column in inspect(engine).get_columns(table)}
