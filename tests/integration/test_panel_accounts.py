"""The panel's accounts (admins only) and everyone's own API tokens, with Flask's test client."""

from __future__ import annotations

import re

from flask.testing import FlaskClient

from store.accounts import Account
from tests.integration.conftest import ADMIN_PASSWORD, EXTENSION_PASSWORD, auth_services
from tests.integration.test_panel import csrf_of, html, operator, sign_in
from tests.integration.test_panel_pages import field_error


def admin(api: FlaskClient) -> str:
    assert sign_in(api, "boss", ADMIN_PASSWORD).status_code == 302
    return csrf_of(api.get("/accounts"))


def test_accounts_are_for_admins(api: FlaskClient, people: dict[str, Account]) -> None:
    operator(api, people)
    for path in ("/accounts", "/accounts/new", f"/accounts/{people['user'].id}/edit"):
        assert api.get(path).status_code == 403, path


def test_accounts_are_made_changed_and_deleted_through_forms(api: FlaskClient, people: dict[str, Account]) -> None:
    token = admin(api)
    short = api.post("/accounts/new", data={"csrf_token": token, "name": "eve", "role": "operator",
                                            "password": "short"})
    assert field_error(html(short), "password").startswith("10 to 128 printable characters")
    user_with_password = api.post("/accounts/new", data={"csrf_token": token, "name": "2001x", "role": "user"})
    assert field_error(html(user_with_password), "name").startswith("A login name")
    made = api.post("/accounts/new", data={"csrf_token": token, "name": "eve", "role": "operator",
                                           "password": "long-enough-pw"})
    assert made.status_code == 302, html(made)
    eve = next(a for a in auth_services(api.application).accounts.list() if a.name == "eve")
    assert api.post(f"/accounts/{eve.id}/edit", data={"csrf_token": token, "role": "admin",
                                                     "disabled": "on"}).status_code == 302
    changed = auth_services(api.application).accounts.get(eve.id)
    assert (changed.role, changed.disabled, changed.has_password) == ("admin", True, True)
    boss = people["admin"].id
    others = [a for a in auth_services(api.application).accounts.list()
              if a.role == "admin" and a.id != boss and not a.disabled]
    for other in others:  # boss becomes the last enabled admin
        auth_services(api.application).accounts.delete(other.id)
    last = api.post(f"/accounts/{boss}/edit", data={"csrf_token": token, "role": "operator"})
    assert field_error(html(last), "role").startswith("This is the last enabled administrator")
    assert "last enabled administrator" in html(api.post(f"/accounts/{boss}/delete", data={"csrf_token": token},
                                                         follow_redirects=True))
    assert "Delete account eve?" in html(api.get(f"/accounts/{eve.id}/delete"))
    assert api.post(f"/accounts/{eve.id}/delete", data={"csrf_token": token}).status_code == 302
    assert api.get(f"/accounts/{eve.id}/edit").status_code == 404
    assert api.get("/accounts/nope/edit").status_code == 404


def test_everyone_makes_and_revokes_their_own_tokens(api: FlaskClient, people: dict[str, Account]) -> None:
    assert sign_in(api, "2001", EXTENSION_PASSWORD).status_code == 302
    token = csrf_of(api.get("/tokens"))
    bad = api.post("/tokens", data={"csrf_token": token, "name": "script", "expires_in_days": "forever"})
    assert bad.status_code == 400 and field_error(html(bad), "expires_in_days").startswith("1 to 3650 days")
    made = api.post("/tokens", data={"csrf_token": token, "name": "script", "expires_in_days": "30"})
    assert made.headers["Cache-Control"] == "no-store"
    secret = re.search(r'id="token-secret">([^<]+)<', html(made))
    assert secret
    assert api.application.test_client().get("/api/v1/session", headers={
        "Authorization": f"Bearer {secret.group(1)}"}).get_json()["account"]["name"] == "2001"
    assert secret.group(1) not in html(api.get("/tokens"))  # shown once
    listed = re.search(r'data-token="(\d+)"', html(api.get("/tokens")))
    assert listed
    assert api.post(f"/tokens/{listed.group(1)}/revoke", data={"csrf_token": token}).status_code == 302
    assert 'id="no-tokens"' in html(api.get("/tokens"))
    assert api.application.test_client().get("/api/v1/session", headers={
        "Authorization": f"Bearer {secret.group(1)}"}).status_code == 401
