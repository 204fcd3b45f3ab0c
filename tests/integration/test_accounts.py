"""The accounts API (admins only), the last-admin rule, `make admin` (python -m web.admin),
bootstrap's hint when no admin can sign in, and the session key kept in var/."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from typing import Any

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient

import settings
from store.accounts import Account
from tests.integration.conftest import ADMIN_PASSWORD
from tests.integration.test_api_rooms import ROOT, failed, run
from web.app import create_app

BOTH_DATABASES = True  # each test on SQLite and on PostgreSQL (tests/integration/conftest.py)

def test_an_admin_creates_reads_changes_and_deletes_an_account(
    api: FlaskClient, headers: dict[str, dict[str, str]]
) -> None:
    admin = headers["admin"]
    created = api.post("/api/v1/accounts", json={"name": "carol", "role": "operator", "password": "carol-password"},
                       headers=admin)
    assert created.status_code == 201, created.get_data(as_text=True)
    carol = created.get_json()
    assert created.headers["Location"] == f"/api/v1/accounts/{carol['id']}"
    assert set(carol) == {"id", "name", "role", "disabled", "password_set", "created_at", "updated_at"}
    assert (carol["name"], carol["role"], carol["disabled"], carol["password_set"]) == ("carol", "operator", False,
                                                                                        True)
    assert api.get(f"/api/v1/accounts/{carol['id']}", headers=admin).get_json() == carol
    names = [a["name"] for a in api.get("/api/v1/accounts", headers=admin).get_json()]
    assert names == ["admin", "boss", "op", "2001", "carol"]
    changed = api.patch(f"/api/v1/accounts/{carol['id']}", json={"role": "admin", "disabled": True}, headers=admin)
    assert (changed.get_json()["role"], changed.get_json()["disabled"]) == ("admin", True)
    assert api.post("/api/v1/session", json={"name": "carol", "password": "carol-password"}).status_code == 401
    assert api.delete(f"/api/v1/accounts/{carol['id']}", headers=admin).status_code == 204
    failed(api.get(f"/api/v1/accounts/{carol['id']}", headers=admin), 404, "not_found")
    failed(api.delete(f"/api/v1/accounts/{carol['id']}", headers=admin), 404, "not_found")
    failed(api.get("/api/v1/accounts/x", headers=admin), 404, "not_found")


def test_an_extension_becomes_a_user_account_by_its_number(
    api: FlaskClient, headers: dict[str, dict[str, str]], auth: dict[str, str]
) -> None:
    api.post("/api/v1/extensions", json={"number": "2002", "password": "sip-secret-2"}, headers=auth)
    made = api.post("/api/v1/accounts", json={"name": "2002", "role": "user"}, headers=headers["admin"])
    assert made.status_code == 201 and made.get_json()["password_set"] is False
    failed(api.post("/api/v1/accounts", json={"name": "2002", "role": "user"}, headers=headers["admin"]),
           409, "duplicate", "name")


@pytest.mark.parametrize(("body", "error_id", "field"), [
    ({"name": "dave", "role": "operator"}, "missing_field", "password"),
    ({"name": "dave", "role": "operator", "password": "short"}, "invalid_field", "password"),
    ({"name": "dave", "role": "operator", "password": "p" * 129}, "invalid_field", "password"),
    ({"name": "dave", "role": "operator", "password": "tab\there-is-bad"}, "invalid_field", "password"),
    ({"name": "dave", "role": "root", "password": "long-enough-pw"}, "invalid_field", "role"),
    ({"name": "Dave", "role": "operator", "password": "long-enough-pw"}, "invalid_field", "name"),
    ({"name": "1234", "role": "operator", "password": "long-enough-pw"}, "invalid_field", "name"),
    ({"name": "dave", "role": "user"}, "invalid_field", "name"),
    ({"name": "2999", "role": "user"}, "invalid_field", "name"),
    ({"name": "2001", "role": "user", "password": "long-enough-pw"}, "invalid_field", "password"),
    ({"name": "boss", "role": "operator", "password": "long-enough-pw"}, "duplicate", "name"),
    ({"role": "operator", "password": "long-enough-pw"}, "missing_field", "name"),
    ({"name": "dave", "role": "operator", "password": "long-enough-pw", "email": "x"}, "unknown_field", "email"),
])
def test_a_refused_account_names_the_field(
    api: FlaskClient, headers: dict[str, dict[str, str]], body: dict[str, Any], error_id: str, field: str
) -> None:
    failed(api.post("/api/v1/accounts", json=body, headers=headers["admin"]), 409 if error_id == "duplicate" else 400,
           error_id, field)


@pytest.mark.parametrize(("who", "body", "error_id", "field"), [
    ("user", {"role": "operator"}, "invalid_field", "role"),
    ("user", {"password": "long-enough-pw"}, "invalid_field", "password"),
    ("operator", {"role": "user"}, "invalid_field", "role"),
    ("operator", {"name": "other"}, "immutable_field", "name"),
    ("operator", {"password": "short"}, "invalid_field", "password"),
    ("operator", {"disabled": "yes"}, "invalid_field", "disabled"),
])
def test_a_refused_change_names_the_field(
    api: FlaskClient, people: dict[str, Account], headers: dict[str, dict[str, str]], who: str, body: dict[str, Any],
    error_id: str, field: str,
) -> None:
    failed(api.patch(f"/api/v1/accounts/{people[who].id}", json=body, headers=headers["admin"]), 400, error_id, field)


def test_the_last_enabled_admin_cannot_be_deleted_disabled_or_demoted(
    api: FlaskClient, people: dict[str, Account], headers: dict[str, dict[str, str]]
) -> None:
    admin, boss = headers["admin"], people["admin"].id
    builtin = next(a for a in api.get("/api/v1/accounts", headers=admin).get_json() if a["name"] == "admin")
    assert builtin["password_set"] is False  # made by the migration
    assert api.delete(f"/api/v1/accounts/{builtin['id']}", headers=admin).status_code == 204
    for response in (api.delete(f"/api/v1/accounts/{boss}", headers=admin),
                     api.patch(f"/api/v1/accounts/{boss}", json={"role": "operator"}, headers=admin),
                     api.patch(f"/api/v1/accounts/{boss}", json={"disabled": True}, headers=admin)):
        failed(response, 409, "last_admin")
    assert api.get(f"/api/v1/accounts/{boss}", headers=admin).get_json()["role"] == "admin"
    assert api.patch(f"/api/v1/accounts/{boss}", json={"password": "still-the-boss"}, headers=admin).status_code == 200
    # With another admin, boss may go.
    api.patch(f"/api/v1/accounts/{people['operator'].id}", json={"role": "admin"}, headers=admin)
    assert api.patch(f"/api/v1/accounts/{boss}", json={"role": "operator"}, headers=admin).status_code == 200
    failed(api.get("/api/v1/accounts", headers=admin), 403, "forbidden")  # boss is an operator now


# make admin, bootstrap, python -m web.token ------------------------------------------------


def admin_command(config: settings.Config, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "KAMCONF_CONFIG": str(config.var_path / "kamconf.toml"), "PYTHONPATH": str(ROOT),
                   **env}
    return subprocess.run([sys.executable, "-m", "web.admin"], env=environment, capture_output=True, text=True,
                          timeout=60, stdin=subprocess.DEVNULL)


def test_make_admin_sets_up_the_first_admin_and_bootstrap_stops_asking_for_one(
    config: settings.Config, client: redis.Redis
) -> None:
    config_file = config.var_path / "kamconf.toml"
    hint = "no admin can sign in yet: create the first one with `make admin`"
    first = run("store.bootstrap", config_file)
    assert first.returncode == 0 and hint in first.stdout
    no_terminal = admin_command(config)
    assert no_terminal.returncode == 1 and "KAMCONF_ADMIN_PASSWORD" in no_terminal.stderr
    short = admin_command(config, KAMCONF_ADMIN_PASSWORD="short")
    assert short.returncode == 1 and "password" in short.stderr and "short" not in short.stderr + short.stdout
    made = admin_command(config, KAMCONF_ADMIN_PASSWORD=ADMIN_PASSWORD)
    assert made.returncode == 0, made.stderr
    assert made.stdout.startswith("admin: admin account admin now has this password") and ADMIN_PASSWORD not in (
        made.stdout + made.stderr)
    assert hint not in run("store.bootstrap", config_file).stdout
    again = admin_command(config, KAMCONF_ADMIN_PASSWORD="second-password", KAMCONF_ADMIN_NAME="alice")
    assert again.returncode == 0 and again.stdout.startswith("admin: admin account alice created")
    api = create_app(config).test_client()
    for name, password in (("admin", ADMIN_PASSWORD), ("alice", "second-password")):
        response = api.post("/api/v1/session", json={"name": name, "password": password})
        assert response.status_code == 200 and response.get_json()["account"]["role"] == "admin"


def test_the_token_command_mints_for_the_oldest_enabled_admin(
    config: settings.Config, api: FlaskClient, people: dict[str, Account], headers: dict[str, dict[str, str]]
) -> None:
    builtin = next(a for a in api.get("/api/v1/accounts", headers=headers["admin"]).get_json() if a["name"] == "admin")
    api.delete(f"/api/v1/accounts/{builtin['id']}", headers=headers["admin"])
    printed = run("web.token", config.var_path / "kamconf.toml")
    assert printed.returncode == 0, printed.stderr
    me = api.get("/api/v1/session", headers={"Authorization": f"Bearer {printed.stdout.strip()}"}).get_json()
    assert me["account"]["name"] == "boss"


def test_the_session_key_is_made_once_privately_in_var(config: settings.Config, app: Flask) -> None:
    key = config.var_path / "secrets" / "web.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600 and len(key.read_text().strip()) == 64
    assert app.secret_key == key.read_text().strip() == create_app(config).secret_key
    assert not [p for p in key.parent.iterdir() if p.name != "web.key"]  # no temporary file left
