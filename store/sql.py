"""SQL schema (SQLAlchemy 2) and the session factory: the durable truth, of which Redis holds a projection.

The schema itself is created and changed only by the Alembic revisions in
store/migrations; a test checks that they and these models agree.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
    create_engine,
    event,
    false,
    text,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker
from sqlalchemy.pool import NullPool


def utcnow() -> datetime:
    return datetime.now(UTC)


def from_epoch(epoch: float) -> datetime:
    return datetime.fromtimestamp(float(epoch), tz=UTC)


def aware(moment: datetime) -> datetime:
    """A stored time with its zone: SQLite gives timestamps back without it (they are UTC)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def iso(moment: datetime) -> str:
    return aware(moment).isoformat()


class Base(DeclarativeBase):
    pass


class Room(Base):
    __tablename__ = "rooms"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(100), nullable=False, default="")
    language: Mapped[str] = mapped_column(String(2), nullable=False, default="en")
    user_pin: Mapped[str | None] = mapped_column(String(128))  # conference.rooms.hash_pin() output
    admin_pin: Mapped[str | None] = mapped_column(String(128))
    record: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    announce_count: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    music_on_hold: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    end_on_admin_exit: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    mute_notifications: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    wait_for_admin: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    max_participants: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    # No foreign key: deleting a sound checks for rooms that use it (store.sounds).
    greeting_sound_id: Mapped[int | None] = mapped_column(Integer)
    # More PINs per role: JSON lists of hash_pin() outputs (store.rooms)
    user_pins: Mapped[str] = mapped_column(String, nullable=False, default="[]")
    admin_pins: Mapped[str] = mapped_column(String, nullable=False, default="[]")
    listener_pins: Mapped[str] = mapped_column(String, nullable=False, default="[]")
    listen_only: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    users_join_muted: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    admins_join_muted: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    start_muted_at: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    lobby: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    music_sound_id: Mapped[int | None] = mapped_column(Integer)  # like greeting_sound_id, no foreign key
    record_tracks: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)
    # Every UPDATE/DELETE of a row checks and bumps it, so two writers that read the
    # same row cannot silently overwrite each other (StaleDataError instead).
    version: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("1"))

    __mapper_args__: dict[str, Any] = {"version_id_col": version}


class Account(Base):
    """Who may use the panel and the API (store.accounts). An admin or operator signs in with its
    name and a password kept as an argon2 hash; a user's name is its extension number and its
    password is that extension's (checked against the extension's HA1, so password_hash is null)."""

    __tablename__ = "accounts"
    # Ids are never reused, so a session or client holding an old id cannot get another account.
    __table_args__: dict[str, Any] = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    role: Mapped[str] = mapped_column(String(16), nullable=False)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    disabled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    # Bumped when the password changes: sessions signed in before it end.
    credential_version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)
    language: Mapped[str | None] = mapped_column(String(2))  # of the panel; None: the browser's
    email: Mapped[str | None] = mapped_column(String(320))  # the portal's profile: the owner's mail goes here
    zone: Mapped[str | None] = mapped_column(String(64))  # the portal's profile: its forms' time zone


class ApiToken(Base):
    """A bearer token of an account (store.tokens): it acts with the account's role."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    account_id: Mapped[int] = mapped_column(Integer, ForeignKey("accounts.id"), nullable=False, index=True)
    name: Mapped[str] = mapped_column(String(100), nullable=False, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Sound(Base):
    """An uploaded sound; its converted audio lives in files named by `id` only (store.sounds)."""

    __tablename__ = "sounds"
    # Ids are never reused, so a room or client holding an old id cannot get another sound.
    __table_args__: dict[str, Any] = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), nullable=False, default="")
    original_filename: Mapped[str] = mapped_column(String(255), nullable=False, default="")  # display only
    format: Mapped[str] = mapped_column(String(8), nullable=False)  # "wav" or "mp3", as uploaded
    duration_ms: Mapped[int] = mapped_column(Integer, nullable=False)
    size_bytes: Mapped[int] = mapped_column(Integer, nullable=False)  # of the upload
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)


class Recording(Base):
    """A recorded conference session; its audio is `<id>.wav` in the recordings folder."""

    __tablename__ = "recordings"

    id: Mapped[str] = mapped_column(String(80), primary_key=True)  # room-startms-node, made by the bridge
    room: Mapped[str] = mapped_column(String(32), nullable=False, index=True)
    node: Mapped[str] = mapped_column(String(64), nullable=False)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    ended_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    duration_ms: Mapped[int] = mapped_column(Integer, nullable=False)  # of the audio in the file
    participants: Mapped[str] = mapped_column(String, nullable=False, default="[]")  # JSON list of callers
    # JSON list of the per-participant files beside the mix: {"track", "participant", "offset_ms", "duration_ms"}
    tracks: Mapped[str] = mapped_column(String, nullable=False, default="[]")


class Extension(Base):
    """An employee's phone (conference.extensions.ExtensionSettings); the password is kept as HA1 only."""

    __tablename__ = "extensions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True, nullable=False)
    ha1: Mapped[str] = mapped_column(String(32), nullable=False)
    display_name: Mapped[str] = mapped_column(String(100), nullable=False, default="")
    language: Mapped[str] = mapped_column(String(2), nullable=False, default="en")
    consult_merge: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    external_calls: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    forward_to: Mapped[str | None] = mapped_column(String(33))
    conference_pin: Mapped[str | None] = mapped_column(String(128))
    conference_end_on_exit: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    conference_announce_caller_name: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    direct_media: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("1"))

    __mapper_args__: dict[str, Any] = {"version_id_col": version}


class Trunk(Base):
    """A carrier gateway (conference.extensions.TrunkSettings); lists and maps as JSON text."""

    __tablename__ = "trunks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(32), unique=True, nullable=False)
    gateway: Mapped[str] = mapped_column(String(260), nullable=False)
    sources: Mapped[str] = mapped_column(String, nullable=False, default="[]")
    prefixes: Mapped[str] = mapped_column(String, nullable=False, default="[]")
    inbound: Mapped[str] = mapped_column(String, nullable=False, default="{}")
    trusted: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    caller_id: Mapped[str | None] = mapped_column(String(33))
    present_as: Mapped[str] = mapped_column(String(16), nullable=False, default="pai")
    callback: Mapped[str] = mapped_column(String, nullable=False, default="[]")
    callback_owner: Mapped[str | None] = mapped_column(String(32))
    callback_per_hour: Mapped[int] = mapped_column(Integer, nullable=False, default=3)
    direct_media: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("1"))

    __mapper_args__: dict[str, Any] = {"version_id_col": version}


class Menu(Base):
    """A voice menu (conference.menus.MenuSettings): its number and owner as columns, the rest as JSON text."""

    __tablename__ = "menus"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True, nullable=False)
    owner: Mapped[str | None] = mapped_column(String(32))
    settings: Mapped[str] = mapped_column(String, nullable=False, default="{}")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("1"))

    __mapper_args__: dict[str, Any] = {"version_id_col": version}


class Cdr(Base):
    """A call detail record of one leg a bridge node dialled (conference.billing)."""

    __tablename__ = "cdrs"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)  # made by the bridge
    call: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    caller: Mapped[str] = mapped_column(String(255), nullable=False)
    callee: Mapped[str] = mapped_column(String(64), nullable=False)
    billed_to: Mapped[str] = mapped_column(String(32), nullable=False, index=True)
    node: Mapped[str] = mapped_column(String(64), nullable=False)
    status: Mapped[int] = mapped_column(Integer, nullable=False)
    disposition: Mapped[str] = mapped_column(String(16), nullable=False)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, index=True)
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    billable_seconds: Mapped[int] = mapped_column(Integer, nullable=False)
    # Call quality over the leg (conference.quality.Summary); None: it never had media to judge.
    mos_avg: Mapped[float | None] = mapped_column(Float)
    mos_min: Mapped[float | None] = mapped_column(Float)
    loss_percent_avg: Mapped[float | None] = mapped_column(Float)
    loss_percent_max: Mapped[float | None] = mapped_column(Float)
    jitter_ms_avg: Mapped[float | None] = mapped_column(Float)
    jitter_ms_max: Mapped[float | None] = mapped_column(Float)


class Conference(Base):
    """A scheduled conference (conference.schedule.Meeting); people as JSON text."""

    __tablename__ = "conferences"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True, nullable=False)
    topic: Mapped[str] = mapped_column(String(100), nullable=False)
    owner: Mapped[str] = mapped_column(String, nullable=False)
    zone: Mapped[str] = mapped_column(String(64), nullable=False)
    start_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, index=True)
    end_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    participants: Mapped[str] = mapped_column(String, nullable=False, default="[]")
    greeting_sound_id: Mapped[int | None] = mapped_column(Integer)
    chair_password: Mapped[str | None] = mapped_column(String(16))
    guest_password: Mapped[str | None] = mapped_column(String(16))
    open_dial_in: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False, server_default=false())
    max_participants: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    auto_invite: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    auto_extend: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    reminder_minutes: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    cancelled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    locked: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    revision: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("1"))

    __mapper_args__: dict[str, Any] = {"version_id_col": version}


class ConferenceTemplate(Base):
    """Saved conference fields to create new ones from (seed 004)."""

    __tablename__ = "conference_templates"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True, nullable=False)
    fields: Mapped[str] = mapped_column(String, nullable=False)  # JSON: a conference payload without a date
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)


class PersonalTemplate(Base):
    """An employee's own conference template (the portal's "save as template"); one may be its default."""

    __tablename__ = "personal_templates"
    __table_args__ = (UniqueConstraint("account_id", "name", name="uq_personal_templates_account_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(Integer, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False,
                                            index=True)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    fields: Mapped[str] = mapped_column(String, nullable=False)  # JSON, as ConferenceTemplate's
    is_default: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)


class Attendance(Base):
    """Who was in a scheduled conference, when, and how they came (history)."""

    __tablename__ = "attendance"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)  # the bridge's participant id
    code: Mapped[str] = mapped_column(String(16), nullable=False, index=True)
    caller: Mapped[str] = mapped_column(String(255), nullable=False)
    role: Mapped[str] = mapped_column(String(16), nullable=False)
    joined_by: Mapped[str] = mapped_column(String(16), nullable=False)  # "called" or "dial-in"
    joined_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, index=True)
    left_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class OutgoingMail(Base):
    """A mail to send (the outbox): written with the change it tells of, sent by the worker,
    retried with growing pauses until it goes, so a mail server that is down loses nothing."""

    __tablename__ = "outgoing_mail"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(16), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)  # conference.invitations.Mail
    recipient: Mapped[str] = mapped_column(String(320), nullable=False)
    revision: Mapped[int] = mapped_column(Integer, nullable=False)  # of the meeting when queued
    queued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)
    next_try_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, index=True)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str] = mapped_column(String(500), nullable=False, default="")


class Contact(Base):
    """An entry of an employee's personal address book (the portal's schedule form offers them)."""

    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(Integer, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False,
                                            index=True)
    name: Mapped[str] = mapped_column(String(100), nullable=False, default="")
    number: Mapped[str | None] = mapped_column(String(33))
    email: Mapped[str | None] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)


class WebhookEndpoint(Base):
    """An operator's URL that receives the room events it names, signed with its own secret
    (conference.webhooks). The secret is kept as it is: signing needs it (a hash would not do)."""

    __tablename__ = "webhook_endpoints"
    # Ids are never reused, so a client holding an old id cannot reach another endpoint.
    __table_args__: dict[str, Any] = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(String(500), nullable=False)
    events: Mapped[str] = mapped_column(String, nullable=False)  # JSON list of conference.webhooks.EVENT_KINDS
    secret: Mapped[str] = mapped_column(String(100), nullable=False)
    description: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)


class WebhookDelivery(Base):
    """One event for one endpoint: the body as first made (every try and replay sends these bytes,
    with a fresh signature), its state and when it is tried next."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (UniqueConstraint("endpoint_id", "event_id", name="uq_webhook_deliveries_endpoint_event"),
                      {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(Integer, ForeignKey("webhook_endpoints.id", ondelete="CASCADE"),
                                             nullable=False, index=True)
    event_id: Mapped[str] = mapped_column(String(40), nullable=False)  # the room event stream's entry id
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    body: Mapped[str] = mapped_column(String, nullable=False)
    state: Mapped[str] = mapped_column(String(16), nullable=False)  # store.webhooks.State
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)  # of this series (a replay restarts it)
    last_status: Mapped[int | None] = mapped_column(Integer)  # HTTP status of the last answer; None: no answer
    next_try_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow, index=True)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class WebhookAttempt(Base):
    """One POST of a delivery and what came of it."""

    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    delivery_id: Mapped[int] = mapped_column(Integer, ForeignKey("webhook_deliveries.id", ondelete="CASCADE"),
                                             nullable=False, index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    status: Mapped[int | None] = mapped_column(Integer)  # None: no HTTP answer (refused, timed out, ...)
    error: Mapped[str] = mapped_column(String(300), nullable=False, default="")  # why not, or the answer's start
    milliseconds: Mapped[int] = mapped_column(Integer, nullable=False)


class StoreUnavailableError(Exception):
    """Redis or the database failed; the change was rolled back. str() names the store."""


@contextmanager
def reading(sessions: sessionmaker[Session]) -> Iterator[Session]:
    """A session for reads; a database that fails becomes StoreUnavailableError."""
    with sessions() as session:
        try:
            yield session
        except SQLAlchemyError as exc:
            session.rollback()
            raise StoreUnavailableError("the database") from exc


def make_engine(url: str, pooled: bool = True) -> Engine:
    """An engine for `url`; it connects lazily, on first use. Unpooled, each session's connection
    closes with it (a process that forks must hold no SQLite connection its children inherit)."""
    engine = create_engine(url, pool_pre_ping=True) if pooled else create_engine(url, poolclass=NullPool)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    # WAL lets gunicorn workers read while one writes; busy_timeout makes a writer
    # wait for the lock instead of failing at once.
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def make_sessions(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)
