"""Signing in and out of the panel, its home page and the language switch.

The sign-in form has a CSRF token of its own, kept in the (signed) session cookie before any
session exists: another site cannot sign a browser in as someone else. Signing in itself is the
API's (store.signin: one answer for unknown and wrong, lockout per name and per source).
"""

from __future__ import annotations

import hmac
import secrets

from flask import redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from store.accounts import Role
from store.signin import LockedError, WrongCredentialsError
from web.access import public, requires
from web.auth import auth
from web.panel import blueprint, caller, language, page_error
from web.signin import MAX_LOGIN_NAME, MAX_LOGIN_PASSWORD, end_session, start_session

_LOGIN_CSRF = "login_csrf"


def _login_token() -> str:
    token = session.get(_LOGIN_CSRF)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        session[_LOGIN_CSRF] = token
    return token


def _safe_next(target: str | None) -> str:
    """Only a path of this site: never //elsewhere or a scheme (no open redirect)."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return url_for("panel.home")


@blueprint.get("/login")
@public
def login() -> ResponseReturnValue:
    if caller() is not None:
        return redirect(url_for("panel.home"))
    return render_template("login.html", login_csrf=_login_token(), next=request.args.get("next", ""),
                           name="", error=None)


@blueprint.post("/login")
@public
def login_post() -> ResponseReturnValue:
    sent = request.form.get("csrf_token", "")
    if not hmac.compare_digest(sent.encode(), _login_token().encode()):
        return page_error(403, _("The form was too old or came from elsewhere. Open the page again and retry."))
    name, password = request.form.get("name", "").strip(), request.form.get("password", "")
    error, status = _sign_in(name, password)
    if error is None:
        return redirect(_safe_next(request.form.get("next")))
    return render_template("login.html", login_csrf=_login_token(), next=request.form.get("next", ""),
                           name=name, error=error), status


def _sign_in(name: str, password: str) -> tuple[str | None, int]:
    """(None, 200) once signed in, else (the error shown next to the form, its status)."""
    if not (1 <= len(name) <= MAX_LOGIN_NAME and 1 <= len(password) <= MAX_LOGIN_PASSWORD):
        return _("Enter your name (or extension number) and your password."), 400
    source = request.remote_addr or "unknown"
    try:
        account = auth().signin.sign_in(name, password, source)
    except WrongCredentialsError:
        return _("Wrong name or password, or the account is disabled."), 401
    except LockedError as locked:
        return _("Too many failed attempts. Try again in %(minutes)d min.",
                 minutes=max(1, (locked.retry_after + 59) // 60)), 429
    start_session(account, source)
    return None, 200


@blueprint.post("/logout")
@requires(Role.USER)
def logout() -> ResponseReturnValue:
    end_session()
    return redirect(url_for("panel.login"))


@blueprint.get("/")
@requires(Role.USER)
def home() -> ResponseReturnValue:
    who = caller()
    if who is not None and who.account.role.includes(Role.OPERATOR):
        return redirect(url_for("panel.rooms"))
    return redirect(url_for("panel.my_conferences"))  # an employee's start: the portal


@blueprint.post("/language")
@requires(Role.USER)
def choose_language() -> ResponseReturnValue:
    who, chosen = caller(), request.form.get("language", "")
    if who is not None and chosen in language.LANGUAGES:
        auth().accounts.choose_language(who.account.id, chosen)
    return redirect(_safe_next(request.form.get("next")))
