"""Webhook endpoints, their deliveries and each try of those, in SQL (conference.webhooks has the rules)."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from conference.webhooks import SECRET_PREFIX, Event
from store.projected import NotFoundError
from store.sql import StoreUnavailableError, WebhookAttempt, WebhookDelivery, WebhookEndpoint, iso, reading

KIND = "webhook"
DELIVERY = "delivery"
MAX_ENDPOINTS = 100
LISTED = 100  # deliveries a listing shows, newest first


class State(StrEnum):
    PENDING = "pending"  # to be tried (now, or at next_try_at)
    DELIVERED = "delivered"  # a try was answered 2xx
    FAILED = "failed"  # every try of its series failed; a replay starts a new series


class TooManyEndpointsError(Exception):
    pass


@dataclass(frozen=True)
class Due:
    """What a try of a pending delivery needs."""

    endpoint_id: int
    url: str
    secret: str
    kind: str
    body: bytes
    tries: int  # made so far in its series


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def public(row: WebhookEndpoint) -> dict[str, Any]:
    """An endpoint as the API shows it: never its secret."""
    return {"id": row.id, "url": row.url, "events": json.loads(row.events), "description": row.description,
            "enabled": row.enabled, "created_at": iso(row.created_at), "updated_at": iso(row.updated_at)}


def shown(row: WebhookDelivery, tries: list[WebhookAttempt]) -> dict[str, Any]:
    return {"id": row.id, "event_id": row.event_id, "type": row.kind, "state": row.state,
            "attempts": row.attempts, "last_status": row.last_status,
            "next_try_at": iso(row.next_try_at) if row.next_try_at and row.state == State.PENDING else None,
            "created_at": iso(row.created_at),
            "delivered_at": iso(row.delivered_at) if row.delivered_at else None,
            "body": json.loads(row.body),
            "tries": [{"at": iso(t.at), "status": t.status, "error": t.error, "milliseconds": t.milliseconds}
                      for t in tries]}


class WebhookRepository:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    @contextmanager
    def writing(self) -> Iterator[Session]:
        try:
            with self.sessions() as session:
                yield session
        except SQLAlchemyError as exc:
            raise StoreUnavailableError("the database") from exc

    # Endpoints ------------------------------------------------------------------------

    def endpoints(self) -> list[dict[str, Any]]:
        with reading(self.sessions) as session:
            return [public(row) for row in session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.id))]

    def get(self, endpoint_id: int) -> dict[str, Any]:
        with reading(self.sessions) as session:
            return public(self._endpoint(session, endpoint_id))

    def create(self, fields: dict[str, Any], now: datetime) -> dict[str, Any]:
        """A new endpoint; the answer carries its secret, the only time it is shown."""
        with self.writing() as session:
            if len(session.scalars(select(WebhookEndpoint.id)).all()) >= MAX_ENDPOINTS:
                raise TooManyEndpointsError(f"at most {MAX_ENDPOINTS} webhook endpoints")
            row = WebhookEndpoint(url=fields["url"], events=json.dumps(fields["events"]), secret=new_secret(),
                                  description=fields.get("description", ""), enabled=fields.get("enabled", True),
                                  created_at=now, updated_at=now)
            session.add(row)
            session.commit()
            return {**public(row), "secret": row.secret}

    def update(self, endpoint_id: int, fields: dict[str, Any], now: datetime) -> dict[str, Any]:
        with self.writing() as session:
            row = self._endpoint(session, endpoint_id)
            if "url" in fields:
                row.url = fields["url"]
            if "events" in fields:
                row.events = json.dumps(fields["events"])
            if "description" in fields:
                row.description = fields["description"]
            if "enabled" in fields:
                row.enabled = fields["enabled"]
            row.updated_at = now
            session.commit()
            return public(row)

    def rotate(self, endpoint_id: int, now: datetime) -> dict[str, Any]:
        """A new secret, at once for every try from now on (replays too); answered this once."""
        with self.writing() as session:
            row = self._endpoint(session, endpoint_id)
            row.secret, row.updated_at = new_secret(), now
            session.commit()
            return {**public(row), "secret": row.secret}

    def delete(self, endpoint_id: int) -> None:
        """The endpoint and everything delivered for it (SQLite keeps no foreign keys: by hand)."""
        with self.writing() as session:
            row = self._endpoint(session, endpoint_id)
            deliveries = select(WebhookDelivery.id).where(WebhookDelivery.endpoint_id == endpoint_id)
            session.execute(delete(WebhookAttempt).where(WebhookAttempt.delivery_id.in_(deliveries)))
            session.execute(delete(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint_id))
            session.delete(row)
            session.commit()

    @staticmethod
    def _endpoint(session: Session, endpoint_id: int) -> WebhookEndpoint:
        row = session.get(WebhookEndpoint, endpoint_id)
        if row is None:
            raise NotFoundError(KIND, str(endpoint_id))
        return row

    # Deliveries -----------------------------------------------------------------------

    def record(self, event: Event, now: datetime) -> list[int]:
        """A pending delivery of `event` for each enabled endpoint that asked for its kind; their ids.
        Idempotent: an event read twice (the worker died before it said it was done) adds nothing."""
        with self.writing() as session:
            wanted = {row.id for row in session.scalars(select(WebhookEndpoint).where(WebhookEndpoint.enabled))
                      if event.kind in json.loads(row.events)}
            if not wanted:
                return []
            made = set(session.scalars(select(WebhookDelivery.endpoint_id).where(  # by the unique index
                WebhookDelivery.endpoint_id.in_(wanted), WebhookDelivery.event_id == event.id)))
            rows = [WebhookDelivery(endpoint_id=endpoint_id, event_id=event.id, kind=event.kind,
                                    body=event.body().decode(), state=State.PENDING, attempts=0, next_try_at=now,
                                    created_at=now) for endpoint_id in sorted(wanted - made)]
            session.add_all(rows)
            try:
                session.commit()
            except IntegrityError:  # another worker recorded it at the same moment: its deliveries stand
                session.rollback()
                return []
            return [row.id for row in rows]

    def due(self, delivery_id: int) -> Due | None:
        """A pending delivery; None if it is not pending (delivered, failed, or gone with its
        endpoint), so a job run twice sends nothing twice."""
        with reading(self.sessions) as session:
            row = session.get(WebhookDelivery, delivery_id)
            endpoint = None if row is None else session.get(WebhookEndpoint, row.endpoint_id)
            if row is None or endpoint is None or row.state != State.PENDING:
                return None
            return Due(endpoint.id, endpoint.url, endpoint.secret, row.kind, row.body.encode(), row.attempts)

    def tried(self, delivery_id: int, at: datetime, status: int | None, error: str, milliseconds: int,
              delivered: bool, pause: float | None) -> State | None:
        """Record a try: delivered, or to be tried again after `pause` seconds, or (None) failed. The
        delivery's new state; None if it is gone."""
        with self.writing() as session:
            row = session.get(WebhookDelivery, delivery_id)
            if row is None:
                return None
            session.add(WebhookAttempt(delivery_id=delivery_id, at=at, status=status, error=error[:300],
                                       milliseconds=milliseconds))
            row.attempts += 1
            row.last_status = status
            if delivered:
                row.state, row.delivered_at, row.next_try_at = State.DELIVERED, at, None
            elif pause is None:
                row.state, row.next_try_at = State.FAILED, None
            else:
                row.next_try_at = at + timedelta(seconds=pause)
            session.commit()
            return State(row.state)

    def replay(self, endpoint_id: int, delivery_id: int, now: datetime) -> dict[str, Any]:
        """Send a delivery again, whatever became of it: a new series of tries, from now."""
        with self.writing() as session:
            row = session.get(WebhookDelivery, delivery_id)
            if row is None or row.endpoint_id != endpoint_id:
                raise NotFoundError(DELIVERY, str(delivery_id))
            row.state, row.attempts, row.next_try_at, row.delivered_at = State.PENDING, 0, now, None
            session.commit()
            return shown(row, self._tries(session, [row.id]).get(row.id, []))

    def deliveries(self, endpoint_id: int, state: str | None = None) -> list[dict[str, Any]]:
        """The newest deliveries of an endpoint (of one state, if asked), each with its tries."""
        with reading(self.sessions) as session:
            self._endpoint(session, endpoint_id)
            query = select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint_id)
            if state is not None:
                query = query.where(WebhookDelivery.state == state)
            rows = list(session.scalars(query.order_by(WebhookDelivery.id.desc()).limit(LISTED)))
            tries = self._tries(session, [row.id for row in rows])
            return [shown(row, tries.get(row.id, [])) for row in rows]

    @staticmethod
    def _tries(session: Session, ids: list[int]) -> dict[int, list[WebhookAttempt]]:
        found: dict[int, list[WebhookAttempt]] = {}
        if ids:
            query = select(WebhookAttempt).where(WebhookAttempt.delivery_id.in_(ids)).order_by(WebhookAttempt.id)
            for attempt in session.scalars(query):
                found.setdefault(attempt.delivery_id, []).append(attempt)
        return found

    def pending(self, before: datetime) -> list[int]:
        """Pending deliveries whose next try is due before `before` (to enqueue again after an outage)."""
        with reading(self.sessions) as session:
            query = select(WebhookDelivery.id).where(WebhookDelivery.state == State.PENDING,
                                                     WebhookDelivery.next_try_at <= before)
            return list(session.scalars(query.order_by(WebhookDelivery.id).limit(1000)))

    def forget(self, before: datetime) -> int:
        """Delete the deliveries made before `before`, with their tries; how many."""
        with self.writing() as session:
            old = select(WebhookDelivery.id).where(WebhookDelivery.created_at < before)
            session.execute(delete(WebhookAttempt).where(WebhookAttempt.delivery_id.in_(old)))
            gone = session.execute(delete(WebhookDelivery).where(WebhookDelivery.created_at < before))
            session.commit()
            return int(getattr(gone, "rowcount", 0) or 0)
