"""API tokens: random, shown once, stored only as SHA-256 hashes."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from store.sql import ApiToken


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(sessions: sessionmaker[Session], role: str = "admin") -> str:
    token = secrets.token_urlsafe(32)
    with sessions() as session:
        session.add(ApiToken(token_sha256=_digest(token), role=role))
        session.commit()
    return token


def role_of(sessions: sessionmaker[Session], token: str) -> str | None:
    """The token's role, or None. Looked up by hash: the token itself is never compared."""
    with sessions() as session:
        row = session.scalars(select(ApiToken).where(ApiToken.token_sha256 == _digest(token))).first()
        return None if row is None else row.role
