"""Accounts and roles (table accounts): who may use the panel and the API, and as what.

- `admin`: everything, including accounts and trunks.
- `operator`: rooms, live rooms, scheduled conferences, sounds, recordings, call records, extensions.
- `user`: an employee, named by its extension number, signing in with that extension's SIP
  password; it sees only what is its own.

Admins and operators have a login name (a letter first, so it never looks like an extension
number) and a password kept as an argon2id hash. A user account has no password of its own:
extensions keep only the digest HA1 of theirs (conference.extensions), so a user's password is
checked by computing the HA1 of what was typed and comparing the two in constant time
(store.signin). It is made the first time the extension signs in, or by an admin.

At least one enabled admin always exists: the last one cannot be deleted, disabled or demoted.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from conference.fields import FieldError, Rule, boolean, clean, digits, matching, one_of, require
from store.projected import ExistsError, NotFoundError
from store.sql import Account as AccountRow
from store.sql import ApiToken, Contact, Extension, PersonalTemplate, StoreUnavailableError, iso, reading, utcnow

BUILTIN_ADMIN = "admin"  # made by the migration; pre-account tokens belong to it
PANEL_LANGUAGES = ("en", "ru")  # the panel's translations (web/panel/translations)
MIN_PASSWORD, MAX_PASSWORD = 10, 128
_LOGIN_NAME = "[a-z][a-z0-9._-]{0,63}"  # a letter first: never an extension number
_EXTENSION_NAME = digits(32)

# argon2id with the library's defaults (RFC 9106's second recommendation: 64 MiB, 3 passes).
HASHER = PasswordHasher()


class Role(StrEnum):
    USER = "user"
    OPERATOR = "operator"
    ADMIN = "admin"

    def includes(self, needed: Role) -> bool:
        """Whether this role may do what `needed` may: admin > operator > user."""
        order = list(Role)
        return order.index(self) >= order.index(needed)


class LastAdminError(Exception):
    """The change would leave no enabled admin."""


@dataclass(frozen=True)
class Account:
    id: int
    name: str  # login name, or the extension number of a user
    role: Role
    disabled: bool
    has_password: bool  # false for users and for the built-in admin until `make admin`
    credential_version: int
    created_at: datetime
    updated_at: datetime
    language: str | None = None  # of the panel, as the account chose it; None: its browser's
    email: str | None = None  # its profile (the portal): where its conferences' mail to it goes
    zone: str | None = None  # its profile: the time zone of its portal forms

    def as_dict(self) -> dict[str, Any]:
        """As the API shows it: never the password hash."""
        return {"id": self.id, "name": self.name, "role": str(self.role), "disabled": self.disabled,
                "password_set": self.has_password, "created_at": iso(self.created_at),
                "updated_at": iso(self.updated_at)}


def _account(row: AccountRow) -> Account:
    language = row.language if row.language in PANEL_LANGUAGES else None
    return Account(row.id, row.name, Role(row.role), row.disabled, row.password_hash is not None,
                   row.credential_version, row.created_at, row.updated_at, language, row.email, row.zone)


def _stamp(row: AccountRow, ha1: str | None) -> str:
    # A user's password is its extension's, which changes with its HA1 (never stored in Redis
    # as it is); an admin's or operator's changes bump credential_version.
    if row.role == Role.USER:
        return hashlib.sha256(f"{row.name}:{ha1}".encode()).hexdigest()
    return f"v{row.credential_version}"


def is_extension_name(name: str) -> bool:
    return _EXTENSION_NAME.accepts(name)


def hash_password(password: str) -> str:
    return HASHER.hash(password)


def password_matches(stored: str, password: str) -> bool:
    try:
        return HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


# Payloads --------------------------------------------------------------------------------------


def _password(value: Any) -> bool:
    return isinstance(value, str) and MIN_PASSWORD <= len(value) <= MAX_PASSWORD and value.isprintable()


RULES: dict[str, Rule] = {
    "name": matching(f"{_LOGIN_NAME}|[0-9]{{1,32}}", "a login name (a lowercase letter, then up to 63 of a-z 0-9 "
                     ". _ -) or, for a user, an extension number").means(
        "A login name (a lowercase letter first) for admins and operators; the extension number for a user. "
        "Cannot change."),
    "role": one_of(*Role),
    "password": Rule(_password, f"{MIN_PASSWORD}-{MAX_PASSWORD} printable characters",
                     {"type": "string", "minLength": MIN_PASSWORD, "maxLength": MAX_PASSWORD, "writeOnly": True},
                     "Stored only as an argon2id hash; never returned."),
    "disabled": boolean(),
}
NEW = ("name", "role", "password")  # the fields of a new account; a change may send "disabled" too


@dataclass(frozen=True)
class NewAccount:
    name: str
    role: Role
    password: str | None  # None for a user


def validate_new(payload: Any) -> NewAccount:
    fields = clean(payload, {k: RULES[k] for k in NEW})
    require(fields, "name", "role")
    role, name = Role(fields["role"]), fields["name"]
    if role is Role.USER:
        if not is_extension_name(name):
            raise FieldError("name", "invalid_field", "a user account is named by its extension number")
        if "password" in fields:
            raise FieldError("password", "invalid_field", "a user signs in with its extension's password")
        return NewAccount(name, role, None)
    if is_extension_name(name):
        raise FieldError("name", "invalid_field", "an admin or operator needs a login name starting with a letter")
    require(fields, "password")
    return NewAccount(name, role, fields["password"])


@dataclass(frozen=True)
class AccountChange:
    role: Role | None = None
    password: str | None = None
    disabled: bool | None = None


def validate_change(current: Account, payload: Any) -> AccountChange:
    fields = clean(payload, RULES)
    if "name" in fields and fields["name"] != current.name:
        raise FieldError("name", "immutable_field", "an account's name cannot change; create a new one")
    role = Role(fields["role"]) if "role" in fields else None
    if current.role is Role.USER and role not in (None, Role.USER):
        raise FieldError("role", "invalid_field", "a user account (an extension) stays a user")
    if current.role is not Role.USER and role is Role.USER:
        raise FieldError("role", "invalid_field", "users are extensions; create one by its number instead")
    if current.role is Role.USER and "password" in fields:
        raise FieldError("password", "invalid_field", "a user's password is its extension's; change it there")
    return AccountChange(role, fields.get("password"), fields.get("disabled"))


# The repository ---------------------------------------------------------------------------------


class AccountRepository:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def list(self) -> list[Account]:
        with reading(self.sessions) as session:
            return [_account(row) for row in session.scalars(select(AccountRow).order_by(AccountRow.id))]

    def get(self, account_id: int) -> Account:
        with reading(self.sessions) as session:
            row = session.get(AccountRow, account_id)
            if row is None:
                raise NotFoundError("account", str(account_id))
            return _account(row)

    def by_name(self, name: str) -> tuple[Account, str | None] | None:
        """The account and its password hash, for signing in."""
        with reading(self.sessions) as session:
            row = session.scalars(select(AccountRow).where(AccountRow.name == name)).first()
            return None if row is None else (_account(row), row.password_hash)

    def active(self, account_id: int, stamp: str | None = None) -> Account | None:
        """The account a token or session acts for, if it may still act: it exists, is enabled, a
        user's extension still exists and (for a session) its password has not changed since:
        `stamp` is what credential_stamp() said when the session began."""
        with reading(self.sessions) as session:
            row = session.get(AccountRow, account_id)
            if row is None or row.disabled:
                return None
            ha1 = self._ha1(session, row.name) if row.role == Role.USER else None
            if row.role == Role.USER and ha1 is None:
                return None
            if stamp is not None and not hmac.compare_digest(stamp, _stamp(row, ha1)):
                return None
            return _account(row)

    def credential_stamp(self, account_id: int) -> str:
        """What a new session remembers of the account's password, so that a new one ends it."""
        with reading(self.sessions) as session:
            row = session.get(AccountRow, account_id)
            if row is None:
                raise NotFoundError("account", str(account_id))
            return _stamp(row, self._ha1(session, row.name) if row.role == Role.USER else None)

    def extension_ha1(self, number: str) -> str | None:
        with reading(self.sessions) as session:
            return self._ha1(session, number)

    @staticmethod
    def _ha1(session: Session, number: str) -> str | None:
        return session.scalars(select(Extension.ha1).where(Extension.number == number)).first()

    def rehash(self, account_id: int, password: str) -> None:
        """Store the password's hash again with today's argon2 parameters (at sign-in, when they changed)."""
        hashed = hash_password(password)

        def apply(session: Session) -> None:
            self._row(session, account_id).password_hash = hashed

        self._write(apply)

    def create(self, new: NewAccount) -> Account:
        if new.role is Role.USER:
            self._check_extension(new.name)
        hashed = None if new.password is None else hash_password(new.password)
        return self._write(lambda session: self._insert(session, new.name, new.role, hashed), new.name)

    def user_of_extension(self, number: str) -> Account:
        """The user account of an extension that just signed in, made on its first sign-in."""
        found = self.by_name(number)
        if found is not None:
            return found[0]
        try:
            return self._write(lambda session: self._insert(session, number, Role.USER, None), number)
        except ExistsError:  # made by a concurrent first sign-in
            again = self.by_name(number)
            assert again is not None
            return again[0]

    def change(self, account_id: int, change: AccountChange) -> Account:
        hashed = None if change.password is None else hash_password(change.password)

        def apply(session: Session) -> Account:
            row = self._row(session, account_id)
            demoted = change.role is not None and change.role is not Role.ADMIN
            if row.role == Role.ADMIN and not row.disabled and (demoted or change.disabled):
                self._keep_an_admin(session, row.id)
            if change.role is not None:
                row.role = change.role
            if change.disabled is not None:
                row.disabled = change.disabled
            if hashed is not None:
                row.password_hash = hashed
                row.credential_version += 1  # sessions signed in with the old password end
            row.updated_at = utcnow()
            session.flush()
            return _account(row)

        return self._write(apply)

    def choose_language(self, account_id: int, language: str) -> None:
        """The panel's language for the account, from its next page on (ValueError: not one of them)."""
        if language not in PANEL_LANGUAGES:
            raise ValueError(f"no panel language {language!r}")

        def apply(session: Session) -> None:
            self._row(session, account_id).language = language

        self._write(apply)

    def set_profile(self, account_id: int, email: str | None, zone: str | None) -> None:
        """The portal's profile (checked by the caller against conference.schedule's rules)."""
        def apply(session: Session) -> None:
            row = self._row(session, account_id)
            row.email, row.zone = email, zone

        self._write(apply)

    def delete(self, account_id: int) -> None:
        def apply(session: Session) -> None:
            row = self._row(session, account_id)
            if row.role == Role.ADMIN and not row.disabled:
                self._keep_an_admin(session, row.id)
            session.execute(delete(ApiToken).where(ApiToken.account_id == row.id))
            session.execute(delete(Contact).where(Contact.account_id == row.id))
            session.execute(delete(PersonalTemplate).where(PersonalTemplate.account_id == row.id))
            session.delete(row)

        self._write(apply)

    def set_admin_password(self, name: str, password: str) -> tuple[Account, bool]:
        """`make admin`: the admin `name` with this password, enabled; made if new. (account, made)."""
        hashed = hash_password(password)

        def apply(session: Session) -> tuple[Account, bool]:
            row = session.scalars(select(AccountRow).where(AccountRow.name == name)).first()
            if row is None:
                return self._insert(session, name, Role.ADMIN, hashed), True
            row.role, row.disabled, row.password_hash = Role.ADMIN, False, hashed
            row.credential_version += 1
            row.updated_at = utcnow()
            session.flush()
            return _account(row), False

        return self._write(apply, name)

    def admin_can_sign_in(self) -> bool:
        """Whether any enabled admin has a password (else only `make admin` lets anyone in)."""
        query = select(func.count()).select_from(AccountRow).where(
            AccountRow.role == Role.ADMIN, AccountRow.disabled.is_(False), AccountRow.password_hash.is_not(None))
        with reading(self.sessions) as session:
            return bool(session.scalar(query))

    def first_admin(self) -> Account:
        """The oldest enabled admin (the built-in one unless it was deleted): `python -m web.token` mints for it."""
        query = select(AccountRow).where(AccountRow.role == Role.ADMIN, AccountRow.disabled.is_(False))
        with reading(self.sessions) as session:
            row = session.scalars(query.order_by(AccountRow.id)).first()
            if row is None:  # only a database edited by hand gets here
                raise NotFoundError("enabled admin account", "")
            return _account(row)

    # Helpers --------------------------------------------------------------------------------------

    def _write(self, apply: Callable[[Session], Any], name: str = "the name") -> Any:
        with self.sessions() as session:
            try:
                result = apply(session)
                session.commit()
                return result
            except IntegrityError as exc:
                session.rollback()
                raise ExistsError("account", name, "name") from exc
            except SQLAlchemyError as exc:
                session.rollback()
                raise StoreUnavailableError("the database") from exc

    @staticmethod
    def _insert(session: Session, name: str, role: Role, hashed: str | None) -> Account:
        row = AccountRow(name=name, role=role, password_hash=hashed, disabled=False, credential_version=1)
        session.add(row)
        session.flush()  # a taken name fails here, as IntegrityError
        return _account(row)

    @staticmethod
    def _row(session: Session, account_id: int) -> AccountRow:
        row = session.get(AccountRow, account_id, with_for_update=True)
        if row is None:
            raise NotFoundError("account", str(account_id))
        return row

    @staticmethod
    def _keep_an_admin(session: Session, leaving: int) -> None:
        # FOR UPDATE: on PostgreSQL two admins demoting each other at once cannot both pass.
        others = session.scalars(select(AccountRow.id).where(
            AccountRow.role == Role.ADMIN, AccountRow.disabled.is_(False), AccountRow.id != leaving,
        ).with_for_update()).all()
        if not others:
            raise LastAdminError()

    def _check_extension(self, number: str) -> None:
        if self.extension_ha1(number) is None:
            raise FieldError("name", "invalid_field", f"no extension {number}")
