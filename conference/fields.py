"""Checking API payloads field by field: one rule per field, one FieldError naming it.

Each Rule carries its check, the words an error says, and the same rule as JSON Schema, so the
OpenAPI document (web.openapi) is generated from the rules the API enforces and cannot drift
from them. Pure (standard library only): rooms, extensions, trunks, conferences and accounts
declare their rules with it.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Rule:
    accepts: Callable[[Any], bool]  # is this JSON value acceptable?
    expected: str  # what the error says it must be
    schema: Mapping[str, Any]  # the same rule as JSON Schema (draft 2020-12, as OpenAPI 3.1 has it)
    about: str = ""  # what the field means, for the document's readers

    def means(self, about: str) -> Rule:
        return dataclasses.replace(self, about=about)

    def described(self) -> dict[str, Any]:
        """Its JSON Schema, with what it means."""
        return {**self.schema, **({"description": self.about} if self.about else {})}

    @property
    def longest(self) -> int | None:
        """How many characters a form's input for it may take (its maxlength), if the rule says."""
        if "maxLength" in self.schema:
            return int(self.schema["maxLength"])
        return len(str(self.schema["maximum"])) if "maximum" in self.schema else None


class FieldError(ValueError):
    """A payload the API must refuse. `field` is "" when the body as a whole is wrong."""

    def __init__(self, field: str, error_id: str, message: str) -> None:
        super().__init__(message)
        self.field, self.error_id, self.message = field, error_id, message


def clean(payload: Any, rules: Mapping[str, Rule]) -> dict[str, Any]:
    """The payload as a dict whose every field is known and acceptable."""
    if not isinstance(payload, dict):
        raise FieldError("", "bad_request", "the body must be a JSON object")
    unknown = sorted(str(key) for key in payload if key not in rules)
    if unknown:
        raise FieldError(unknown[0], "unknown_field", f"unknown field {unknown[0]!r}; known: {', '.join(rules)}")
    for name, value in payload.items():
        rule = rules[name]
        if not rule.accepts(value):
            raise FieldError(name, "invalid_field", f"{name} must be {rule.expected}")
    return dict(payload)


def require(clean_payload: dict[str, Any], *names: str) -> None:
    for name in names:
        if name not in clean_payload:
            raise FieldError(name, "missing_field", f"{name} is required")


def object_schema(rules: Mapping[str, Rule], required: Iterable[str] = (), about: str = "",
                  defaults: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The JSON Schema of the payloads `clean(payload, rules)` accepts (and `require` lets through)."""
    defaults = defaults or {}
    properties = {name: {**rule.described(), **({"default": defaults[name]} if name in defaults else {})}
                  for name, rule in rules.items()}
    schema: dict[str, Any] = {"type": "object", "additionalProperties": False, "properties": properties}
    if required:
        schema["required"] = list(required)
    if about:
        schema["description"] = about
    return schema


def dataclass_defaults(cls: Any) -> dict[str, Any]:
    """The defaults a settings dataclass gives omitted fields (for the document)."""
    return {field.name: field.default for field in dataclasses.fields(cls)
            if field.default is not dataclasses.MISSING}


# Rules -----------------------------------------------------------------------------------


def digits(longest: int, shortest: int = 1) -> Rule:
    # isascii: str.isdigit() also accepts other scripts' digits and superscripts.
    return Rule(lambda value: (isinstance(value, str) and value.isascii() and value.isdigit()
                               and shortest <= len(value) <= longest),
                f"a string of {shortest}-{longest} digits",
                {"type": "string", "minLength": shortest, "maxLength": longest,
                 "pattern": f"^[0-9]{{{shortest},{longest}}}$"})


# Control characters (NUL breaks PostgreSQL) and lone surrogates (no UTF-8 form) cannot be stored.
_NO_CONTROL = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$"


def text(longest: int, shortest: int = 0) -> Rule:
    return Rule(lambda value: isinstance(value, str) and shortest <= len(value) <= longest and not any(
        unicodedata.category(char) in ("Cc", "Cs") for char in value),
        f"a string of {f'{shortest}-{longest}' if shortest else f'at most {longest}'} characters, "
        "no control characters",
        {"type": "string", "maxLength": longest, **({"minLength": shortest} if shortest else {}),
         "pattern": _NO_CONTROL})


def matching(pattern: str, expected: str) -> Rule:
    """A string the whole of which matches `pattern` (keep it free of nested quantifiers: it meets
    attacker input). fullmatch, unlike ^...$ with match, refuses a trailing newline."""
    compiled = re.compile(pattern)
    return Rule(lambda value: isinstance(value, str) and compiled.fullmatch(value) is not None, expected,
                {"type": "string", "pattern": f"^(?:{pattern})$"})


def integer(lowest: int, highest: int) -> Rule:
    # JSON true is a Python int, but no setting means it as a number.
    return Rule(lambda value: isinstance(value, int) and not isinstance(value, bool) and lowest <= value <= highest,
                f"an integer {lowest}-{highest}", {"type": "integer", "minimum": lowest, "maximum": highest})


def decimal(lowest: int, highest: int) -> Rule:
    """An integer as a URL's query carries it: a string of digits (bounded before int() reads it)."""
    return Rule(lambda value: (isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 18
                               and lowest <= int(value) <= highest),
                f"an integer {lowest}-{highest}", {"type": "integer", "minimum": lowest, "maximum": highest})


def boolean() -> Rule:
    return Rule(lambda value: isinstance(value, bool), "true or false", {"type": "boolean"})


def one_of(*choices: str | int) -> Rule:
    """One of these strings, or of these integers (never true or false, which equal 1 and 0)."""
    kind = "string" if all(isinstance(choice, str) for choice in choices) else "integer"
    allowed = set(choices)
    return Rule(lambda value: not isinstance(value, bool) and isinstance(value, (str, int)) and value in allowed
                and (kind == "string") == isinstance(value, str),
                f"one of {', '.join(map(str, choices))}", {"type": kind, "enum": list(choices)})


def or_null(rule: Rule) -> Rule:
    schema = dict(rule.schema)
    schema["type"] = [schema["type"], "null"]
    if "enum" in schema:
        schema["enum"] = [*schema["enum"], None]
    return Rule(lambda value: value is None or rule.accepts(value), f"null or {rule.expected}", schema, rule.about)


def list_of(item: Rule, longest: int, shortest: int = 0) -> Rule:
    """A list of distinct items, each acceptable."""
    def accepts(value: Any) -> bool:
        if not (isinstance(value, list) and shortest <= len(value) <= longest
                and all(item.accepts(one) for one in value)):
            return False
        return len({repr(one) for one in value}) == len(value)  # repr: items may be unhashable
    return Rule(accepts, f"a list of {shortest}-{longest} distinct items, each {item.expected}",
                {"type": "array", "items": dict(item.schema), "minItems": shortest, "maxItems": longest,
                 "uniqueItems": True})


def mapping_of(key: Rule, value: Rule, longest: int, shortest: int = 0) -> Rule:
    """A JSON object whose every key and value is acceptable (e.g. a menu's key -> destination)."""
    def accepts(found: Any) -> bool:
        return (isinstance(found, dict) and shortest <= len(found) <= longest
                and all(key.accepts(k) and value.accepts(v) for k, v in found.items()))
    return Rule(accepts, f"an object of {shortest}-{longest} entries, each key {key.expected} and each value "
                f"{value.expected}", {"type": "object", "propertyNames": dict(key.schema),
                                       "additionalProperties": dict(value.schema), "minProperties": shortest,
                                       "maxProperties": longest})
