"""/api/v1/session (sign in, who am I, sign out) and /api/v1/tokens (an account's own API tokens).

Any signed-in account, whatever its role, manages its own session and tokens; a token acts
with its account's role. Rules and storage: store.signin, store.tokens.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from flask import jsonify, request, session, url_for
from flask.typing import ResponseReturnValue

from conference.fields import Rule, clean, integer, or_null, require, text
from store import tokens
from store.accounts import Account, Role
from store.signin import ACCOUNT_FAILURES, SOURCE_FAILURES, WINDOW
from web.access import ApiBlueprint, number_of, public
from web.apidoc import documented
from web.auth import auth, principal
from web.rooms import json_body

log = logging.getLogger("kamconf.web")
blueprint = ApiBlueprint("signin", __name__, role=Role.USER)

MAX_LOGIN_NAME = 64  # no account name is longer
MAX_LOGIN_PASSWORD = 1024  # bounds the hashing work a request can ask for

SIGN_IN: dict[str, Rule] = {
    # Only bounded here: an unknown name and a wrong password get one answer (401), whatever they look like.
    "name": Rule(lambda v: isinstance(v, str) and 1 <= len(v) <= MAX_LOGIN_NAME, "the account's name or extension "
                 "number", {"type": "string", "minLength": 1, "maxLength": MAX_LOGIN_NAME}, "Account name, or "
                 "extension number"),
    "password": Rule(lambda v: isinstance(v, str) and 1 <= len(v) <= MAX_LOGIN_PASSWORD, "the password",
                     {"type": "string", "minLength": 1, "maxLength": MAX_LOGIN_PASSWORD, "writeOnly": True},
                     "The account's password, or the extension's SIP password"),
}
NEW_TOKEN: dict[str, Rule] = {
    "name": text(tokens.MAX_NAME),
    "expires_in_days": or_null(integer(1, tokens.MAX_DAYS)).means("null or absent: never expires"),
}


@blueprint.post("/session")
@documented("Sign in: sets the session cookie (HttpOnly, SameSite=Lax)", "Session", body="SignIn", errors={
    401: "Unknown name, wrong password or disabled account: one answer for all (unauthorized).",
    429: f"Too many failed sign-ins of this name ({ACCOUNT_FAILURES} in {WINDOW // 60} min) or from this address "
         f"({SOURCE_FAILURES}); wait Retry-After seconds (too_many_requests)."})
@public
def sign_in() -> ResponseReturnValue:
    """A JSON body only: a page of another site cannot send one without the browser asking this
    server first (CORS), so signing in needs no CSRF token of its own."""
    fields = clean(json_body(), SIGN_IN)
    require(fields, "name", "password")
    source = request.remote_addr or "unknown"
    account = auth().signin.sign_in(fields["name"], fields["password"], source)
    csrf = start_session(account, source)
    return jsonify({"account": account.as_dict(), "csrf_token": csrf, "via": "session"}), {"Cache-Control": "no-store"}


def start_session(account: Account, source: str) -> str:
    """Open a session for the account just signed in (the API's and the panel's); its CSRF token."""
    previous = session.get("sid")
    if isinstance(previous, str):
        auth().signin.close_session(previous)  # a new session id at each sign-in (no fixation)
    session_id, csrf = auth().signin.open_session(account)
    session.clear()
    session["sid"] = session_id
    session.permanent = True
    log.info("account %s (%s) signed in from %s", account.name, account.role, source)
    return csrf


def end_session() -> None:
    caller = principal()
    if caller.session_id is not None:
        auth().signin.close_session(caller.session_id)
        log.info("account %s signed out", caller.account.name)
    session.clear()


@blueprint.get("/session")
@documented("Who is signed in, and the session's CSRF token", "Session")
def current_session() -> ResponseReturnValue:
    caller = principal()
    via = "token" if caller.session_id is None else "session"
    return jsonify({"account": caller.account.as_dict(), "csrf_token": caller.csrf, "via": via})


@blueprint.delete("/session")
@documented("Sign out: the session ends on the server", status=204)
def sign_out() -> ResponseReturnValue:
    end_session()
    return "", 204


@blueprint.get("/tokens")
@documented("The caller's API tokens (never their secrets)", ["Token"])
def list_tokens() -> ResponseReturnValue:
    return jsonify([info.as_dict() for info in auth().tokens.list(principal().account.id)])


@blueprint.post("/tokens")
@documented("A new API token of the caller's account, with its role", "NewToken", status=201, body="TokenCreate")
def create_token() -> ResponseReturnValue:
    info, secret = new_token(json_body())
    return (jsonify({**info.as_dict(), "token": secret}), 201,
            {"Location": url_for(".list_tokens"), "Cache-Control": "no-store"})


def new_token(payload: Any) -> tuple[tokens.TokenInfo, str]:
    """A new API token of the caller's account (the API's and the panel's): its record and secret."""
    fields = clean(payload, NEW_TOKEN)
    expires_at = tokens.expiry(fields.get("expires_in_days"), datetime.now(UTC))
    account = principal().account
    info, secret = auth().tokens.create(account.id, fields.get("name", ""), expires_at)
    log.info("account %s made API token %d", account.name, info.id)
    return info, secret


def revoke(token_id: int) -> None:
    account = principal().account
    auth().tokens.revoke(account.id, token_id)
    log.info("account %s revoked API token %d", account.name, token_id)


@blueprint.delete("/tokens/<token_id>")
@documented("Revoke one of the caller's tokens", status=204)
def revoke_token(token_id: str) -> ResponseReturnValue:
    revoke(number_of("token", token_id))
    return "", 204
