from __future__ import annotations

from typing import Any

import pytest

from conference.rooms import FieldError, RoomSettings, hash_pin, pin_matches, validate_create, validate_patch


def error_of(payload: Any, current: RoomSettings | None = None) -> tuple[str, str]:
    with pytest.raises(FieldError) as caught:
        validate_patch(current, payload) if current else validate_create(payload)
    return caught.value.field, caught.value.error_id


def test_minimal_room_takes_the_defaults() -> None:
    assert validate_create({"number": "100"}) == RoomSettings(number="100")


def test_pins_are_hashed_and_verifiable() -> None:
    room = validate_create({"number": "1", "user_pin": "0042", "admin_pin": "7"})
    assert room.user_pin and room.user_pin.startswith("pbkdf2_sha256$") and "0042" not in room.user_pin
    assert pin_matches(room.user_pin, "0042")
    assert not pin_matches(room.user_pin, "42")
    assert pin_matches(room.admin_pin, "7")


def test_same_pin_hashes_differently_each_time() -> None:
    assert hash_pin("1234") != hash_pin("1234")


@pytest.mark.parametrize("stored", [None, "", "plain", "md5$1$s$d", "pbkdf2_sha256$x$s$d"])
def test_malformed_stored_pins_never_match(stored: str | None) -> None:
    assert not pin_matches(stored, "1234")


@pytest.mark.parametrize(("payload", "expected"), [
    ([], ("", "bad_request")),
    ({}, ("number", "missing_field")),
    ({"number": ""}, ("number", "invalid_field")),
    ({"number": "1" * 33}, ("number", "invalid_field")),
    ({"number": "١٢٣"}, ("number", "invalid_field")),  # non-ASCII digits
    ({"number": "1", "name": "x" * 101}, ("name", "invalid_field")),
    ({"number": "1", "name": None}, ("name", "invalid_field")),
    ({"number": "1", "admin_pin": "1" * 17}, ("admin_pin", "invalid_field")),
    ({"number": "1", "admin_pin": ""}, ("admin_pin", "invalid_field")),
    ({"number": "1", "wait_for_admin": 1}, ("wait_for_admin", "invalid_field")),
    ({"number": "1", "max_participants": 10001}, ("max_participants", "invalid_field")),
    ({"number": "1", "max_participants": 2.0}, ("max_participants", "invalid_field")),
    ({"number": "1", "greeting_sound_id": True}, ("greeting_sound_id", "invalid_field")),
    ({"number": "1", "id": 3}, ("id", "unknown_field")),
])
def test_each_rule(payload: Any, expected: tuple[str, str]) -> None:
    assert error_of(payload) == expected


def test_patch_changes_only_what_is_sent() -> None:
    current = validate_create({"number": "1", "name": "a", "user_pin": "1"})
    patched = validate_patch(current, {"name": "b", "max_participants": 5})
    assert (patched.name, patched.max_participants, patched.user_pin) == ("b", 5, current.user_pin)


def test_patch_pin_rules() -> None:
    current = validate_create({"number": "1", "user_pin": "11", "admin_pin": "22"})
    assert error_of({"admin_pin": "11"}, current) == ("admin_pin", "invalid_field")
    assert error_of({"number": "2"}, current) == ("number", "immutable_field")
    swapped = validate_patch(current, {"user_pin": "22", "admin_pin": "11"})
    assert pin_matches(swapped.user_pin, "22") and pin_matches(swapped.admin_pin, "11")
    assert validate_patch(current, {"number": "1"}) == current
