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
from store.accounts import Account, NewAccount, Role
from store.migrations import upgrade
from store.sql import make_engine, make_sessions
from store.tokens import create_token
from tests.support.postgres import PostgresServer
from tests.support.redis_server import RedisServer
from web.app import create_app
from web.auth import EXTENSION as AUTH_EXTENSION
from web.auth import Auth


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


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    with PostgresServer() as server:
        yield server


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A module with BOTH_DATABASES = True runs each test on SQLite and on PostgreSQL."""
    if "database" in metafunc.fixturenames and getattr(metafunc.module, "BOTH_DATABASES", False):
        metafunc.parametrize("database", ["sqlite", "postgresql"], indirect=True)


@pytest.fixture
def database(request: pytest.FixtureRequest) -> str:
    """The SQL database's URL for this test ("" for the default SQLite file under var_dir)."""
    if getattr(request, "param", "sqlite") == "sqlite":
        return ""
    server: PostgresServer = request.getfixturevalue("postgres")
    return server.new_database()


@pytest.fixture
def config(tmp_path: Path, redis_srv: RedisServer, database: str) -> settings.Config:
    """Configuration for this test; its file is var_path / "kamconf.toml"."""
    extra = f'[web]\ndatabase_url = "{database}"' if database else ""
    return settings.load(write_config(tmp_path, redis_srv.port, extra), env={})


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


# Accounts of each role, and their tokens -------------------------------------------

ADMIN_PASSWORD = "admin-password-1"
OPERATOR_PASSWORD = "operator-password-1"
EXTENSION_PASSWORD = "sip-secret-1"  # of the user account's extension


def bearer(app: Flask, account_id: int) -> dict[str, str]:
    """Authorization headers with a new token of the account."""
    return {"Authorization": f"Bearer {auth_services(app).tokens.create(account_id)[1]}"}


def auth_services(app: Flask) -> Auth:
    found: Auth = app.extensions[AUTH_EXTENSION]
    return found


@pytest.fixture
def people(app: Flask, api: FlaskClient, auth: dict[str, str]) -> dict[str, Account]:
    """An admin `boss`, an operator `op` and the user of extension 2001, each with a password."""
    accounts = auth_services(app).accounts
    made = {
        "admin": accounts.create(NewAccount("boss", Role.ADMIN, ADMIN_PASSWORD)),
        "operator": accounts.create(NewAccount("op", Role.OPERATOR, OPERATOR_PASSWORD)),
    }
    created = api.post("/api/v1/extensions", json={"number": "2001", "password": EXTENSION_PASSWORD}, headers=auth)
    assert created.status_code == 201, created.get_data(as_text=True)
    made["user"] = accounts.create(NewAccount("2001", Role.USER, None))
    return made


@pytest.fixture
def headers(app: Flask, people: dict[str, Account]) -> dict[str, dict[str, str]]:
    """Bearer headers per role: "admin", "operator", "user", and "none" (no credentials)."""
    return {**{role: bearer(app, account.id) for role, account in people.items()}, "none": {}}
