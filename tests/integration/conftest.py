from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis
from flask.testing import FlaskClient

from stack import config as stack_config
from store import live
from store.migrations import upgrade
from store.sql import make_engine, make_sessions
from store.tokens import create_token
from tests.support.redis_server import RedisServer, redis_server
from web.app import create_app


@pytest.fixture(scope="session")
def redis_srv() -> Iterator[RedisServer]:
    with redis_server() as server:
        yield server


@pytest.fixture
def client(redis_srv: RedisServer) -> Iterator[redis.Redis]:
    connection = live.connect(redis_srv.url)
    connection.flushdb()
    yield connection
    connection.flushdb()


@pytest.fixture
def config(tmp_path: Path, redis_srv: RedisServer) -> stack_config.Config:
    path = tmp_path / "kamconf.toml"
    port = redis_srv.url.rsplit(":", 1)[1].split("/")[0]
    path.write_text(f'var_dir = "{tmp_path}"\n[redis]\nport = {port}\n')
    return stack_config.load(path, env={})


@pytest.fixture
def api(config: stack_config.Config, client: redis.Redis) -> FlaskClient:
    upgrade(make_engine(config.database_url))
    return create_app(config).test_client()


@pytest.fixture
def auth(config: stack_config.Config, api: FlaskClient) -> dict[str, str]:
    token = create_token(make_sessions(make_engine(config.database_url)))
    return {"Authorization": f"Bearer {token}"}


@contextmanager
def paused(server: RedisServer) -> Iterator[None]:
    """Redis hung (SIGSTOP): clients time out instead of being refused."""
    os.kill(server.proc.pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(server.proc.pid, signal.SIGCONT)
