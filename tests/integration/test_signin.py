"""Signing in and sessions against a real Redis and SQLite: success, one answer for unknown and
wrong, lockout per name and per source (429, Retry-After, the same work done), CSRF on cookie
sessions, sign-out ending the session on the server, users signing in with their extension."""

from __future__ import annotations

import logging
from typing import Any

import pytest
import redis
from argon2 import PasswordHasher
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update

import settings
import store.signin
from store.accounts import HASHER, Account
from store.signin import ACCOUNT_FAILURES, SOURCE_FAILURES, WINDOW
from store.sql import Account as AccountRow
from tests.integration.conftest import ADMIN_PASSWORD, EXTENSION_PASSWORD, OPERATOR_PASSWORD, auth_services
from tests.integration.test_api_rooms import failed
from tests.support.redis_server import RedisServer
from web.app import create_app


def sign_in(api: FlaskClient, name: str, password: str, source: str = "192.0.2.1") -> tuple[int, Any]:
    response = api.post("/api/v1/session", json={"name": name, "password": password},
                        environ_base={"REMOTE_ADDR": source})
    return response.status_code, response.get_json()


def test_signing_in_sets_a_secure_session_cookie_and_answers_who_and_the_csrf_token(
    api: FlaskClient, people: dict[str, Account]
) -> None:
    response = api.post("/api/v1/session", json={"name": "boss", "password": ADMIN_PASSWORD})
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert body["account"]["name"] == "boss" and body["account"]["role"] == "admin" and body["via"] == "session"
    assert len(body["csrf_token"]) >= 32 and ADMIN_PASSWORD not in response.get_data(as_text=True)
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("kamconf_session=") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert response.headers["Cache-Control"] == "no-store"
    me = api.get("/api/v1/session")
    assert me.status_code == 200 and me.get_json() == body
    assert api.get("/api/v1/rooms").status_code == 200  # the cookie alone authenticates reads


def test_the_cookie_is_secure_over_tls(api: FlaskClient, people: dict[str, Account]) -> None:
    response = api.post("/api/v1/session", json={"name": "boss", "password": ADMIN_PASSWORD},
                        base_url="https://localhost")
    assert "Secure" in response.headers["Set-Cookie"]


def test_a_name_is_case_insensitive(api: FlaskClient, people: dict[str, Account]) -> None:
    assert sign_in(api, "Boss", ADMIN_PASSWORD)[0] == 200


def test_unknown_wrong_and_disabled_get_one_answer(
    app: Flask, api: FlaskClient, people: dict[str, Account], headers: dict[str, dict[str, str]]
) -> None:
    answers = [api.post("/api/v1/session", json={"name": name, "password": password})
               for name, password in (("nobody", ADMIN_PASSWORD), ("boss", "wrong-password"),
                                      ("9999", EXTENSION_PASSWORD), ("2001", "wrong-password"))]
    api.patch(f"/api/v1/accounts/{people['operator'].id}", json={"disabled": True}, headers=headers["admin"])
    answers.append(api.post("/api/v1/session", json={"name": "op", "password": OPERATOR_PASSWORD}))
    messages = {failed(answer, 401, "unauthorized") for answer in answers}
    assert messages == {"wrong name or password, or the account is disabled"}
    assert {answer.headers.get("Set-Cookie") for answer in answers} == {None}


def test_a_bad_sign_in_body_is_400(api: FlaskClient, people: dict[str, Account]) -> None:
    failed(api.post("/api/v1/session", json={"name": "boss"}), 400, "missing_field", "password")
    failed(api.post("/api/v1/session", json={"name": "boss", "password": 5}), 400, "invalid_field", "password")
    failed(api.post("/api/v1/session", json={"name": "x" * 65, "password": "p"}), 400, "invalid_field", "name")
    failed(api.post("/api/v1/session", data="name=boss"), 415, "unsupported_media_type")


def test_five_failures_lock_the_name_even_for_the_right_password(
    api: FlaskClient, people: dict[str, Account], monkeypatch: pytest.MonkeyPatch
) -> None:
    for attempt in range(ACCOUNT_FAILURES):
        assert sign_in(api, "boss", f"wrong-{attempt}", source=f"192.0.2.{attempt}")[0] == 401
    verified: list[str] = []
    real = store.signin.password_matches

    def counted(stored: str, password: str) -> bool:
        verified.append(password)
        return real(stored, password)

    monkeypatch.setattr(store.signin, "password_matches", counted)
    locked = api.post("/api/v1/session", json={"name": "boss", "password": ADMIN_PASSWORD},
                      environ_base={"REMOTE_ADDR": "198.51.100.7"})
    failed(locked, 429, "too_many_requests")
    assert 0 < int(locked.headers["Retry-After"]) <= WINDOW
    assert verified == [ADMIN_PASSWORD]  # the password was still checked: a lock takes as long as a wrong password
    assert sign_in(api, "nobody", "wrong")[0] == 401 and sign_in(api, "op", OPERATOR_PASSWORD)[0] == 200


def test_unknown_names_lock_as_known_ones_do(api: FlaskClient, people: dict[str, Account]) -> None:
    for _ in range(ACCOUNT_FAILURES):
        assert sign_in(api, "ghost", "wrong")[0] == 401
    assert sign_in(api, "ghost", "wrong")[0] == 429


def test_too_many_failures_from_one_source_lock_it_for_every_name(
    api: FlaskClient, people: dict[str, Account], caplog: pytest.LogCaptureFixture
) -> None:
    for attempt in range(SOURCE_FAILURES):
        assert sign_in(api, f"guess{attempt}", "wrong", source="203.0.113.9")[0] == 401
    assert f"sign-in: {SOURCE_FAILURES} failures from 203.0.113.9: it is locked" in caplog.text
    assert sign_in(api, "boss", ADMIN_PASSWORD, source="203.0.113.9")[0] == 429
    assert sign_in(api, "boss", ADMIN_PASSWORD, source="203.0.113.10")[0] == 200


def test_a_success_forgets_the_names_failures(api: FlaskClient, people: dict[str, Account]) -> None:
    for _ in range(ACCOUNT_FAILURES - 1):
        assert sign_in(api, "boss", "wrong")[0] == 401
    assert sign_in(api, "boss", ADMIN_PASSWORD)[0] == 200
    for _ in range(ACCOUNT_FAILURES - 1):
        assert sign_in(api, "boss", "wrong", source="192.0.2.200")[0] == 401
    assert sign_in(api, "boss", ADMIN_PASSWORD, source="192.0.2.200")[0] == 200


def test_a_cookie_session_needs_its_csrf_token_to_change_anything(
    api: FlaskClient, people: dict[str, Account], headers: dict[str, dict[str, str]]
) -> None:
    csrf = sign_in(api, "op", OPERATOR_PASSWORD)[1]["csrf_token"]
    failed(api.post("/api/v1/rooms", json={"number": "10"}), 403, "bad_csrf_token")
    failed(api.post("/api/v1/rooms", json={"number": "10"}, headers={"X-CSRF-Token": "forged"}), 403,
           "bad_csrf_token")
    failed(api.delete("/api/v1/session"), 403, "bad_csrf_token")
    assert api.post("/api/v1/rooms", json={"number": "10"}, headers={"X-CSRF-Token": csrf}).status_code == 201
    assert api.patch("/api/v1/rooms/10", json={"name": "x"}, headers={"X-CSRF-Token": csrf}).status_code == 200
    assert api.delete("/api/v1/rooms/10", headers={"X-CSRF-Token": csrf}).status_code == 204
    # A url-encoded form (the panel's) may carry it as a field instead.
    form = api.post("/api/v1/tokens", data={"csrf_token": csrf})
    assert form.status_code == 415  # past the CSRF check: this endpoint wants JSON
    # Bearer requests need none: no browser adds that header on its own.
    assert api.post("/api/v1/rooms", json={"number": "11"}, headers=headers["operator"]).status_code == 201


def test_signing_out_ends_the_session_on_the_server(api: FlaskClient, people: dict[str, Account]) -> None:
    csrf = sign_in(api, "boss", ADMIN_PASSWORD)[1]["csrf_token"]
    stolen = api.get_cookie("kamconf_session")
    assert stolen is not None
    signed_out = api.delete("/api/v1/session", headers={"X-CSRF-Token": csrf})
    assert signed_out.status_code == 204 and "kamconf_session=;" in signed_out.headers["Set-Cookie"]
    failed(api.get("/api/v1/session"), 401, "unauthorized")
    api.set_cookie("kamconf_session", stolen.value)  # a copy of the cookie taken before
    failed(api.get("/api/v1/rooms"), 401, "unauthorized")


def test_a_new_password_ends_the_accounts_sessions_and_a_new_sign_in_a_new_session(
    app: Flask, people: dict[str, Account], headers: dict[str, dict[str, str]]
) -> None:
    operator = app.test_client()
    sign_in(operator, "op", OPERATOR_PASSWORD)
    first = operator.get_cookie("kamconf_session")
    sign_in(operator, "op", OPERATOR_PASSWORD)
    second = operator.get_cookie("kamconf_session")
    assert first is not None and second is not None and first.value != second.value
    operator.set_cookie("kamconf_session", first.value)
    failed(operator.get("/api/v1/session"), 401, "unauthorized")  # signing in again ended the old one
    operator.set_cookie("kamconf_session", second.value)
    assert operator.get("/api/v1/session").status_code == 200
    admin = app.test_client()
    changed = admin.patch(f"/api/v1/accounts/{people['operator'].id}", json={"password": "a-new-password"},
                          headers=headers["admin"])
    assert changed.status_code == 200
    failed(operator.get("/api/v1/session"), 401, "unauthorized")
    assert sign_in(operator, "op", OPERATOR_PASSWORD)[0] == 401
    assert sign_in(operator, "op", "a-new-password")[0] == 200


def test_a_user_signs_in_with_its_extension_and_sip_password(
    app: Flask, api: FlaskClient, auth: dict[str, str]
) -> None:
    assert api.post("/api/v1/extensions", json={"number": "2005", "password": EXTENSION_PASSWORD},
                    headers=auth).status_code == 201
    status, body = sign_in(api, "2005", EXTENSION_PASSWORD)  # its first sign-in makes the account
    assert status == 200 and body["account"]["role"] == "user" and body["account"]["password_set"] is False
    assert api.get("/api/v1/extensions/2005").get_json()["number"] == "2005"
    failed(api.get("/api/v1/extensions"), 403, "forbidden")
    failed(api.get("/api/v1/rooms"), 403, "forbidden")
    assert api.patch("/api/v1/extensions/2005", json={"display_name": "Ann"}, headers=auth).status_code == 200
    assert api.get("/api/v1/session").status_code == 200
    assert api.patch("/api/v1/extensions/2005", json={"password": "another-sip-1"}, headers=auth).status_code == 200
    failed(api.get("/api/v1/session"), 401, "unauthorized")  # a new SIP password ends the user's sessions
    assert sign_in(api, "2005", EXTENSION_PASSWORD)[0] == 401
    assert sign_in(api, "2005", "another-sip-1")[0] == 200
    assert api.delete("/api/v1/extensions/2005", headers=auth).status_code == 204
    failed(api.get("/api/v1/session"), 401, "unauthorized")  # no extension, no user
    assert sign_in(api, "2005", "another-sip-1")[0] == 401


def test_redis_down_refuses_sign_in_with_503(
    api: FlaskClient, people: dict[str, Account], redis_srv: RedisServer, client: redis.Redis
) -> None:
    with redis_srv.paused():
        failed(api.post("/api/v1/session", json={"name": "boss", "password": ADMIN_PASSWORD}), 503, "unavailable")


def test_passwords_and_tokens_never_reach_responses_or_logs(
    app: Flask, api: FlaskClient, people: dict[str, Account], headers: dict[str, dict[str, str]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    secrets = [ADMIN_PASSWORD, OPERATOR_PASSWORD, EXTENSION_PASSWORD, "wrong-password-9", "brand-new-password"]
    responses = [api.post("/api/v1/session", json={"name": name, "password": password})
                 for name, password in (("boss", ADMIN_PASSWORD), ("boss", "wrong-password-9"),
                                        ("2001", EXTENSION_PASSWORD), ("op", OPERATOR_PASSWORD))]
    created = api.post("/api/v1/tokens", json={"name": "ci"}, headers=headers["admin"])
    secrets += [created.get_json()["token"], *(h["Authorization"].split()[1] for h in headers.values() if h)]
    responses += [
        api.get("/api/v1/tokens", headers=headers["admin"]),
        api.get("/api/v1/accounts", headers=headers["admin"]),
        api.post("/api/v1/accounts", json={"name": "carol", "role": "operator", "password": "brand-new-password"},
                 headers=headers["admin"]),
        api.patch(f"/api/v1/accounts/{people['operator'].id}", json={"password": "brand-new-password"},
                  headers=headers["admin"]),
        api.get("/api/v1/session", headers=headers["user"]),
    ]
    shown = "".join(response.get_data(as_text=True) for response in responses) + caplog.text
    assert caplog.text and not [secret for secret in secrets if secret in shown]
    assert "$argon2" not in shown


def test_secure_cookies_can_be_forced_for_a_tls_proxy(
    config: settings.Config, people: dict[str, Account], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KAMCONF_WEB_SECURE_COOKIES", "1")
    response = create_app(config).test_client().post("/api/v1/session", json={"name": "boss",
                                                                               "password": ADMIN_PASSWORD})
    assert response.status_code == 200 and "Secure" in response.headers["Set-Cookie"]


def test_a_hash_with_old_parameters_is_made_again_at_sign_in(
    app: Flask, api: FlaskClient, people: dict[str, Account]
) -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(OPERATOR_PASSWORD)
    with auth_services(app).accounts.sessions() as session:
        session.execute(update(AccountRow).where(AccountRow.name == "op").values(password_hash=weak))
        session.commit()
    assert sign_in(api, "op", OPERATOR_PASSWORD)[0] == 200
    found = auth_services(app).accounts.by_name("op")
    assert found is not None and found[1] != weak and not HASHER.check_needs_rehash(found[1] or "")
    assert sign_in(api, "op", OPERATOR_PASSWORD)[0] == 200
