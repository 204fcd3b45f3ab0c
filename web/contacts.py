"""/api/v1/contacts: the caller's personal address book (the portal's schedule form offers it).
Every account has its own; nobody sees another's (its ids answer 404 like unknown ones)."""

from __future__ import annotations

from typing import Any

from flask import current_app, jsonify
from flask.typing import ResponseReturnValue

from conference.fields import FieldError, Rule, clean
from conference.schedule import PERSON
from store.accounts import Role
from store.contacts import ContactRepository, TooManyContactsError
from web.access import ApiBlueprint, number_of
from web.apidoc import documented
from web.auth import principal
from web.errors import ApiError
from web.rooms import json_body

blueprint = ApiBlueprint("contacts", __name__, role=Role.USER)
EXTENSION = "kamconf.contacts"
RULES: dict[str, Rule] = {name: PERSON[name] for name in ("name", "number", "email")}
FULL = "The address book holds as many contacts as it may (conflict)."


def contacts() -> ContactRepository:
    found: ContactRepository = current_app.extensions[EXTENSION]
    return found


def validate(payload: Any, new: bool) -> dict[str, Any]:
    fields = clean(payload, RULES)
    if new and not (fields.get("number") or fields.get("email")):
        raise FieldError("number", "invalid_field", "a contact needs a number or an e-mail address")
    return fields


def create(payload: Any) -> dict[str, Any]:
    """A new contact of the caller's (the API's JSON, the portal's form), by the same rules."""
    try:
        return contacts().create(principal().account.id, validate(payload, new=True))
    except TooManyContactsError as exc:
        raise ApiError(409, "conflict", str(exc)) from exc


@blueprint.get("/contacts")
@documented("The caller's contacts, by name", ["Contact"])
def list_contacts() -> ResponseReturnValue:
    return jsonify(contacts().list(principal().account.id))


@blueprint.post("/contacts")
@documented("Add a contact (a number, an e-mail address, or both)", "Contact", status=201, body="ContactCreate",
            errors={409: FULL})
def create_contact() -> ResponseReturnValue:
    return jsonify(create(json_body())), 201


@blueprint.patch("/contacts/<contact_id>")
@documented("Change a contact", "Contact", body="ContactPatch")
def patch_contact(contact_id: str) -> ResponseReturnValue:
    changed = contacts().update(principal().account.id, number_of("contact", contact_id),
                                validate(json_body(), new=False))
    return jsonify(changed)


@blueprint.delete("/contacts/<contact_id>")
@documented("Delete a contact", status=204)
def delete_contact(contact_id: str) -> ResponseReturnValue:
    contacts().delete(principal().account.id, number_of("contact", contact_id))
    return "", 204
