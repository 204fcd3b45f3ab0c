"""Roles and tokens: every /api/v1 rule declares a role (walked from the URL map, so a new
endpoint cannot be left open), the role matrix on representative endpoints, and API tokens
(create, list without secrets, expire, revoke; tokens made before accounts are admin tokens)."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta

import pytest
from alembic import command
from flask import Blueprint, Flask
from flask.testing import FlaskClient
from sqlalchemy import text

import settings
from store.accounts import Account
from store.migrations import _alembic_config, upgrade
from store.sql import make_engine
from tests.integration.conftest import auth_services
from tests.integration.test_api_rooms import failed
from web.access import access_of
from web.app import create_app

PUBLIC = {("POST", "/api/v1/session"), ("GET", "/api/v1/openapi.json")}
# What a user may do: its session, its tokens, and read its own extension (2001).
# Its contacts, and conferences: listing, history and templates show it its own, and it schedules its own
# (a conference's own paths let it through only for its own conferences: test_api_portal.py).
USER_MAY = {("GET", "/api/v1/session"), ("DELETE", "/api/v1/session"), ("GET", "/api/v1/tokens"),
            ("POST", "/api/v1/tokens"), ("DELETE", "/api/v1/tokens/<token_id>"),
            ("GET", "/api/v1/contacts"), ("POST", "/api/v1/contacts"), ("PATCH", "/api/v1/contacts/<contact_id>"),
            ("DELETE", "/api/v1/contacts/<contact_id>"), ("GET", "/api/v1/conferences"),
            ("POST", "/api/v1/conferences"), ("GET", "/api/v1/history"), ("GET", "/api/v1/templates"),
            ("POST", "/api/v1/templates"), ("DELETE", "/api/v1/templates/<name>"), ("GET", "/api/v1/live-rooms")}
ADMIN_ONLY = ("/api/v1/accounts", "/api/v1/trunks")


def api_rules(app: Flask) -> list[tuple[str, str, str]]:
    """(method, rule, endpoint) of every /api/v1 route."""
    return sorted((method, rule.rule, rule.endpoint) for rule in app.url_map.iter_rules()
                  if rule.rule.startswith("/api/v1/") for method in rule.methods or ()
                  if method not in ("HEAD", "OPTIONS"))


def test_every_api_rule_declares_a_role_and_only_sign_in_and_openapi_are_public(app: Flask) -> None:
    rules = api_rules(app)
    assert len(rules) > 40
    undeclared = [(method, rule) for method, rule, endpoint in rules if access_of(app, endpoint) is None]
    assert undeclared == []
    public = {(method, rule) for method, rule, endpoint in rules if access_of(app, endpoint).role is None}  # type: ignore[union-attr]
    assert public == PUBLIC


def test_every_api_rule_answers_each_kind_of_caller_as_its_role_says(
    app: Flask, api: FlaskClient, people: dict[str, Account], headers: dict[str, dict[str, str]]
) -> None:
    tokens = auth_services(app).tokens
    expired = tokens.create(people["admin"].id, "old", datetime.now(UTC) - timedelta(seconds=1))[1]
    revoked_info, revoked = tokens.create(people["admin"].id, "gone")
    tokens.revoke(people["admin"].id, revoked_info.id)
    callers = {**headers, "expired": {"Authorization": f"Bearer {expired}"},
               "revoked": {"Authorization": f"Bearer {revoked}"}}
    for method, rule, _ in api_rules(app):
        if (method, rule) in PUBLIC:
            continue
        path = re.sub(r"<(\w+)>", "1", rule)
        for caller in ("none", "expired", "revoked", "user", "operator", "admin"):
            response = api.open(path, method=method, json={}, headers=callers[caller])
            if caller in ("none", "expired", "revoked"):
                failed(response, 401, "unauthorized")
            elif caller == "admin" or (method, rule) in USER_MAY or (
                    caller == "operator" and not rule.startswith(ADMIN_ONLY)):
                assert response.status_code not in (401, 403), (caller, method, rule)
            else:
                failed(response, 403, "forbidden")


def test_public_rules_answer_without_credentials(app: Flask, api: FlaskClient) -> None:
    for method, rule in PUBLIC:
        assert api.open(rule, method=method, json={}).status_code in (200, 400), rule


def test_a_view_that_declares_nothing_is_refused_even_to_an_admin(
    config: settings.Config, people: dict[str, Account]
) -> None:
    app = create_app(config)
    careless = Blueprint("careless", __name__, url_prefix="/api/v1")
    careless.add_url_rule("/careless", "careless", lambda: "open")
    app.register_blueprint(careless)
    assert access_of(app, "careless.careless") is None  # what the walk above would report
    token = auth_services(app).tokens.create(people["admin"].id)[1]
    failed(app.test_client().get("/api/v1/careless", headers={"Authorization": f"Bearer {token}"}), 403, "forbidden")


@pytest.mark.parametrize(("method", "path", "allowed"), [
    ("GET", "/api/v1/rooms", {"admin", "operator"}),
    ("GET", "/api/v1/rooms/1/participants", {"admin", "operator"}),
    ("GET", "/api/v1/sounds", {"admin", "operator"}),
    ("GET", "/api/v1/recordings", {"admin", "operator"}),
    ("GET", "/api/v1/cdrs", {"admin", "operator"}),
    ("GET", "/api/v1/conferences", {"admin", "operator", "user"}),  # a user: its own
    ("GET", "/api/v1/conferences/123456", {"admin", "operator"}),  # not its own (none is)
    ("GET", "/api/v1/contacts", {"admin", "operator", "user"}),
    ("GET", "/api/v1/extensions", {"admin", "operator"}),
    ("GET", "/api/v1/extensions/2001", {"admin", "operator", "user"}),
    ("GET", "/api/v1/extensions/2002", {"admin", "operator"}),
    ("GET", "/api/v1/trunks", {"admin"}),
    ("GET", "/api/v1/accounts", {"admin"}),
    ("GET", "/api/v1/session", {"admin", "operator", "user"}),
    ("GET", "/api/v1/tokens", {"admin", "operator", "user"}),
    ("GET", "/api/v1/openapi.json", {"admin", "operator", "user", "none"}),
])
def test_role_matrix(api: FlaskClient, headers: dict[str, dict[str, str]], method: str, path: str,
                     allowed: set[str]) -> None:
    for role in ("admin", "operator", "user", "none"):
        response = api.open(path, method=method, headers=headers[role])
        if role in allowed:
            assert response.status_code in (200, 404), (role, path, response.get_data(as_text=True))
        else:
            failed(response, 401 if role == "none" else 403, "unauthorized" if role == "none" else "forbidden")


def test_changes_by_role(api: FlaskClient, headers: dict[str, dict[str, str]]) -> None:
    room = {"number": "500"}
    failed(api.post("/api/v1/rooms", json=room, headers=headers["user"]), 403, "forbidden")
    assert api.post("/api/v1/rooms", json=room, headers=headers["operator"]).status_code == 201
    trunk = {"name": "carrier", "gateway": "192.0.2.50", "sources": ["192.0.2.50"]}
    failed(api.post("/api/v1/trunks", json=trunk, headers=headers["operator"]), 403, "forbidden")
    assert api.post("/api/v1/trunks", json=trunk, headers=headers["admin"]).status_code == 201
    failed(api.patch("/api/v1/extensions/2001", json={"display_name": "me"}, headers=headers["user"]), 403,
           "forbidden")
    account = {"name": "eve", "role": "admin", "password": "long-enough-pw"}
    failed(api.post("/api/v1/accounts", json=account, headers=headers["operator"]), 403, "forbidden")


def test_a_role_change_applies_to_the_accounts_tokens_at_once(
    api: FlaskClient, people: dict[str, Account], headers: dict[str, dict[str, str]]
) -> None:
    assert api.get("/api/v1/trunks", headers=headers["operator"]).status_code == 403
    api.patch(f"/api/v1/accounts/{people['operator'].id}", json={"role": "admin"}, headers=headers["admin"])
    assert api.get("/api/v1/trunks", headers=headers["operator"]).status_code == 200
    api.patch(f"/api/v1/accounts/{people['operator'].id}", json={"disabled": True}, headers=headers["admin"])
    failed(api.get("/api/v1/rooms", headers=headers["operator"]), 401, "unauthorized")


# Tokens ---------------------------------------------------------------------------------


def test_a_token_is_created_listed_without_its_secret_used_and_revoked(
    api: FlaskClient, headers: dict[str, dict[str, str]]
) -> None:
    created = api.post("/api/v1/tokens", json={"name": "ci", "expires_in_days": 30}, headers=headers["operator"])
    assert created.status_code == 201 and created.headers["Cache-Control"] == "no-store"
    token = created.get_json()
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", token["token"]) and token["name"] == "ci"
    expires = datetime.fromisoformat(token["expires_at"])
    assert timedelta(days=29) < expires - datetime.now(UTC) <= timedelta(days=30)
    mine = {"Authorization": f"Bearer {token['token']}"}
    assert api.get("/api/v1/rooms", headers=mine).status_code == 200  # the operator's role
    failed(api.get("/api/v1/trunks", headers=mine), 403, "forbidden")
    listed = api.get("/api/v1/tokens", headers=headers["operator"])
    assert token["token"] not in listed.get_data(as_text=True)
    entry = next(t for t in listed.get_json() if t["id"] == token["id"])
    assert set(entry) == {"id", "name", "created_at", "expires_at", "last_used_at"} and entry["last_used_at"]
    others = api.get("/api/v1/tokens", headers=headers["admin"]).get_json()
    assert token["id"] not in [t["id"] for t in others]  # each account sees its own
    failed(api.delete(f"/api/v1/tokens/{token['id']}", headers=headers["admin"]), 404, "not_found")
    assert api.delete(f"/api/v1/tokens/{token['id']}", headers=headers["operator"]).status_code == 204
    failed(api.get("/api/v1/rooms", headers=mine), 401, "unauthorized")
    failed(api.delete(f"/api/v1/tokens/{token['id']}", headers=headers["operator"]), 404, "not_found")
    failed(api.delete("/api/v1/tokens/abc", headers=headers["operator"]), 404, "not_found")


@pytest.mark.parametrize(("body", "field"), [
    ({"expires_in_days": 0}, "expires_in_days"), ({"expires_in_days": "30"}, "expires_in_days"),
    ({"expires_in_days": 3651}, "expires_in_days"), ({"name": "x" * 101}, "name"), ({"role": "admin"}, "role"),
])
def test_a_bad_token_request_is_400(api: FlaskClient, headers: dict[str, dict[str, str]], body: dict[str, object],
                                    field: str) -> None:
    response = api.post("/api/v1/tokens", json=body, headers=headers["user"])
    failed(response, 400, "unknown_field" if field == "role" else "invalid_field", field)


def test_an_expired_token_is_refused(app: Flask, api: FlaskClient, people: dict[str, Account]) -> None:
    tokens = auth_services(app).tokens
    _, expired = tokens.create(people["admin"].id, "old", datetime.now(UTC) - timedelta(seconds=1))
    _, fresh = tokens.create(people["admin"].id, "new", datetime.now(UTC) + timedelta(minutes=5))
    failed(api.get("/api/v1/rooms", headers={"Authorization": f"Bearer {expired}"}), 401, "unauthorized")
    assert api.get("/api/v1/rooms", headers={"Authorization": f"Bearer {fresh}"}).status_code == 200


def test_a_user_token_acts_as_the_user(api: FlaskClient, headers: dict[str, dict[str, str]]) -> None:
    created = api.post("/api/v1/tokens", json={}, headers=headers["user"]).get_json()
    mine = {"Authorization": f"Bearer {created['token']}"}
    assert created["expires_at"] is None
    assert api.get("/api/v1/extensions/2001", headers=mine).status_code == 200
    failed(api.get("/api/v1/extensions/2002", headers=mine), 403, "forbidden")


def test_tokens_made_before_accounts_are_admin_tokens(config: settings.Config, client: object) -> None:
    engine = make_engine(config.database_url)
    alembic = _alembic_config()
    with engine.begin() as connection:
        alembic.attributes["connection"] = connection
        command.upgrade(alembic, "0007")
        old = "an-old-token-made-by-python-m-web-token-before-accounts"
        connection.execute(text("INSERT INTO api_tokens (token_sha256, role, created_at) VALUES (:h, 'admin', :t)"),
                           {"h": hashlib.sha256(old.encode()).hexdigest(), "t": datetime.now(UTC)})
    upgrade(engine)
    api = create_app(config).test_client()
    bearer = {"Authorization": f"Bearer {old}"}
    me = api.get("/api/v1/session", headers=bearer).get_json()
    assert me["account"]["name"] == "admin" and me["account"]["role"] == "admin" and me["via"] == "token"
    assert api.get("/api/v1/accounts", headers=bearer).status_code == 200
    assert api.get("/api/v1/trunks", headers=bearer).status_code == 200
    assert len(api.get("/api/v1/tokens", headers=bearer).get_json()) == 1
