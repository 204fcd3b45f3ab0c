"""conference.rooms: every field's rule, every error, PIN hashing and checking."""

from __future__ import annotations

import dataclasses
import hashlib
from typing import Any

import pytest

from conference.rooms import (
    FIELDS,
    PIN_ITERATIONS,
    FieldError,
    RoomSettings,
    hash_pin,
    pin_matches,
    validate_create,
    validate_patch,
)


def refused(payload: Any, current: RoomSettings | None = None) -> tuple[str, str]:
    with pytest.raises(FieldError) as caught:
        if current is None:
            validate_create(payload)
        else:
            validate_patch(current, payload)
    assert caught.value.message
    return caught.value.field, caught.value.error_id


def test_a_room_needs_only_its_number_and_takes_the_documented_defaults() -> None:
    room = validate_create({"number": "100"})
    assert room.as_dict() == {
        "number": "100", "name": "", "language": "en", "user_pin": None, "admin_pin": None,
        "record": False, "announce_count": True, "music_on_hold": True, "end_on_admin_exit": False,
        "mute_notifications": False, "wait_for_admin": False, "max_participants": 0, "greeting_sound_id": None,
        "user_pins": [], "admin_pins": [], "listener_pins": [], "listen_only": False, "users_join_muted": False,
        "admins_join_muted": False, "start_muted_at": 0, "lobby": False, "music_sound_id": None,
        "record_tracks": False,
    }


def test_the_api_fields_are_the_settings() -> None:
    assert tuple(f.name for f in dataclasses.fields(RoomSettings)) == FIELDS


def test_settings_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        validate_create({"number": "1"}).name = "x"  # type: ignore[misc]


EVERYTHING = {
    "number": "0042", "name": "Board: Совет", "language": "ru", "user_pin": "1111", "admin_pin": "9" * 16,
    "record": True, "announce_count": False, "music_on_hold": False, "end_on_admin_exit": True,
    "mute_notifications": True, "wait_for_admin": True, "max_participants": 10000, "greeting_sound_id": 2**31 - 1,
    "user_pins": ["2222", "3333", "4444", "5555", "6666"], "admin_pins": ["8" * 16], "listener_pins": ["7777"],
    "listen_only": True, "users_join_muted": True, "admins_join_muted": True, "start_muted_at": 10000, "lobby": True,
    "music_sound_id": 2**31 - 1, "record_tracks": True,
}


def test_every_field_at_its_limits_is_kept() -> None:
    room = validate_create(EVERYTHING)
    kept = {k: v for k, v in room.as_dict().items() if not k.endswith(("_pin", "_pins"))}
    assert kept == {k: v for k, v in EVERYTHING.items() if not k.endswith(("_pin", "_pins"))}
    assert pin_matches(room.user_pin, "1111") and pin_matches(room.admin_pin, "9" * 16)
    for name in ("user_pins", "admin_pins", "listener_pins"):
        typed: list[str] = EVERYTHING[name]  # type: ignore[assignment]
        assert all(pin_matches(stored, pin) for stored, pin in zip(room.pins(name), typed, strict=True))
    assert validate_create({"number": "1" * 32, "name": "x" * 100}).name == "x" * 100


@pytest.mark.parametrize(("field", "value"), [
    ("number", ""), ("number", "1" * 33), ("number", "12a"), ("number", " 12"), ("number", "-1"),
    ("number", "١٢٣"), ("number", "²"), ("number", 1000), ("number", None),
    ("name", "x" * 101), ("name", None), ("name", 5), ("name", "a\x00b"), ("name", "line\nbreak"),
    ("name", "\ud800"),
    ("language", "de"), ("language", "EN"), ("language", None), ("language", ["en"]),
    ("user_pin", ""), ("user_pin", "1" * 17), ("user_pin", "12ab"), ("user_pin", 1234), ("user_pin", "1 2"),
    ("user_pin", "١٢٣٤"), ("user_pin", "123"), ("admin_pin", "1"),
    ("admin_pin", ""), ("admin_pin", "1" * 17), ("admin_pin", "*9"), ("admin_pin", 7), ("admin_pin", False),
    ("user_pins", ["123"]), ("user_pins", ["1111", "1111"]), ("user_pins", "1111"), ("user_pins", None),
    ("user_pins", ["1"] * 6), ("admin_pins", [1234]), ("listener_pins", ["12ab"]),
    ("listener_pins", [str(n) * 4 for n in range(6)]), ("listen_only", "yes"), ("users_join_muted", 1),
    ("admins_join_muted", None), ("start_muted_at", -1), ("start_muted_at", 10001), ("start_muted_at", True),
    ("lobby", "on"),
    ("record", "yes"), ("record", 1), ("record", None), ("announce_count", 0), ("music_on_hold", "true"),
    ("end_on_admin_exit", None), ("mute_notifications", []), ("wait_for_admin", 1),
    ("max_participants", True), ("max_participants", -1), ("max_participants", 10001), ("max_participants", 2.0),
    ("max_participants", "5"), ("max_participants", None),
    ("greeting_sound_id", 0), ("greeting_sound_id", -3), ("greeting_sound_id", True), ("greeting_sound_id", "5"),
    ("greeting_sound_id", 1.5), ("greeting_sound_id", 2**31),
    ("music_sound_id", 0), ("music_sound_id", -1), ("music_sound_id", False), ("music_sound_id", "7"),
    ("music_sound_id", 2.5), ("music_sound_id", 2**31), ("music_sound_id", [7]),
])
def test_a_wrong_value_is_refused_naming_its_field(field: str, value: Any) -> None:
    payload = {"number": "1", field: value}
    assert refused(payload) == (field, "invalid_field")
    current = validate_create({"number": "1"})
    if field != "number":
        assert refused({field: value}, current) == (field, "invalid_field")


def test_unknown_fields_are_refused_by_name() -> None:
    assert refused({"number": "1", "colour": "red"}) == ("colour", "unknown_field")
    assert refused({"number": "1", "has_user_pin": True}) == ("has_user_pin", "unknown_field")
    assert refused({"id": 3}, validate_create({"number": "1"})) == ("id", "unknown_field")


def test_the_number_is_required_on_create_only() -> None:
    assert refused({}) == ("number", "missing_field")
    assert refused({"name": "x"}) == ("number", "missing_field")
    current = validate_create({"number": "1"})
    assert validate_patch(current, {"name": "x"}).number == "1"


@pytest.mark.parametrize("payload", [[], [{"number": "1"}], "1", 1, None, True])
def test_a_body_that_is_not_an_object_is_a_bad_request(payload: Any) -> None:
    assert refused(payload) == ("", "bad_request")
    assert refused(payload, validate_create({"number": "1"})) == ("", "bad_request")


def test_pins_must_differ() -> None:
    assert refused({"number": "1", "user_pin": "1111", "admin_pin": "1111"}) == ("admin_pin", "invalid_field")
    assert validate_create({"number": "1", "user_pin": "1111", "admin_pin": "01111"}).admin_pin


def test_a_patched_pin_must_differ_from_the_stored_one() -> None:
    current = validate_create({"number": "1", "user_pin": "1111", "admin_pin": "2222"})
    assert refused({"admin_pin": "1111"}, current) == ("admin_pin", "invalid_field")
    assert refused({"user_pin": "2222"}, current) == ("user_pin", "invalid_field")
    assert refused({"user_pin": "3333", "admin_pin": "3333"}, current) == ("admin_pin", "invalid_field")
    swapped = validate_patch(current, {"user_pin": "2222", "admin_pin": "1111"})
    assert pin_matches(swapped.user_pin, "2222") and pin_matches(swapped.admin_pin, "1111")
    # Removing one PIN frees its digits for the other.
    moved = validate_patch(current, {"user_pin": None, "admin_pin": "1111"})
    assert moved.user_pin is None and pin_matches(moved.admin_pin, "1111")


def test_every_pin_of_a_room_differs_across_roles_and_lists() -> None:
    assert refused({"number": "1", "user_pin": "1111", "listener_pins": ["2222", "1111"]}) == (
        "listener_pins", "invalid_field")
    assert refused({"number": "1", "user_pins": ["3333"], "admin_pins": ["3333"]}) == ("admin_pins", "invalid_field")
    current = validate_create({"number": "1", "user_pin": "1111", "admin_pins": ["2222", "3333"]})
    assert refused({"listener_pins": ["3333"]}, current) == ("listener_pins", "invalid_field")
    assert refused({"user_pin": "2222"}, current) == ("user_pin", "invalid_field")
    # Replacing a list frees its old PINs.
    moved = validate_patch(current, {"admin_pins": [], "listener_pins": ["3333"]})
    assert moved.admin_pins == () and pin_matches(moved.listener_pins[0], "3333") and moved.has_pins


def test_the_number_cannot_change() -> None:
    current = validate_create({"number": "1", "name": "a"})
    assert refused({"number": "2"}, current) == ("number", "immutable_field")
    assert validate_patch(current, {"number": "1"}) == current


def test_a_patch_changes_only_what_it_sends() -> None:
    current = validate_create({"number": "1", "name": "a", "user_pin": "1111", "record": True})
    patched = validate_patch(current, {"name": "b", "max_participants": 5, "greeting_sound_id": 3})
    assert patched == dataclasses.replace(current, name="b", max_participants=5, greeting_sound_id=3)
    assert validate_patch(current, {}) == current
    cleared = validate_patch(patched, {"user_pin": None, "greeting_sound_id": None})
    assert cleared.user_pin is None and cleared.greeting_sound_id is None


def test_the_music_is_a_sound_of_the_library_or_the_standard_track() -> None:
    current = validate_create({"number": "1"})
    assert current.music_sound_id is None  # the standard track
    picked = validate_patch(current, {"music_sound_id": 9})
    assert picked == dataclasses.replace(current, music_sound_id=9)
    assert validate_patch(picked, {"name": "x"}).music_sound_id == 9  # kept by a patch that leaves it alone
    assert validate_patch(picked, {"music_sound_id": None}).music_sound_id is None
    assert RoomSettings.from_dict(picked.as_dict()) == picked  # through the projection


def test_a_refused_patch_leaves_the_current_settings_alone() -> None:
    current = validate_create({"number": "1"})
    payload = {"name": "b", "record": "yes"}
    refused(payload, current)
    assert current == validate_create({"number": "1"}) and payload == {"name": "b", "record": "yes"}


def test_pins_are_stored_hashed_salted_and_verifiable() -> None:
    room = validate_create({"number": "1", "user_pin": "0042", "admin_pin": "7777"})
    assert room.user_pin is not None and "0042" not in room.user_pin
    scheme, iterations, salt, digest = room.user_pin.split("$")
    assert (scheme, int(iterations), len(digest)) == ("pbkdf2_sha256", PIN_ITERATIONS, 64) and salt
    assert pin_matches(room.user_pin, "0042")
    assert not pin_matches(room.user_pin, "42") and not pin_matches(room.user_pin, "00420")
    assert pin_matches(room.admin_pin, "7777") and not pin_matches(room.admin_pin, "0042")
    assert hash_pin("1234") != hash_pin("1234")
    assert hash_pin("1234", salt="s") == hash_pin("1234", salt="s")


@pytest.mark.parametrize("stored", [
    None, "", "1234", "md5$1$s$d", "pbkdf2_sha256$x$s$d", "pbkdf2_sha256$0$s$d", "pbkdf2_sha256$-5$s$d",
    "pbkdf2_sha256$99999999999$s$d", "pbkdf2_sha256$²$s$d", "pbkdf2_sha256$1$s", "pbkdf2_sha256$1$s$d$e",
    "pbkdf2_sha256$1$s$ünïcode", "pbkdf2_sha256$1$\ud800$d",
])
def test_a_malformed_stored_pin_never_matches_and_never_raises(stored: str | None) -> None:
    assert pin_matches(stored, "1234") is False


def test_pins_from_other_iteration_counts_still_verify() -> None:
    # The stored value carries its own count, so raising PIN_ITERATIONS later keeps old PINs valid.
    stored = "pbkdf2_sha256$1000$abc$" + hashlib.pbkdf2_hmac("sha256", b"55", b"abc", 1000).hex()
    assert pin_matches(stored, "55") and not pin_matches(stored, "56")


def test_settings_read_back_from_the_projection() -> None:
    room = validate_create(EVERYTHING)
    assert RoomSettings.from_dict(room.as_dict()) == room
    # A newer writer's extra keys are ignored; an older writer's missing keys take defaults.
    assert RoomSettings.from_dict({"number": "5", "record": True, "video": True}) == RoomSettings("5", record=True)
