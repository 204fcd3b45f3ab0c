"""API tokens: random, shown once, stored only as SHA-256 hashes (table api_tokens)."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from store.sql import ApiToken

ADMIN = "admin"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def create_token(sessions: sessionmaker[Session], role: str = ADMIN) -> str:
    """A new token with `role`; the only time it exists in clear."""
    token = secrets.token_urlsafe(32)
    with sessions() as session:
        session.add(ApiToken(token_sha256=_digest(token), role=role))
        session.commit()
    return token


def role_of(sessions: sessionmaker[Session], token: str) -> str | None:
    """The token's role, or None if unknown.

    Looked up by its hash: timing reveals nothing about the stored hashes' relation
    to a guessed token, so no constant-time compare is needed.
    """
    with sessions() as session:
        return session.scalars(select(ApiToken.role).where(ApiToken.token_sha256 == _digest(token))).first()
