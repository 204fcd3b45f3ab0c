"""Form fields of the panel's simpler pages (extensions, trunks, accounts): how each is shown, how its
text becomes the API's JSON value, and what is said next to it when the API's rules refuse it.

A field's text is turned into JSON as loosely as a form must (a box ticked or not, lines of a list),
then judged by the API's own validators: the rules stay in one place, conference/ and store/."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from conference.fields import FieldError
from store.accounts import LastAdminError
from store.projected import ConflictError, ExistsError


class Kind(StrEnum):
    TEXT = "text"
    SECRET = "secret"  # never shown; left empty when editing: unchanged
    FLAG = "flag"
    CHOICE = "choice"
    LINES = "lines"  # a list, one item per line
    PAIRS = "pairs"  # a mapping, "key = value" per line
    OPTIONAL = "optional"  # text; empty means null
    INTEGER = "integer"  # a whole number; empty: left out (the default, or the value it had)
    OPTIONAL_INTEGER = "optional_integer"  # a whole number; empty means null


@dataclass(frozen=True)
class FormField:
    name: str
    label: Any  # lazy strings, translated when the page renders
    help: Any
    error: Any = None  # said when the value is refused; None: the help says it
    kind: Kind = Kind.TEXT
    choices: tuple[tuple[str, Any], ...] = ()
    key: bool = False  # names the thing: given when creating, never changed
    clearable: bool = False  # a SECRET that may be removed (a "remove" box when editing)


def payload(fields: Iterable[FormField], form: MultiDict[str, str], creating: bool) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for field in fields:
        if field.key and not creating:
            continue
        text = form.get(field.name, "")
        if field.kind is Kind.FLAG:
            found[field.name] = field.name in form
        elif field.kind is Kind.SECRET:
            if text:
                found[field.name] = text
            elif field.clearable and (creating or form.get(f"remove_{field.name}")):
                found[field.name] = None
        elif field.kind is Kind.LINES:
            found[field.name] = [line.strip() for line in text.splitlines() if line.strip()]
        elif field.kind is Kind.PAIRS:
            found[field.name] = _pairs(field.name, text)
        elif field.kind is Kind.OPTIONAL:
            found[field.name] = text.strip() or None
        elif field.kind in (Kind.INTEGER, Kind.OPTIONAL_INTEGER):
            number = text.strip()
            if number or field.kind is Kind.OPTIONAL_INTEGER:
                # Anything but digits goes to the API as typed: its rule refuses it, naming the field.
                found[field.name] = int(number) if number.isascii() and number.isdigit() else (number or None)
        else:
            found[field.name] = text.strip()
    return found


def _pairs(name: str, text: str) -> dict[str, str]:
    found = {}
    for line in text.splitlines():
        if line.strip():
            key, sep, value = line.partition("=")
            if not sep:
                raise FieldError(name, "invalid_field", f"{name}: each line is key = value")
            found[key.strip()] = value.strip()
    return found


def shown(field: FormField, value: Any) -> str:
    """A stored value as the field's text."""
    if value is None or field.kind is Kind.SECRET:
        return ""
    if field.kind is Kind.LINES:
        return "\n".join(value)
    if field.kind is Kind.PAIRS:
        return "\n".join(f"{key} = {target}" for key, target in dict(value).items())
    return str(value)


def stored(fields: Iterable[FormField], data: dict[str, Any]) -> dict[str, Any]:
    """A stored thing's values as its form shows them (`<secret>_set`: whether a secret is kept)."""
    values: dict[str, Any] = {}
    for field in fields:
        value = data.get(field.name)
        values[field.name] = bool(value) if field.kind is Kind.FLAG else shown(field, value)
        if field.kind is Kind.SECRET:
            values[f"{field.name}_set"] = value is not None or field.name == "password"
    return values


def refusal(fields: Iterable[FormField], err: Exception) -> tuple[str, str]:
    """(the field, what to say next to it) for a refusal of the form by the API's rules."""
    by_name = {field.name: field for field in fields}
    if isinstance(err, ExistsError):
        key = next((field.name for field in by_name.values() if field.key), "")
        return key, _("This is taken already.")
    if isinstance(err, ConflictError):
        return "", _("It was being changed at the same moment. Send the form again.")
    if isinstance(err, LastAdminError):
        return "role", _("This is the last enabled administrator: make another one first.")
    if not isinstance(err, FieldError):
        raise err
    known = by_name.get(err.field)
    if known is None:
        return "", _("The form could not be read. Open the page again.")
    if err.error_id == "missing_field":
        return err.field, _("Fill this in.")
    return err.field, str(known.error or known.help)
