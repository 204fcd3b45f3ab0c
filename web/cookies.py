"""The session cookie: signed with a key made at the first start and kept in var/ (never in git),
HttpOnly (no script reads it), SameSite=Lax (other sites' requests other than links carry it
not), and Secure on every request that arrived over TLS, or always with
KAMCONF_WEB_SECURE_COOKIES=1 (for a TLS proxy that does not say X-Forwarded-Proto).

The cookie holds only a random session id; what it stands for is in Redis (store.signin),
so signing out ends it on the server too.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

from flask import Flask, has_request_context, request
from flask.sessions import SecureCookieSessionInterface

import settings
from store.signin import SESSION_SECONDS

COOKIE_NAME = "kamconf_session"
SECURE_ENV = "KAMCONF_WEB_SECURE_COOKIES"


class TlsAwareSessions(SecureCookieSessionInterface):
    def get_cookie_secure(self, app: Flask) -> bool:
        return super().get_cookie_secure(app) or (has_request_context() and request.is_secure)


def configure(app: Flask, key_file: Path, secure: bool | None = None) -> None:
    if secure is None:
        secure = os.environ.get(SECURE_ENV, "").strip().lower() in ("1", "true", "yes", "on")
    app.secret_key = settings.ensure_secret(key_file)
    app.config.update(
        SESSION_COOKIE_NAME=COOKIE_NAME, SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=secure, PERMANENT_SESSION_LIFETIME=timedelta(seconds=SESSION_SECONDS),
    )
    app.session_interface = TlsAwareSessions()
