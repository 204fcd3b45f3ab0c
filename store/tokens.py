"""API tokens (table api_tokens): each belongs to an account and acts with its role; random,
shown once, stored only as SHA-256 hashes, optionally expiring, revocable by their owner.

A token is 32 random bytes, so a fast hash is enough: nobody can guess one to try against a
stolen table, which is what makes passwords need argon2.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from store.accounts import AccountRepository
from store.projected import NotFoundError
from store.sql import ApiToken, StoreUnavailableError, aware, iso, reading, utcnow

MAX_NAME = 100
MAX_DAYS = 3650
# last_used_at is written at most this often per token, not on every request.
LAST_USED_STEP = timedelta(minutes=1)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class TokenInfo:
    """What may be shown of a token: never its secret."""

    id: int
    name: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None

    def as_dict(self) -> dict[str, object]:
        return {"id": self.id, "name": self.name, "created_at": iso(self.created_at),
                "expires_at": None if self.expires_at is None else iso(self.expires_at),
                "last_used_at": None if self.last_used_at is None else iso(self.last_used_at)}


def _info(row: ApiToken) -> TokenInfo:
    return TokenInfo(row.id, row.name, aware(row.created_at), row.expires_at and aware(row.expires_at),
                     row.last_used_at and aware(row.last_used_at))


class TokenRepository:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def create(self, account_id: int, name: str = "", expires_at: datetime | None = None) -> tuple[TokenInfo, str]:
        """A new token of the account; the only time its secret exists in clear."""
        secret = secrets.token_urlsafe(32)
        row = ApiToken(token_sha256=_digest(secret), account_id=account_id, name=name, expires_at=expires_at,
                       created_at=utcnow())
        with self.sessions() as session:
            try:
                session.add(row)
                session.commit()
            except SQLAlchemyError as exc:
                session.rollback()
                raise StoreUnavailableError("the database") from exc
            return _info(row), secret

    def list(self, account_id: int) -> list[TokenInfo]:
        query = select(ApiToken).where(ApiToken.account_id == account_id).order_by(ApiToken.id)
        with reading(self.sessions) as session:
            return [_info(row) for row in session.scalars(query)]

    def revoke(self, account_id: int, token_id: int) -> None:
        """Delete one of the account's tokens; another account's is as unknown as a missing one."""
        with self.sessions() as session:
            try:
                row = session.get(ApiToken, token_id)
                if row is None or row.account_id != account_id:
                    raise NotFoundError("token", str(token_id))
                session.delete(row)
                session.commit()
            except SQLAlchemyError as exc:
                session.rollback()
                raise StoreUnavailableError("the database") from exc

    def account_of(self, token: str, now: datetime) -> int | None:
        """The id of the account a valid, unexpired token belongs to; None if unknown or expired.

        Looked up by its hash: timing reveals nothing about how the stored hashes relate to a
        guessed token, so no constant-time compare is needed.
        """
        with self.sessions() as session:
            try:
                row = session.scalars(select(ApiToken).where(ApiToken.token_sha256 == _digest(token))).first()
                if row is None or (row.expires_at is not None and aware(row.expires_at) <= now):
                    return None
                if row.last_used_at is None or now - aware(row.last_used_at) >= LAST_USED_STEP:
                    row.last_used_at = now
                    session.commit()
                return row.account_id
            except SQLAlchemyError as exc:
                session.rollback()
                raise StoreUnavailableError("the database") from exc


def expiry(days: int | None, now: datetime) -> datetime | None:
    return None if days is None else now + timedelta(days=days)


def create_token(sessions: sessionmaker[Session]) -> str:
    """A new token of the first enabled admin (`python -m web.token`, tests): an admin token."""
    admin = AccountRepository(sessions).first_admin()
    return TokenRepository(sessions).create(admin.id, name="python -m web.token")[1]
