"""Bearer-token authentication for /api/v1."""

from __future__ import annotations

from flask import current_app, request
from sqlalchemy.exc import SQLAlchemyError

from store.tokens import role_of
from web.errors import ApiError


def require_token() -> None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "unauthorized", "send Authorization: Bearer <token> (make token prints one)")
    try:
        role = role_of(current_app.extensions["kamconf"].sessions, token.strip())
    except SQLAlchemyError as exc:
        raise ApiError(503, "unavailable", "the database is unavailable") from exc
    if role is None:
        raise ApiError(401, "unauthorized", "unknown or revoked token")
