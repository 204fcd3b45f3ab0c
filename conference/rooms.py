"""Room settings: the 13 options of a conference room, their validation and PIN hashing.

Pure (standard library only): the API validates with it, the bridge and KEMI
read the same settings from the Redis projection.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

LANGUAGES = ("en", "ru")
MAX_PARTICIPANTS = 10000
PIN_ITERATIONS = 20000


@dataclass(frozen=True)
class RoomSettings:
    number: str
    name: str = ""
    language: str = "en"
    user_pin: str | None = None  # hashed (see hash_pin), never the PIN itself
    admin_pin: str | None = None
    record: bool = False
    announce_count: bool = True
    music_on_hold: bool = True
    end_on_admin_exit: bool = False
    mute_notifications: bool = False
    wait_for_admin: bool = False
    max_participants: int = 0  # 0 = unlimited
    greeting_sound_id: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


class FieldError(ValueError):
    def __init__(self, field: str, error_id: str, message: str) -> None:
        super().__init__(message)
        self.field, self.error_id, self.message = field, error_id, message


# What the API accepts; PINs arrive in clear and are hashed here.
_BOOLEANS = ("record", "announce_count", "music_on_hold", "end_on_admin_exit", "mute_notifications", "wait_for_admin")
FIELDS = ("number", "name", "language", "user_pin", "admin_pin", *_BOOLEANS, "max_participants", "greeting_sound_id")


def validate_create(payload: Any) -> RoomSettings:
    clean = _clean(payload)
    if "number" not in clean:
        raise FieldError("number", "missing_field", "number is required")
    _check_pins_differ(clean.get("user_pin"), clean.get("admin_pin"))
    return RoomSettings(**_hash_pins(clean))


def validate_patch(current: RoomSettings, payload: Any) -> RoomSettings:
    clean = _clean(payload)
    if "number" in clean and clean["number"] != current.number:
        raise FieldError("number", "immutable_field", "a room's number cannot change; create a new room")
    _check_pins_differ(clean.get("user_pin"), clean.get("admin_pin"))
    # A PIN changed alone must still differ from the other, which is stored hashed.
    for field, other, other_stored in (("user_pin", "admin_pin", current.admin_pin),
                                       ("admin_pin", "user_pin", current.user_pin)):
        if clean.get(field) and other not in clean and pin_matches(other_stored, clean[field]):
            raise FieldError(field, "invalid_field", "user_pin and admin_pin must differ")
    return dataclasses.replace(current, **_hash_pins(clean))


def _clean(payload: Any) -> dict[str, Any]:
    if not isinstance(payload, dict):
        raise FieldError("", "bad_request", "the body must be a JSON object")
    unknown = sorted(set(payload) - set(FIELDS))
    if unknown:
        raise FieldError(unknown[0], "unknown_field", f"unknown field {unknown[0]!r}")
    return {name: _check(name, value) for name, value in payload.items()}


def _check(name: str, value: Any) -> Any:
    if name == "number":
        if not isinstance(value, str) or not value.isascii() or not value.isdigit() or not 1 <= len(value) <= 32:
            raise FieldError(name, "invalid_field", "number must be a string of 1-32 digits")
    elif name == "name":
        if not isinstance(value, str) or len(value) > 100:
            raise FieldError(name, "invalid_field", "name must be a string of at most 100 characters")
    elif name == "language":
        if value not in LANGUAGES:
            raise FieldError(name, "invalid_field", f"language must be one of {', '.join(LANGUAGES)}")
    elif name in ("user_pin", "admin_pin"):
        if value is not None and not (
            isinstance(value, str) and value.isascii() and value.isdigit() and 1 <= len(value) <= 16
        ):
            raise FieldError(name, "invalid_field", f"{name} must be null or a string of 1-16 digits")
    elif name in _BOOLEANS:
        if not isinstance(value, bool):
            raise FieldError(name, "invalid_field", f"{name} must be true or false")
    elif name == "max_participants":
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_PARTICIPANTS:
            raise FieldError(name, "invalid_field", f"max_participants must be an integer 0-{MAX_PARTICIPANTS}")
    elif name == "greeting_sound_id" and value is not None and (
        isinstance(value, bool) or not isinstance(value, int) or value < 1
    ):
        raise FieldError(name, "invalid_field", "greeting_sound_id must be null or a positive integer")
    return value


def _check_pins_differ(user_pin: str | None, admin_pin: str | None) -> None:
    if user_pin is not None and user_pin == admin_pin:
        raise FieldError("admin_pin", "invalid_field", "user_pin and admin_pin must differ")


def _hash_pins(clean: dict[str, Any]) -> dict[str, Any]:
    for name in ("user_pin", "admin_pin"):
        if clean.get(name) is not None:
            clean[name] = hash_pin(clean[name])
    return clean


def hash_pin(pin: str, salt: str | None = None) -> str:
    salt = salt or secrets.token_hex(8)
    digest = hashlib.pbkdf2_hmac("sha256", pin.encode(), salt.encode(), PIN_ITERATIONS).hex()
    return f"pbkdf2_sha256${PIN_ITERATIONS}${salt}${digest}"


def pin_matches(stored: str | None, typed: str) -> bool:
    """Constant-time check of a typed PIN against its stored hash."""
    if not stored:
        return False
    try:
        scheme, iterations, salt, digest = stored.split("$")
        rounds = int(iterations)
    except ValueError:
        return False
    if scheme != "pbkdf2_sha256":
        return False
    candidate = hashlib.pbkdf2_hmac("sha256", typed.encode(), salt.encode(), rounds).hex()
    return hmac.compare_digest(candidate, digest)
