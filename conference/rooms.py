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

from conference.fields import (
    FieldError,
    Rule,
    boolean,
    clean,
    digits,
    integer,
    list_of,
    one_of,
    or_null,
    require,
    text,
)

LANGUAGES = ("en", "ru")
MAX_NUMBER_LENGTH = 32
MAX_NAME_LENGTH = 100
MAX_PIN_LENGTH = 16
# A shorter PIN is guessed within the lockout's allowance (10 tries per caller in 15 min) too often.
MIN_PIN_LENGTH = 4
MAX_PARTICIPANTS = 10000
# PINs of one list: a wrong PIN is checked against every stored hash (PIN_ITERATIONS each, on the
# bridge's event loop), so the lists stay short: at most 2 + 3 * 5 checks, about 0.1 s.
MAX_LISTED_PINS = 5
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
    user_pins: tuple[str, ...] = ()  # more participant PINs (hashed), beside user_pin
    admin_pins: tuple[str, ...] = ()  # more moderator PINs, beside admin_pin
    listener_pins: tuple[str, ...] = ()  # PINs of listen-only callers (they hear, are never heard)
    listen_only: bool = False  # every caller who is no moderator only listens
    users_join_muted: bool = False
    admins_join_muted: bool = False
    start_muted_at: int = 0  # participants join muted once this many are in (0: never)
    lobby: bool = False  # callers who are no moderators wait until a moderator lets them in
    music_sound_id: int | None = None  # the music on hold from the sound library; None: the node's standard track
    record_tracks: bool = False  # beside the mix, one file per participant of what it said

    def __post_init__(self) -> None:
        # Lists from JSON (the projection, SQL) become tuples: the settings stay immutable and comparable.
        for name in PIN_LISTS:
            object.__setattr__(self, name, tuple(getattr(self, name) or ()))

    @property
    def has_pins(self) -> bool:
        """Whether callers must type a PIN to enter."""
        return any(self.pins(name) for name in PIN_FIELDS)

    def pins(self, name: str) -> tuple[str, ...]:
        """The hashes a PIN field holds (a single PIN field: none or one)."""
        value = getattr(self, name)
        return tuple(value) if name in PIN_LISTS else (value,) if value else ()

    def as_dict(self) -> dict[str, Any]:
        """As JSON has it (the projection, the API): lists, not tuples."""
        data = dataclasses.asdict(self)
        return {**data, **{name: list(data[name]) for name in PIN_LISTS}}

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
    _check_pins_differ(fields, RoomSettings(number=""))
    return RoomSettings(**_hash_pins(fields))


def validate_patch(current: RoomSettings, payload: Any) -> RoomSettings:
    """`current` with the payload's fields changed. A room's number never changes:
    callers, dial plans and the projection know the room by it."""
    fields = clean(payload, RULES)
    if "number" in fields and fields["number"] != current.number:
        raise FieldError("number", "immutable_field", "a room's number cannot change; create a new room")
    _check_pins_differ(fields, current)
    return dataclasses.replace(current, **_hash_pins(fields))


_PIN_RULES = ("Digits, sent in clear over the API, stored only as a salted hash and never returned "
              "(see has_user_pin / has_admin_pin). null removes the PIN. Every PIN of a room (user_pin, admin_pin "
              "and the lists) must differ from every other.")
_LIST_RULES = (f"At most {MAX_LISTED_PINS}, each {MIN_PIN_LENGTH}-{MAX_PIN_LENGTH} digits, sent in clear, stored "
               "only as salted hashes and never returned (the room shows how many: *_pins_count). [] removes them. "
               "Every PIN of a room must differ from every other.")
_PIN = digits(MAX_PIN_LENGTH, MIN_PIN_LENGTH)
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
    "user_pins": list_of(_PIN, MAX_LISTED_PINS).means("More PINs of ordinary participants, beside user_pin. "
                                                      + _LIST_RULES),
    "admin_pins": list_of(_PIN, MAX_LISTED_PINS).means("More PINs of moderators, beside admin_pin. " + _LIST_RULES),
    "listener_pins": list_of(_PIN, MAX_LISTED_PINS).means(
        "PINs of listen-only participants: they hear the conference and are never heard. " + _LIST_RULES),
    "listen_only": boolean().means("Every participant who is no moderator only listens (hears, is never heard)."),
    "users_join_muted": boolean().means("Participants join muted; they unmute themselves with *1."),
    "admins_join_muted": boolean().means("Moderators join muted; they unmute themselves with *1."),
    "start_muted_at": integer(0, MAX_PARTICIPANTS).means(
        "Participants (not moderators) join muted once this many are in the conference already; 0: never. "
        "They unmute themselves with *1."),
    "lobby": boolean().means(
        "Callers who are no moderators wait in a lobby (music, heard by nobody, their keys ignored) until a "
        "moderator lets them in one by one (*97) or an operator does (admit)."),
    "music_sound_id": or_null(integer(1, MAX_SOUND_ID)).means(
        "A sound of the library (/sounds) played, looped, as the music on hold (to whoever waits or is alone, "
        "when music_on_hold is on); null: the standard track. An id the library lacks answers 400 invalid_field."),
    "record_tracks": boolean().means(
        "When the room records (record, or an operator's start), also one file per participant beside the mix: "
        "what that participant said while the others heard it (silence while muted), padded at its start so that "
        "every track lines up with the mix. Listed under the recording's tracks."),
}
FIELDS = tuple(RULES)  # what the API accepts, in RoomSettings order
PIN_LISTS = ("user_pins", "admin_pins", "listener_pins")
PIN_FIELDS = ("user_pin", "admin_pin", *PIN_LISTS)
BOOLEANS = tuple(name for name, rule in RULES.items() if rule.schema["type"] == "boolean")


def _typed_pins(fields: Mapping[str, Any], name: str) -> list[str]:
    value = fields.get(name)
    if value is None:
        return []
    return list(value) if name in PIN_LISTS else [value]


def _check_pins_differ(fields: Mapping[str, Any], current: RoomSettings) -> None:
    """Every PIN of the room differs from every other: the PIN a caller types says its role. The PINs
    a payload leaves alone are known only by their hashes."""
    seen: set[str] = set()
    for name in PIN_FIELDS:
        for pin in _typed_pins(fields, name):
            if pin in seen:
                raise FieldError(name, "invalid_field", "every PIN of a room must differ from the others")
            seen.add(pin)
    kept = [stored for name in PIN_FIELDS if name not in fields for stored in current.pins(name)]
    for name in PIN_FIELDS:
        if any(pin_matches(stored, pin) for pin in _typed_pins(fields, name) for stored in kept):
            raise FieldError(name, "invalid_field", "every PIN of a room must differ from the others")


def _hash_pins(fields: dict[str, Any]) -> dict[str, Any]:
    for name in ("user_pin", "admin_pin"):
        if fields.get(name) is not None:
            fields[name] = hash_pin(fields[name])
    for name in PIN_LISTS:
        if name in fields:
            fields[name] = tuple(hash_pin(pin) for pin in fields[name])
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
