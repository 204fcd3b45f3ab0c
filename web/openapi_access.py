"""The OpenAPI description of signing in, sessions, API tokens and accounts (merged into
web.openapi's document). Limits come from store.accounts and store.tokens."""

from __future__ import annotations

from typing import Any

from store import accounts, tokens
from store.signin import ACCOUNT_FAILURES, SOURCE_FAILURES, WINDOW
from web.signin import MAX_LOGIN_NAME, MAX_LOGIN_PASSWORD

ROLES = {
    "admin": "everything, including accounts and trunks",
    "operator": "rooms, live rooms, scheduled conferences, sounds, recordings, call records, extensions",
    "user": "an employee, signed in with its extension number and SIP password: its own extension "
            "(GET /extensions/{its number}), its session and its tokens",
}
SECURITY = ("Send `Authorization: Bearer <token>` (a token of an account: POST /tokens, or `python -m web.token` "
            "for an admin one), or the session cookie POST /session sets. A request through the cookie that "
            "changes something (POST, PATCH, PUT, DELETE) also needs the session's CSRF token in the "
            "X-CSRF-Token header (403 bad_csrf_token otherwise). Every endpoint needs a role: "
            + "; ".join(f"{role}: {what}" for role, what in ROLES.items())
            + ". Without valid credentials 401 unauthorized; with too small a role 403 forbidden.")


def _json(schema: dict[str, Any], description: str, **extra: Any) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}, **extra}


def _ref(kind: str, name: str) -> dict[str, str]:
    return {"$ref": f"#/components/{kind}/{name}"}


def _error(description: str) -> dict[str, Any]:
    return _json(_ref("schemas", "Error"), description)


def _body(schema: str) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": _ref("schemas", schema)}}}


def _authed(**responses: Any) -> dict[str, Any]:
    return {**responses, "401": _ref("responses", "Unauthorized"), "403": _ref("responses", "Forbidden"),
            "500": _ref("responses", "Internal"), "503": _ref("responses", "Unavailable")}


def schemas() -> dict[str, Any]:
    password = {"type": "string", "minLength": accounts.MIN_PASSWORD, "maxLength": accounts.MAX_PASSWORD,
                "writeOnly": True, "description": "Stored only as an argon2id hash; never returned."}
    name = {"type": "string", "pattern": "^([a-z][a-z0-9._-]{0,63}|[0-9]{1,32})$",
            "description": "A login name (a lowercase letter first) for admins and operators; the extension "
                           "number for a user. Cannot change."}
    role = {"type": "string", "enum": list(accounts.Role), "description": "; ".join(f"{k}: {v}" for k, v in
                                                                                     ROLES.items())}
    token = {"id": {"type": "integer"}, "name": {"type": "string", "maxLength": tokens.MAX_NAME},
             "created_at": {"type": "string", "format": "date-time"},
             "expires_at": {"type": ["string", "null"], "format": "date-time", "description": "null: never"},
             "last_used_at": {"type": ["string", "null"], "format": "date-time",
                              "description": "To the minute; null: never used"}}
    account = {"id": {"type": "integer"}, "name": name, "role": role, "disabled": {"type": "boolean"},
               "password_set": {"type": "boolean", "description": "false for users (they use their extension's) "
                                "and for the built-in admin until `make admin`"},
               "created_at": {"type": "string", "format": "date-time"},
               "updated_at": {"type": "string", "format": "date-time"}}
    return {
        "SignIn": {"type": "object", "additionalProperties": False, "required": ["name", "password"], "properties": {
            "name": {"type": "string", "maxLength": MAX_LOGIN_NAME, "description": "Account name, or extension number"},
            "password": {"type": "string", "maxLength": MAX_LOGIN_PASSWORD, "writeOnly": True,
                         "description": "The account's password, or the extension's SIP password"}}},
        "Session": {"type": "object", "required": ["account", "csrf_token", "via"], "properties": {
            "account": _ref("schemas", "Account"),
            "csrf_token": {"type": ["string", "null"], "description": "Send it as X-CSRF-Token with every change "
                                                                      "made through the cookie; null with a token"},
            "via": {"type": "string", "enum": ["session", "token"]}}},
        "Account": {"type": "object", "additionalProperties": False, "required": list(account),
                    "properties": account},
        "AccountCreate": {"type": "object", "additionalProperties": False, "required": ["name", "role"],
                          "properties": {"name": name, "role": role, "password": password},
                          "description": "An admin or operator needs a password; a user is an existing extension's "
                                         "number and has none (it signs in with the extension's)."},
        "AccountPatch": {"type": "object", "additionalProperties": False, "properties": {
            "role": role, "password": password, "disabled": {"type": "boolean"}},
            "description": "A new password ends the account's sessions. Users stay users, and others never "
                           "become users. The last enabled admin cannot be demoted or disabled."},
        "Token": {"type": "object", "additionalProperties": False, "required": list(token), "properties": token},
        "NewToken": {"type": "object", "required": [*token, "token"], "properties": {
            **token, "token": {"type": "string", "description": "The secret: shown this once, kept only hashed"}}},
        "TokenCreate": {"type": "object", "additionalProperties": False, "properties": {
            "name": token["name"],
            "expires_in_days": {"type": ["integer", "null"], "minimum": 1, "maximum": tokens.MAX_DAYS,
                                "description": "null or absent: never expires"}}},
    }


def responses() -> dict[str, Any]:
    return {"Forbidden": _error("The account's role does not allow this (forbidden), or a change through the "
                                "session cookie came without its CSRF token (bad_csrf_token).")}


def paths() -> dict[str, Any]:
    one_account = _ref("schemas", "Account")
    account_id = [{"name": "account_id", "in": "path", "required": True, "schema": {"type": "integer"}}]
    missing = _error("No account with this id (not_found).")
    writes = {"400": _ref("responses", "Invalid"), "413": _ref("responses", "TooLarge"),
              "415": _ref("responses", "NotJson")}
    last = _error("The last enabled admin cannot be deleted, disabled or demoted (last_admin).")
    return {
        "/session": {
            "post": {"operationId": "signIn", "summary": "Sign in: sets the session cookie (HttpOnly, SameSite=Lax)",
                     "security": [], "requestBody": _body("SignIn"), "responses": {
                         "200": _json(_ref("schemas", "Session"), "Signed in"), **writes,
                         "401": _error("Unknown name, wrong password or disabled account: one answer for all "
                                       "(unauthorized)."),
                         "429": {**_error(f"Too many failed sign-ins of this name ({ACCOUNT_FAILURES} in "
                                          f"{WINDOW // 60} min) or from this address ({SOURCE_FAILURES}); wait "
                                          "Retry-After seconds (too_many_requests)."),
                                 "headers": {"Retry-After": {"schema": {"type": "integer"}}}},
                         "503": _ref("responses", "Unavailable")}},
            "get": {"operationId": "currentSession", "summary": "Who is signed in, and the session's CSRF token",
                    "responses": _authed(**{"200": _json(_ref("schemas", "Session"), "The caller")})},
            "delete": {"operationId": "signOut", "summary": "Sign out: the session ends on the server",
                       "responses": _authed(**{"204": {"description": "Signed out"}})},
        },
        "/tokens": {
            "get": {"operationId": "listTokens", "summary": "The caller's API tokens (never their secrets)",
                    "responses": _authed(**{"200": _json({"type": "array", "items": _ref("schemas", "Token")},
                                                         "Tokens")})},
            "post": {"operationId": "createToken", "summary": "A new API token of the caller's account, with its role",
                     "requestBody": _body("TokenCreate"),
                     "responses": _authed(**writes, **{"201": _json(_ref("schemas", "NewToken"), "Created")})},
        },
        "/tokens/{token_id}": {
            "parameters": [{"name": "token_id", "in": "path", "required": True, "schema": {"type": "integer"}}],
            "delete": {"operationId": "revokeToken", "summary": "Revoke one of the caller's tokens",
                       "responses": _authed(**{"204": {"description": "Revoked"},
                                               "404": _error("No token of the caller's with this id (not_found).")})},
        },
        "/accounts": {
            "get": {"operationId": "listAccounts", "summary": "Every account (admin)",
                    "responses": _authed(**{"200": _json({"type": "array", "items": one_account}, "Accounts")})},
            "post": {"operationId": "createAccount", "summary": "Create an account (admin)",
                     "requestBody": _body("AccountCreate"),
                     "responses": _authed(**writes, **{"201": _json(one_account, "Created"),
                                                       "409": _error("The name is taken (duplicate, field name).")})},
        },
        "/accounts/{account_id}": {
            "parameters": account_id,
            "get": {"operationId": "getAccount", "summary": "One account (admin)",
                    "responses": _authed(**{"200": _json(one_account, "It"), "404": missing})},
            "patch": {"operationId": "updateAccount", "summary": "Change role or password, disable or enable (admin)",
                      "requestBody": _body("AccountPatch"),
                      "responses": _authed(**writes, **{"200": _json(one_account, "As changed"), "404": missing,
                                                        "409": last})},
            "delete": {"operationId": "deleteAccount", "summary": "Delete an account and its tokens (admin)",
                       "responses": _authed(**{"204": {"description": "Deleted"}, "404": missing, "409": last})},
        },
    }
