"""Scheduled conferences, their templates and attendance in SQL.

Every conference gets a random dial-in code no other one has (codes of past
conferences are never reused, so an old invitation never leads to a new one).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from conference.invitations import Mail, recipients
from conference.schedule import Meeting, Person, State
from store.projected import ConflictError, ExistsError, NotFoundError
from store.sql import (
    Attendance,
    Conference,
    ConferenceTemplate,
    OutgoingMail,
    PersonalTemplate,
    StoreUnavailableError,
    aware,
    from_epoch,
    iso,
    reading,
)

CODE_DIGITS = 6
ATTEMPTS = 5
KIND = "conference"


def to_meeting(row: Conference) -> Meeting:
    return Meeting(
        code=row.code, topic=row.topic, owner=Person(**json.loads(row.owner)), zone=row.zone,
        start=aware(row.start_at), end=aware(row.end_at),
        participants=tuple(Person(**p) for p in json.loads(row.participants)),
        greeting_sound_id=row.greeting_sound_id, chair_password=row.chair_password,
        guest_password=row.guest_password, open_dial_in=row.open_dial_in, max_participants=row.max_participants,
        auto_invite=row.auto_invite,
        auto_extend=row.auto_extend, reminder_minutes=row.reminder_minutes, cancelled=row.cancelled,
        ended_at=None if row.ended_at is None else aware(row.ended_at), locked=row.locked, revision=row.revision,
    )


def _columns(meeting: Meeting) -> dict[str, Any]:
    return {
        "code": meeting.code, "topic": meeting.topic, "owner": json.dumps(meeting.owner.as_dict()),
        "zone": meeting.zone, "start_at": meeting.start, "end_at": meeting.end,
        "participants": json.dumps([p.as_dict() for p in meeting.participants]),
        "greeting_sound_id": meeting.greeting_sound_id, "chair_password": meeting.chair_password,
        "guest_password": meeting.guest_password, "open_dial_in": meeting.open_dial_in,
        "max_participants": meeting.max_participants,
        "auto_invite": meeting.auto_invite, "auto_extend": meeting.auto_extend,
        "reminder_minutes": meeting.reminder_minutes, "cancelled": meeting.cancelled, "ended_at": meeting.ended_at,
        "locked": meeting.locked, "revision": meeting.revision,
    }


# Pauses between tries of one mail: a minute, then longer, for about a day in all.
RETRY_PAUSES = (60, 120, 300, 900, 1800, 3600, 3600 * 3, 3600 * 6, 3600 * 12)
NEVER = datetime(9999, 1, 1, tzinfo=UTC)


def retry_pause(attempts: int) -> timedelta | None:
    return timedelta(seconds=RETRY_PAUSES[attempts - 1]) if attempts <= len(RETRY_PAUSES) else None


def _queue_mail(session: Session, meeting: Meeting, mail: Mail | None) -> None:
    if mail is None:
        return
    now = datetime.now(UTC)
    for person in recipients(meeting):
        session.add(OutgoingMail(code=meeting.code, kind=str(mail), recipient=person.email or "",
                                 revision=meeting.revision, queued_at=now, next_try_at=now, attempts=0,
                                 last_error=""))


class MeetingRepository:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def create(self, build: Callable[[str], Meeting], mail: Mail | None = Mail.INVITATION) -> Meeting:
        """Store `build(code)` under a new random code, and the mail telling of it in the outbox."""
        for _ in range(ATTEMPTS):
            meeting = build("".join(secrets.choice("0123456789") for _ in range(CODE_DIGITS)))
            try:
                with self.sessions() as session:
                    session.add(Conference(**_columns(meeting)))
                    _queue_mail(session, meeting, mail)
                    session.commit()
                return meeting
            except IntegrityError:
                continue  # that code is taken: draw another
            except SQLAlchemyError as exc:
                raise StoreUnavailableError("the database") from exc
        raise ExistsError(KIND, "code")

    def get(self, code: str) -> Meeting:
        with reading(self.sessions) as session:
            row = self._find(session, code)
            if row is None:
                raise NotFoundError(KIND, code)
            return to_meeting(row)

    def update(self, code: str, change: Callable[[Meeting], Meeting], mail: Mail | None = None) -> Meeting:
        """Apply `change` to the current meeting, with the mail telling of it; `change` may raise,
        and may run more than once."""
        for _ in range(ATTEMPTS):
            try:
                with self.sessions() as session:
                    row = self._find(session, code)
                    if row is None:
                        raise NotFoundError(KIND, code)
                    meeting = change(to_meeting(row))
                    for name, value in _columns(meeting).items():
                        setattr(row, name, value)
                    _queue_mail(session, meeting, mail)
                    session.commit()
                    return meeting
            except StaleDataError:
                continue
            except SQLAlchemyError as exc:
                raise StoreUnavailableError("the database") from exc
        raise ConflictError(KIND, code)

    def between(self, first: datetime, last: datetime) -> list[Meeting]:
        """Meetings starting in [first, last), earliest first."""
        query = (select(Conference).where(Conference.start_at >= first, Conference.start_at < last)
                 .order_by(Conference.start_at, Conference.code))
        with reading(self.sessions) as session:
            return [to_meeting(row) for row in session.scalars(query)]

    def listed(self, state: State | None, year: int | None, month: int | None, now: datetime) -> list[Meeting]:
        """By state, optionally of one year or month of their local start date, earliest first."""
        if year is None:
            first, last = datetime(1970, 1, 1, tzinfo=UTC), datetime(9999, 1, 1, tzinfo=UTC)
        else:
            # A day either side: a local date may be another UTC date.
            first = datetime(year, month or 1, 1, tzinfo=UTC) - timedelta(days=1)
            last = datetime(year + (month is None or month == 12), (month % 12 + 1) if month else 1, 1,
                            tzinfo=UTC) + timedelta(days=1)
        found = []
        for meeting in self.between(first, last):
            local = meeting.local(meeting.start)
            if year is not None and (local.year != year or (month is not None and local.month != month)):
                continue
            if state is None or meeting.state(now) == state:
                found.append(meeting)
        return found

    # The outbox ----------------------------------------------------------------

    def mail_due(self, now: datetime, limit: int = 50) -> list[tuple[int, str, Mail, str]]:
        """(id, code, kind, recipient) of unsent mail whose time has come."""
        query = (select(OutgoingMail).where(OutgoingMail.sent_at.is_(None), OutgoingMail.next_try_at <= now)
                 .order_by(OutgoingMail.next_try_at).limit(limit))
        with reading(self.sessions) as session:
            return [(row.id, row.code, Mail(row.kind), row.recipient) for row in session.scalars(query)]

    def outbox_waiting(self) -> tuple[int, datetime | None]:
        """How many mails wait to be sent (given-up ones aside), and when the oldest was queued."""
        query = select(func.count(OutgoingMail.id), func.min(OutgoingMail.queued_at)).where(
            OutgoingMail.sent_at.is_(None), OutgoingMail.next_try_at < NEVER)
        with reading(self.sessions) as session:
            count, oldest = session.execute(query).one()
        if oldest is not None and oldest.tzinfo is None:
            oldest = oldest.replace(tzinfo=UTC)  # SQLite keeps no zone; every time stored is UTC
        return int(count), oldest

    def remind_once(self, meeting: Meeting) -> None:
        """Queue the reminder unless this revision of the meeting already has one."""
        with self.sessions() as session:
            known = session.scalars(select(OutgoingMail.id).where(
                OutgoingMail.code == meeting.code, OutgoingMail.kind == str(Mail.REMINDER),
                OutgoingMail.revision == meeting.revision)).first()
            if known is None:
                _queue_mail(session, meeting, Mail.REMINDER)
                session.commit()

    def mail_sent(self, mail_id: int, now: datetime) -> None:
        with self.sessions() as session:
            row = session.get(OutgoingMail, mail_id)
            if row is not None:
                row.sent_at, row.attempts, row.last_error = now, row.attempts + 1, ""
                session.commit()

    def mail_failed(self, mail_id: int, now: datetime, error: str) -> datetime | None:
        """Count a failed try; the next one after a growing pause (None: given up for good)."""
        with self.sessions() as session:
            row = session.get(OutgoingMail, mail_id)
            if row is None:
                return None
            row.attempts += 1
            row.last_error = error[:500]
            pause = retry_pause(row.attempts)
            # Given up: it stays in the table, unsent, with its last error.
            row.next_try_at = NEVER if pause is None else now + pause
            session.commit()
            return None if pause is None else row.next_try_at
            session.commit()
            return row.next_try_at

    def outbox(self, code: str) -> list[dict[str, Any]]:
        query = select(OutgoingMail).where(OutgoingMail.code == code).order_by(OutgoingMail.id)
        with reading(self.sessions) as session:
            return [{"kind": row.kind, "to": row.recipient, "attempts": row.attempts,
                     "sent": row.sent_at is not None, "last_error": row.last_error}
                    for row in session.scalars(query)]

    @staticmethod
    def _find(session: Session, code: str) -> Conference | None:
        return session.scalars(select(Conference).where(Conference.code == code)).first()

    # Templates ---------------------------------------------------------------

    def save_template(self, name: str, fields: dict[str, Any]) -> None:
        try:
            with self.sessions() as session:
                session.add(ConferenceTemplate(name=name, fields=json.dumps(fields)))
                session.commit()
        except IntegrityError as exc:
            raise ExistsError("template", name, "name") from exc

    def template(self, name: str) -> dict[str, Any]:
        with reading(self.sessions) as session:
            row = session.scalars(select(ConferenceTemplate).where(ConferenceTemplate.name == name)).first()
            if row is None:
                raise NotFoundError("template", name)
            return dict(json.loads(row.fields))

    def templates(self) -> list[dict[str, Any]]:
        with reading(self.sessions) as session:
            rows = session.scalars(select(ConferenceTemplate).order_by(ConferenceTemplate.name))
            return [{"name": row.name, "fields": json.loads(row.fields)} for row in rows]

    def delete_template(self, name: str) -> None:
        with self.sessions() as session:
            row = session.scalars(select(ConferenceTemplate).where(ConferenceTemplate.name == name)).first()
            if row is None:
                raise NotFoundError("template", name)
            session.delete(row)
            session.commit()

    # An employee's own templates -------------------------------------------------

    def save_personal_template(self, account_id: int, name: str, fields: dict[str, Any], default: bool) -> None:
        """Saved under the name (replacing one of that name); as the default, the only one."""
        try:
            with self.sessions() as session:
                row = session.scalars(select(PersonalTemplate).where(
                    PersonalTemplate.account_id == account_id, PersonalTemplate.name == name)).first()
                if row is None:
                    row = PersonalTemplate(account_id=account_id, name=name, fields="{}")
                    session.add(row)
                if default:
                    for other in session.scalars(select(PersonalTemplate).where(
                            PersonalTemplate.account_id == account_id, PersonalTemplate.is_default.is_(True))):
                        other.is_default = False
                row.fields, row.is_default = json.dumps(fields), default
                session.commit()
        except IntegrityError as exc:
            raise ConflictError("template", name) from exc  # the same name saved at the same moment
        except SQLAlchemyError as exc:
            raise StoreUnavailableError("the database") from exc

    def personal_templates(self, account_id: int) -> list[dict[str, Any]]:
        query = (select(PersonalTemplate).where(PersonalTemplate.account_id == account_id)
                 .order_by(PersonalTemplate.name))
        with reading(self.sessions) as session:
            return [{"name": row.name, "fields": json.loads(row.fields), "default": row.is_default}
                    for row in session.scalars(query)]

    def personal_template(self, account_id: int, name: str | None = None) -> dict[str, Any]:
        """Its template of that name (None: its default); NotFoundError if it has none."""
        query = select(PersonalTemplate).where(PersonalTemplate.account_id == account_id)
        query = query.where(PersonalTemplate.is_default.is_(True) if name is None else PersonalTemplate.name == name)
        with reading(self.sessions) as session:
            row = session.scalars(query).first()
            if row is None:
                raise NotFoundError("template", name or "(default)")
            return dict(json.loads(row.fields))

    def delete_personal_template(self, account_id: int, name: str) -> None:
        with self.sessions() as session:
            row = session.scalars(select(PersonalTemplate).where(
                PersonalTemplate.account_id == account_id, PersonalTemplate.name == name)).first()
            if row is None:
                raise NotFoundError("template", name)
            session.delete(row)
            session.commit()

    # Attendance (history) ----------------------------------------------------

    def attended(self, participant: str, code: str, caller: str, role: str, joined_by: str, joined: float) -> None:
        with self.sessions() as session:
            session.merge(Attendance(id=participant, code=code, caller=caller[:255], role=role, joined_by=joined_by,
                                     joined_at=from_epoch(joined)))
            session.commit()

    def left(self, participant: str, when: float) -> None:
        with self.sessions() as session:
            row = session.get(Attendance, participant)
            if row is not None and row.left_at is None:
                row.left_at = from_epoch(when)
                session.commit()

    def attendance(self, code: str) -> list[dict[str, Any]]:
        query = select(Attendance).where(Attendance.code == code).order_by(Attendance.joined_at)
        with reading(self.sessions) as session:
            return [{"caller": row.caller, "role": row.role, "joined_by": row.joined_by,
                     "joined_at": iso(row.joined_at), "left_at": None if row.left_at is None else iso(row.left_at)}
                    for row in session.scalars(query)]

