"""Integration fixtures: one real redis-server per session (flushed per test), a
SQLite file per test under tmp_path, and the app with a token."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient

import settings
from store import live
from store.migrations import upgrade
from store.sql import make_engine, make_sessions
from store.tokens import create_token
from tests.support.redis_server import RedisServer
from web.app import create_app


@pytest.fixture(scope="session")
def redis_srv() -> Iterator[RedisServer]:
    with RedisServer() as server:
        yield server


@pytest.fixture
def client(redis_srv: RedisServer) -> Iterator[redis.Redis]:
    """A connection to the test Redis, emptied for this test."""
    connection = live.connect(redis_srv.url, timeout=2.0)
    connection.flushdb()
    yield connection
    connection.close()


def write_config(folder: Path, redis_port: int, extra: str = "", var_dir: Path | None = None) -> Path:
    """folder/kamconf.toml, with var_dir (and so the SQLite file) in `folder` unless given."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "kamconf.toml"
    path.write_text(f'var_dir = "{var_dir or folder}"\n{extra}\n[redis]\nport = {redis_port}\n')
    return path


@pytest.fixture
def config(tmp_path: Path, redis_srv: RedisServer) -> settings.Config:
    """Configuration for this test; its file is var_path / "kamconf.toml"."""
    return settings.load(write_config(tmp_path, redis_srv.port), env={})


@pytest.fixture
def app(config: settings.Config, client: redis.Redis) -> Flask:
    upgrade(make_engine(config.database_url))
    return create_app(config)


@pytest.fixture
def api(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def auth(config: settings.Config, app: Flask) -> dict[str, str]:
    token = create_token(make_sessions(make_engine(config.database_url)))
    return {"Authorization": f"Bearer {token}"}
