"""The session cookie: signed with a key made at the first start and kept in var/ (never in git),
HttpOnly (no script reads it), SameSite=Lax (other sites' requests other than links carry it
not), and Secure on every request that arrived over TLS, or always with
KAMCONF_WEB_SECURE_COOKIES=1 (for a TLS proxy that does not say X-Forwarded-Proto).

The cookie holds only a random session id; what it stands for is in Redis (store.signin),
so signing out ends it on the server too.
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

from flask import Flask, has_request_context, request
from flask.sessions import SecureCookieSessionInterface

from store.signin import SESSION_SECONDS

COOKIE_NAME = "kamconf_session"
SECURE_ENV = "KAMCONF_WEB_SECURE_COOKIES"


def secret_key(path: Path) -> str:
    """The key in `path`, made there first if missing. Several workers may start at once: the
    key is written to a private temporary file and linked into place, so all read one key."""
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_hex(32) + "\n")
    try:
        os.link(temporary, path)  # fails if another worker was first: then its key is the key
    except FileExistsError:
        pass
    finally:
        temporary.unlink()
    return path.read_text().strip()


class TlsAwareSessions(SecureCookieSessionInterface):
    def get_cookie_secure(self, app: Flask) -> bool:
        return super().get_cookie_secure(app) or (has_request_context() and request.is_secure)


def configure(app: Flask, key_file: Path, secure: bool | None = None) -> None:
    if secure is None:
        secure = os.environ.get(SECURE_ENV, "").strip().lower() in ("1", "true", "yes", "on")
    app.secret_key = secret_key(key_file)
    app.config.update(
        SESSION_COOKIE_NAME=COOKIE_NAME, SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=secure, PERMANENT_SESSION_LIFETIME=timedelta(seconds=SESSION_SECONDS),
    )
    app.session_interface = TlsAwareSessions()
