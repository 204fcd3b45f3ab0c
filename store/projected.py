"""Rows of SQL and their Redis projection (store.live), changed together or not at all.

Rooms, extensions and trunks are each a `Table`: a SQL model keyed by one
column, a value type the rest of the code uses, and a Redis hash that KEMI and
the bridge read. Each change runs as one unit: the SQL statement is flushed (so
a duplicate key fails before Redis is touched), the projection is written, and
only then is SQL committed. A Redis failure rolls SQL back; a failed commit puts
the projection back to what SQL holds.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

import redis
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from store import live
from store.sql import StoreUnavailableError, reading, utcnow

log = logging.getLogger("kamconf.store")
T = TypeVar("T")

# A change that lost a race with another writer of the same entry is re-applied on
# top of the winner's version; this many tries, then ConflictError.
ATTEMPTS = 5


class Value(Protocol):
    def as_dict(self) -> dict[str, Any]: ...


V = TypeVar("V", bound=Value)


@dataclass(frozen=True)
class Table(Generic[V]):
    kind: str  # "room", "extension", "trunk": what errors call an entry
    model: type[Any]  # the SQL model; it has `key`, `updated_at` and a version column
    key: str  # the column (and value attribute) an entry is known by
    projection: str  # the Redis hash of store.live
    to_value: Callable[[Any], V]  # SQL row -> value
    to_row: Callable[[V], dict[str, Any]]  # value -> SQL columns


class ExistsError(Exception):
    def __init__(self, kind: str, key: str, field: str = "number") -> None:
        super().__init__(key)
        self.kind, self.key, self.field = kind, key, field  # field: the request field at fault


class NotFoundError(ExistsError):
    pass


class ConflictError(ExistsError):
    """The entry kept changing under a change (ATTEMPTS times in a row)."""


class ProjectedRepository(Generic[V]):
    def __init__(self, table: Table[V], sessions: sessionmaker[Session], client: redis.Redis) -> None:
        self.table = table
        self.sessions = sessions
        self.client = client
        # Keys whose projection may hold a change SQL rolled back: a Redis that
        # hangs (rather than refusing) can still apply a write after we gave up on it.
        self._suspect: set[str] = set()

    def list(self) -> list[V]:
        """Every entry, shorter keys first, then in order (9 before 10)."""
        column = getattr(self.table.model, self.table.key)
        query = select(self.table.model).order_by(func.length(column), column)
        with reading(self.sessions) as session:
            return [self.table.to_value(row) for row in session.scalars(query)]

    def get(self, key: str) -> V:
        with reading(self.sessions) as session:
            row = self._find(session, key)
            if row is None:
                raise NotFoundError(self.table.kind, key)
            return self.table.to_value(row)

    def create(self, value: V) -> V:
        self.heal()
        key = self._key_of(value)
        with self._unit(key) as session:
            session.add(self.table.model(**self.table.to_row(value)))
            session.flush()
            live.put_entry(self.client, self.table.projection, key, value.as_dict())
        return value

    def update(self, key: str, change: Callable[[V], V]) -> V:
        """Apply `change` (e.g. a validated PATCH) to the entry's current value.

        `change` may raise (a validation error) and may run more than once.
        """
        self.heal()
        return self._retrying(key, lambda: self._update_once(key, change))

    def delete(self, key: str) -> None:
        self.heal()
        self._retrying(key, lambda: self._delete_once(key))

    def project_all(self) -> int:
        """Rebuild the whole Redis projection from SQL (at start); the number of entries."""
        values = self.list()
        try:
            live.replace_table(self.client, self.table.projection,
                               {self._key_of(value): value.as_dict() for value in values})
        except redis.RedisError as exc:
            raise StoreUnavailableError("live state (Redis)") from exc
        self._suspect.clear()
        return len(values)

    def heal(self) -> None:
        """Put the projection of suspect entries back to what SQL holds, now that Redis answers."""
        for key in sorted(self._suspect):
            self._resync(key)

    def _key_of(self, value: V) -> str:
        return str(getattr(value, self.table.key))

    def _update_once(self, key: str, change: Callable[[V], V]) -> V:
        with self._unit(key) as session:
            row = self._find(session, key)
            if row is None:
                raise NotFoundError(self.table.kind, key)
            value = change(self.table.to_value(row))
            if self._key_of(value) != key:
                raise ValueError(f"a {self.table.kind}'s {self.table.key} cannot change")
            for name, column in self.table.to_row(value).items():
                setattr(row, name, column)
            # Always a real UPDATE, even for an empty PATCH, so the version check runs.
            row.updated_at = utcnow()
            session.flush()
            live.put_entry(self.client, self.table.projection, key, value.as_dict())
        return value

    def _delete_once(self, key: str) -> None:
        with self._unit(key) as session:
            row = self._find(session, key)
            if row is None:
                raise NotFoundError(self.table.kind, key)
            session.delete(row)
            session.flush()
            live.delete_entry(self.client, self.table.projection, key)

    @contextmanager
    def _unit(self, key: str) -> Iterator[Session]:
        with self.sessions() as session:
            try:
                yield session
                session.commit()
            except IntegrityError as exc:
                session.rollback()
                raise ExistsError(self.table.kind, key, self.table.key) from exc
            except StaleDataError:
                session.rollback()  # nothing reached Redis: the flush came first
                raise
            except redis.RedisError as exc:
                session.rollback()
                self._suspect.add(key)
                raise StoreUnavailableError("live state (Redis)") from exc
            except SQLAlchemyError as exc:
                session.rollback()
                self._suspect.add(key)
                self._try_resync(key)
                raise StoreUnavailableError("the database") from exc

    def _try_resync(self, key: str) -> None:
        try:
            self._resync(key)
        except StoreUnavailableError as exc:
            # Stays suspect: healed on this process's next change, rebuilt by bootstrap at start.
            log.error("%s %s: projection may differ from SQL until healed: %s", self.table.kind, key, exc.__cause__)

    def _resync(self, key: str) -> None:
        # A writer in another process changing this very entry between our read and
        # our write could still be undone here; the next change or bootstrap fixes it.
        try:
            with self.sessions() as session:
                row = self._find(session, key)
                value = None if row is None else self.table.to_value(row)
        except SQLAlchemyError as exc:
            raise StoreUnavailableError("the database") from exc
        try:
            if value is None:
                live.delete_entry(self.client, self.table.projection, key)
            else:
                live.put_entry(self.client, self.table.projection, key, value.as_dict())
        except redis.RedisError as exc:
            raise StoreUnavailableError("live state (Redis)") from exc
        self._suspect.discard(key)

    def _retrying(self, key: str, attempt: Callable[[], T]) -> T:
        """Run `attempt` again while it loses the race with another writer of the entry."""
        for _ in range(ATTEMPTS):
            try:
                return attempt()
            except StaleDataError:
                continue
        raise ConflictError(self.table.kind, key)

    def _find(self, session: Session, key: str) -> Any:
        column = getattr(self.table.model, self.table.key)
        return session.scalars(select(self.table.model).where(column == key)).first()
