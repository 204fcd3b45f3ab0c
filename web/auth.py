"""Who is asking, and may they: runs before every request under /api/v1.

Credentials are either `Authorization: Bearer <token>` (a token of an account, store.tokens)
or the session cookie that signing in sets (store.signin). A request that authenticates by
cookie and changes something (POST, PATCH, PUT, DELETE) must also carry the session's CSRF
token, in the X-CSRF-Token header (or a csrf_token field of a url-encoded form): a page of another site can
make the browser send the cookie, but cannot read the token. Bearer requests need none: no
browser adds that header by itself.

Then the endpoint's declared role (web.access) is checked: 401 without valid credentials,
403 with too small a role.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import UTC, datetime

from flask import current_app, g, request, session

from store.accounts import Account, AccountRepository
from store.signin import SignIn
from store.tokens import TokenRepository
from web.access import access_of
from web.errors import ApiError

API_PREFIX = "/api/v1"
EXTENSION = "kamconf.auth"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class Auth:
    """What authentication needs, built once per app by create_app()."""

    accounts: AccountRepository
    tokens: TokenRepository
    signin: SignIn


@dataclass(frozen=True)
class Principal:
    account: Account
    session_id: str | None = None  # None: a bearer token
    csrf: str | None = None


def auth() -> Auth:
    found: Auth = current_app.extensions[EXTENSION]
    return found


def principal() -> Principal:
    """The caller of this request (set by guard before any protected view runs)."""
    found: Principal = g.principal
    return found


class UnauthorizedError(ApiError):
    def __init__(self, message: str) -> None:
        super().__init__(401, "unauthorized", message, headers={"WWW-Authenticate": 'Bearer realm="kamconf"'})


def guard() -> None:
    """Runs before every request. Guarding the whole prefix, rather than each blueprint, also
    covers unknown paths and wrong methods under it (401 before their 404 or 405)."""
    if not request.path.startswith(f"{API_PREFIX}/"):
        return
    access = access_of(current_app, request.endpoint)
    if access is not None and access.role is None:
        return
    caller = _authenticate()
    g.principal = caller
    if caller.session_id is not None and request.method not in SAFE_METHODS:
        check_csrf(caller)
    if access is None:
        if request.endpoint is None:
            return  # no such route: routing answers 404 or 405 next
        raise ApiError(403, "forbidden", "this endpoint declares no role, so nobody may use it")
    if not access.allows(caller.account, request.view_args or {}):
        raise ApiError(403, "forbidden", f"this needs the {access.role} role; this account is {caller.account.role}")


def _authenticate() -> Principal:
    if "Authorization" in request.headers:
        return Principal(_by_token(request.headers["Authorization"]))
    caller = session_principal()
    if caller is not None:
        return caller
    raise UnauthorizedError("sign in (POST /api/v1/session) or send Authorization: Bearer <token> "
                            "(python -m web.token prints one)")


def session_principal() -> Principal | None:
    """The account signed in through this request's session cookie (the API's and the panel's)."""
    session_id = session.get("sid")
    if not isinstance(session_id, str):
        return None
    record = auth().signin.session(session_id)
    account = auth().accounts.active(record.account_id, record.stamp) if record else None
    if record is not None and account is not None:
        return Principal(account, session_id, record.csrf)
    session.clear()  # ended, expired or its account changed: the cookie goes too
    return None


def _by_token(header: str) -> Account:
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise UnauthorizedError("send Authorization: Bearer <token> (python -m web.token prints one)")
    account_id = auth().tokens.account_of(token, datetime.now(UTC))
    account = auth().accounts.active(account_id) if account_id is not None else None
    if account is None:
        raise UnauthorizedError("unknown, expired or revoked token, or its account is disabled")
    return account


def check_csrf(caller: Principal, sent: str | None = None) -> None:
    """`sent`: the token as the caller read it; None: from the header or a url-encoded form."""
    sent = sent if sent is not None else request.headers.get(CSRF_HEADER)
    if sent is None and request.mimetype == "application/x-www-form-urlencoded":
        # A plain HTML form. Never a multipart one: parsing it here would read a whole upload
        # before its view set the larger size limit (web.sounds); uploads send the header.
        sent = request.form.get("csrf_token")
    sent = sent or ""
    if caller.csrf is None or not hmac.compare_digest(sent.encode(), caller.csrf.encode()):
        raise ApiError(403, "bad_csrf_token", f"a change through a signed-in session needs its CSRF token in "
                                              f"{CSRF_HEADER} (from POST or GET /api/v1/session)")
