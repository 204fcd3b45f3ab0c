"""Employees' personal address books (the portal's contacts) in SQL: each account sees only its own."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from conference.fields import FieldError
from store.projected import NotFoundError
from store.sql import Contact, StoreUnavailableError, iso, reading

KIND = "contact"
MAX_CONTACTS = 1000  # per account: an address book, not a directory


class TooManyContactsError(Exception):
    pass


def public(row: Contact) -> dict[str, Any]:
    return {"id": row.id, "name": row.name, "number": row.number, "email": row.email,
            "created_at": iso(row.created_at)}


class ContactRepository:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def list(self, account_id: int) -> list[dict[str, Any]]:
        query = select(Contact).where(Contact.account_id == account_id).order_by(Contact.name, Contact.id)
        with reading(self.sessions) as session:
            return [public(row) for row in session.scalars(query)]

    def create(self, account_id: int, fields: dict[str, Any]) -> dict[str, Any]:
        try:
            with self.sessions() as session:
                held = len(session.scalars(select(Contact.id).where(Contact.account_id == account_id)).all())
                if held >= MAX_CONTACTS:
                    raise TooManyContactsError(f"an address book holds at most {MAX_CONTACTS} contacts")
                row = Contact(account_id=account_id, name=fields.get("name") or "", number=fields.get("number"),
                              email=fields.get("email"))
                session.add(row)
                session.commit()
                return public(row)
        except SQLAlchemyError as exc:
            raise StoreUnavailableError("the database") from exc

    def update(self, account_id: int, contact_id: int, fields: dict[str, Any]) -> dict[str, Any]:
        """The sent fields changed; NotFoundError unless the contact is this account's."""
        try:
            with self.sessions() as session:
                row = self._own(session, account_id, contact_id)
                merged = {"name": row.name, "number": row.number, "email": row.email, **fields}
                if not (merged["number"] or merged["email"]):
                    raise FieldError("number", "invalid_field", "a contact needs a number or an e-mail address")
                row.name, row.number, row.email = merged["name"] or "", merged["number"], merged["email"]
                session.commit()
                return public(row)
        except SQLAlchemyError as exc:
            raise StoreUnavailableError("the database") from exc

    def delete(self, account_id: int, contact_id: int) -> None:
        try:
            with self.sessions() as session:
                session.delete(self._own(session, account_id, contact_id))
                session.commit()
        except SQLAlchemyError as exc:
            raise StoreUnavailableError("the database") from exc

    @staticmethod
    def _own(session: Session, account_id: int, contact_id: int) -> Contact:
        row = session.get(Contact, contact_id)
        if row is None or row.account_id != account_id:  # another's is as absent as none (no probing)
            raise NotFoundError(KIND, str(contact_id))
        return row
