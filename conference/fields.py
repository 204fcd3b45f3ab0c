"""Checking API payloads field by field: one rule per field, one FieldError naming it.

Pure (standard library only): rooms, extensions and trunks declare their rules here.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from typing import Any

Rule = tuple[Callable[[Any], bool], str]  # (accepts the JSON value?, what the error says it must be)


class FieldError(ValueError):
    """A payload the API must refuse. `field` is "" when the body as a whole is wrong."""

    def __init__(self, field: str, error_id: str, message: str) -> None:
        super().__init__(message)
        self.field, self.error_id, self.message = field, error_id, message


def clean(payload: Any, rules: dict[str, Rule]) -> dict[str, Any]:
    """The payload as a dict whose every field is known and acceptable."""
    if not isinstance(payload, dict):
        raise FieldError("", "bad_request", "the body must be a JSON object")
    unknown = sorted(str(key) for key in payload if key not in rules)
    if unknown:
        raise FieldError(unknown[0], "unknown_field", f"unknown field {unknown[0]!r}; known: {', '.join(rules)}")
    for name, value in payload.items():
        accepts, expected = rules[name]
        if not accepts(value):
            raise FieldError(name, "invalid_field", f"{name} must be {expected}")
    return dict(payload)


def require(clean_payload: dict[str, Any], *names: str) -> None:
    for name in names:
        if name not in clean_payload:
            raise FieldError(name, "missing_field", f"{name} is required")


def digits(longest: int, shortest: int = 1) -> Callable[[Any], bool]:
    # isascii: str.isdigit() also accepts other scripts' digits and superscripts.
    return lambda value: (isinstance(value, str) and value.isascii() and value.isdigit()
                          and shortest <= len(value) <= longest)


def text(longest: int) -> Callable[[Any], bool]:
    # Control characters (NUL breaks PostgreSQL) and lone surrogates (no UTF-8 form) cannot be stored.
    return lambda value: isinstance(value, str) and len(value) <= longest and not any(
        unicodedata.category(char) in ("Cc", "Cs") for char in value)


def integer(lowest: int, highest: int) -> Callable[[Any], bool]:
    # JSON true is a Python int, but no room setting means it as a number.
    return lambda value: isinstance(value, int) and not isinstance(value, bool) and lowest <= value <= highest


def boolean(value: Any) -> bool:
    return isinstance(value, bool)


def or_null(accepts: Callable[[Any], bool]) -> Callable[[Any], bool]:
    return lambda value: value is None or accepts(value)


