"""Bearer tokens for everything under /api/v1 except the OpenAPI document."""

from __future__ import annotations

from flask import request
from sqlalchemy.exc import SQLAlchemyError

from store.sql import StoreUnavailableError
from store.tokens import role_of
from web.errors import ApiError
from web.services import services

API_PREFIX = "/api/v1"
PUBLIC = frozenset({f"{API_PREFIX}/openapi.json"})


class UnauthorizedError(ApiError):
    def __init__(self, message: str) -> None:
        super().__init__(401, "unauthorized", message, headers={"WWW-Authenticate": 'Bearer realm="kamconf"'})


def require_token() -> None:
    """Runs before every request. Guarding the whole prefix, rather than each
    blueprint, also covers unknown paths and wrong methods under it."""
    if not request.path.startswith(f"{API_PREFIX}/") or request.path in PUBLIC:
        return
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise UnauthorizedError("send Authorization: Bearer <token> (python -m web.token prints one)")
    try:
        role = role_of(services().sessions, token)
    except SQLAlchemyError as exc:
        raise StoreUnavailableError("the database") from exc
    if role is None:
        raise UnauthorizedError("unknown token")

