"""Room settings: the options of a conference room, their validation and PIN hashing.

Pure (standard library only, no I/O): the API validates with it, and the bridge
and KEMI read the same settings back from the Redis projection
(`RoomSettings.from_dict`) and check a typed PIN with `pin_matches`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from conference.fields import FieldError, Rule, boolean, clean, digits, integer, one_of, or_null, require, text

LANGUAGES = ("en", "ru")
MAX_NUMBER_LENGTH = 32
MAX_NAME_LENGTH = 100
MAX_PIN_LENGTH = 16
# A shorter PIN is guessed within the lockout's allowance (10 tries per caller in 15 min) too often.
MIN_PIN_LENGTH = 4
MAX_PARTICIPANTS = 10000
MAX_SOUND_ID = 2**31 - 1  # a 32-bit SQL integer, the widest every database stores

PIN_SCHEME = "pbkdf2_sha256"
# About 7 ms per check on one core: cheap enough for the bridge's event loop,
# yet it slows down guessing from a leaked projection.
PIN_ITERATIONS = 20000
_MAX_ITERATIONS = 1_000_000  # a corrupt stored value must not stall the caller


@dataclass(frozen=True)
class RoomSettings:
    number: str
    name: str = ""
    language: str = "en"
    user_pin: str | None = None  # hash_pin() output, never the PIN itself
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

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RoomSettings:
        """Settings read back from the projection. Keys this version does not know are
        ignored and missing ones take their defaults, so processes of different
        versions can share one projection during an upgrade."""
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{key: value for key, value in data.items() if key in known})


def validate_create(payload: Any) -> RoomSettings:
    """A new room from an API payload (PINs in clear); the result holds hashed PINs."""
    fields = clean(payload, RULES)
    require(fields, "number")
    _check_pins_differ(fields.get("user_pin"), fields.get("admin_pin"))
    return RoomSettings(**_hash_pins(fields))


def validate_patch(current: RoomSettings, payload: Any) -> RoomSettings:
    """`current` with the payload's fields changed. A room's number never changes:
    callers, dial plans and the projection know the room by it."""
    fields = clean(payload, RULES)
    if "number" in fields and fields["number"] != current.number:
        raise FieldError("number", "immutable_field", "a room's number cannot change; create a new room")
    user_pin, admin_pin = fields.get("user_pin"), fields.get("admin_pin")
    _check_pins_differ(user_pin, admin_pin)
    # A PIN changed alone must still differ from the other one, which is only stored hashed.
    if user_pin is not None and "admin_pin" not in fields and pin_matches(current.admin_pin, user_pin):
        raise FieldError("user_pin", "invalid_field", "user_pin and admin_pin must differ")
    if admin_pin is not None and "user_pin" not in fields and pin_matches(current.user_pin, admin_pin):
        raise FieldError("admin_pin", "invalid_field", "user_pin and admin_pin must differ")
    return dataclasses.replace(current, **_hash_pins(fields))


_PIN_RULES = ("Digits, sent in clear over the API, stored only as a salted hash and never returned "
              "(see has_user_pin / has_admin_pin). null removes the PIN. user_pin and admin_pin must differ.")
RULES: dict[str, Rule] = {
    "number": digits(MAX_NUMBER_LENGTH).means(
        "The number callers dial. Unique. It cannot change after creation: a PATCH with a different number "
        "answers 400 immutable_field; create a new room instead."),
    "name": text(MAX_NAME_LENGTH).means("Free text without control characters."),
    "language": one_of(*LANGUAGES).means("Language of the room's voice prompts."),
    "user_pin": or_null(digits(MAX_PIN_LENGTH, MIN_PIN_LENGTH)).means("PIN of ordinary participants. " + _PIN_RULES),
    "admin_pin": or_null(digits(MAX_PIN_LENGTH, MIN_PIN_LENGTH)).means("PIN of moderators. " + _PIN_RULES),
    "record": boolean().means("Record the room's conferences."),
    "announce_count": boolean().means("Tell a newcomer how many participants are in."),
    "music_on_hold": boolean().means("Play music to a participant who is alone or waiting."),
    "end_on_admin_exit": boolean().means("End the conference when the last moderator leaves."),
    "mute_notifications": boolean().means("No join and leave announcements."),
    "wait_for_admin": boolean().means("Participants wait until a moderator joins."),
    "max_participants": integer(0, MAX_PARTICIPANTS).means("0 means unlimited."),
    "greeting_sound_id": or_null(integer(1, MAX_SOUND_ID)).means(
        "A sound of the library (/sounds) played to callers on answer; an id the library lacks answers 400 "
        "invalid_field."),
}
FIELDS = tuple(RULES)  # what the API accepts, in RoomSettings order
BOOLEANS = tuple(name for name, rule in RULES.items() if rule.schema["type"] == "boolean")


def _check_pins_differ(user_pin: str | None, admin_pin: str | None) -> None:
    if user_pin is not None and user_pin == admin_pin:
        raise FieldError("admin_pin", "invalid_field", "user_pin and admin_pin must differ")


def _hash_pins(fields: dict[str, Any]) -> dict[str, Any]:
    for name in ("user_pin", "admin_pin"):
        if fields.get(name) is not None:
            fields[name] = hash_pin(fields[name])
    return fields


def hash_pin(pin: str, salt: str | None = None) -> str:
    """The stored form of a PIN, `pbkdf2_sha256$<iterations>$<salt>$<hex digest>`.

    Salted, so equal PINs of two rooms look different; checkable with hashlib alone.
    """
    salt = salt or secrets.token_hex(8)
    digest = hashlib.pbkdf2_hmac("sha256", pin.encode(), salt.encode(), PIN_ITERATIONS).hex()
    return f"{PIN_SCHEME}${PIN_ITERATIONS}${salt}${digest}"


def pin_matches(stored: str | None, typed: str) -> bool:
    """Whether the digits a caller typed are the PIN behind `stored` (a hash_pin() value).

    Constant-time in the digest comparison; anything malformed simply does not match.
    """
    if not stored:
        return False
    parts = stored.split("$")
    if len(parts) != 4 or parts[0] != PIN_SCHEME or not (parts[1].isascii() and parts[1].isdigit()):
        return False
    iterations, salt, digest = int(parts[1]), _utf8(parts[2]), _utf8(parts[3])
    if not 1 <= iterations <= _MAX_ITERATIONS:
        return False
    candidate = hashlib.pbkdf2_hmac("sha256", _utf8(typed), salt, iterations).hex().encode()
    return hmac.compare_digest(candidate, digest)


def _utf8(text: str) -> bytes:
    # surrogatepass: a corrupt value must give False, not UnicodeEncodeError.
    return text.encode("utf-8", "surrogatepass")
