"""The operator panel: server-rendered pages under / (the JSON API stays under /api/v1).

Pages sign in through the same sessions as the API (web.signin, store.signin), declare their
least role like the API's views (web.access), and change things through the same services.
Every form carries the session's CSRF token; every page is served with a strict
Content-Security-Policy, so the JavaScript lives in static files, never inline.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Blueprint, Flask, current_app, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import Babel
from flask_babel import gettext as _
from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response as BaseResponse

import settings
from store import live as live_state  # not `live`: web.panel.live is the Live page's module
from store.accounts import Role
from store.projected import NotFoundError
from store.sounds import SoundNotFoundError
from web.access import access_of
from web.auth import API_PREFIX, SAFE_METHODS, Principal, check_csrf, session_principal
from web.errors import ApiError, http_error
from web.panel import language

log = logging.getLogger("kamconf.web")
blueprint = Blueprint("panel", __name__, template_folder="templates", static_folder="static",
                      static_url_path="/static")
EVENTS_CLIENT = "kamconf.panel.events"
_UPLOAD = "kamconf_panel_upload"
F = TypeVar("F", bound=Callable[..., Any])
# Pages and their scripts come from this server only; no frames of them elsewhere.
CSP = ("default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; "
       "base-uri 'none'; object-src 'none'")


def register(app: Flask, config: settings.Config) -> None:
    from web.panel import (  # noqa: F401
        about,
        accounts,
        history,
        phones,
        portal,
        profile,
        rooms,
        running,
        signin,
        sounds,
        webhooks,
    )
    from web.panel import live as live_pages  # noqa: F401  # the modules add their views to the blueprint

    Babel(app, locale_selector=language.select, default_translation_directories="panel/translations")
    # The event stream waits on Redis for up to a second: its own client, with a longer timeout.
    app.extensions[EVENTS_CLIENT] = live_state.connect(config.redis_url, timeout=5.0)
    app.register_blueprint(blueprint)
    app.after_request(_security_headers)
    for status in (404, 405):  # a path no view has: a page for people, JSON under the API
        app.register_error_handler(status, _unrouted)


def takes_upload(limit: int) -> Callable[[F], F]:
    """This page takes a multipart body of up to `limit` bytes, whose csrf_token field the guard
    reads (only after knowing who is signed in: nobody else makes the server read an upload)."""
    def declare(view: F) -> F:
        setattr(view, _UPLOAD, limit)
        return view
    return declare


def caller() -> Principal | None:
    """Who is signed in, for this page (None on the sign-in page of someone who is not)."""
    found: Principal | None = g.get("panel_caller")
    return found


@blueprint.before_request
def guard() -> ResponseReturnValue | None:
    """Like web.auth.guard for the API, but a page answers a sign-in redirect or an HTML 403."""
    if request.endpoint == "panel.static":
        return None
    g.panel_caller = session_principal()
    access = access_of(current_app, request.endpoint)
    if access is None:
        return page_error(403, _("This page declares no role, so nobody may open it."))
    if access.role is None:
        return None
    who = caller()
    if who is None:
        return redirect(url_for("panel.login", next=request.path))
    g.principal = who  # what web.auth.principal() answers, as for the API's views
    if not access.allows(who.account, request.view_args or {}):  # before any upload is read
        return page_error(403, _("Your account (%(role)s) may not open this page.", role=role_name(who.account.role)))
    limit = getattr(current_app.view_functions.get(request.endpoint or ""), _UPLOAD, None)
    if limit is not None:
        request.max_content_length = limit  # before the body is read, for the CSRF token in it
    if request.method not in SAFE_METHODS:
        check_csrf(who, request.form.get("csrf_token", "") if limit is not None else None)
    return None


def role_name(role: Role) -> str:
    return {Role.ADMIN: _("administrator"), Role.OPERATOR: _("operator"), Role.USER: _("user")}[role]


@blueprint.context_processor
def _page_context() -> dict[str, Any]:
    who = caller()
    return {"caller": who, "csrf_token": who.csrf if who else "", "Role": Role, "role_name": role_name,
            "language": language.current(), "panel_languages": language.NAMES}


def page_error(status: int, message: str) -> tuple[str, int]:
    try:
        return render_template("error.html", status=status, message=message), status
    except Exception:  # the page itself failed (a broken template, no database): still no stack trace
        log.exception("panel: the error page could not be rendered")
        return f"<!doctype html><title>{status}</title><h1>{status}</h1>", status


@blueprint.errorhandler(HTTPException)
def _http_error(err: HTTPException) -> ResponseReturnValue:
    if err.code is not None and err.code < 400:
        return err.get_response()
    status = err.code or 500
    messages = {404: _("There is no such page."), 405: _("This page does not take that request."),
                413: _("What you sent is too large.")}
    return page_error(status, messages.get(status, _("The request could not be served.")))


def _unrouted(err: HTTPException) -> ResponseReturnValue:
    """A page for a browser (which asks for text/html by name) outside the API; else the API's JSON."""
    api = request.path.startswith(f"{API_PREFIX}/") or request.path == "/healthz"
    if api or "text/html" not in request.headers.get("Accept", ""):
        return http_error(err)
    return _http_error(err)


@blueprint.errorhandler(ApiError)
def _api_error(err: ApiError) -> ResponseReturnValue:
    if err.error_id == "bad_csrf_token":
        return page_error(403, _("The form was too old or came from elsewhere. Open the page again and retry."))
    if err.status == 404:
        return page_error(404, _("There is no such page."))
    return page_error(err.status, _("The request could not be served."))


@blueprint.errorhandler(NotFoundError)
@blueprint.errorhandler(SoundNotFoundError)
def _not_found(_err: Exception) -> ResponseReturnValue:
    return page_error(404, _("There is no such page."))


@blueprint.errorhandler(Exception)
def _unexpected(err: Exception) -> ResponseReturnValue:
    """Never a stack trace: a plain page, and the details in the log."""
    if isinstance(err, (RedisError, SQLAlchemyError)):
        log.error("panel: %s unavailable: %s", type(err).__name__, err)
        return page_error(503, _("The database or the live state does not answer. Nothing was changed; "
                                 "try again in a moment."))
    log.exception("panel: unhandled error")
    return page_error(500, _("Something went wrong on the server. It has been logged."))


def _security_headers(response: BaseResponse) -> BaseResponse:
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response
