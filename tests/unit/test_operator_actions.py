"""conference.operator: what an operator's invitation and sound carry."""

from __future__ import annotations

from typing import Any

import pytest

from conference.fields import FieldError
from conference.operator import validate_invite, validate_play


@pytest.mark.parametrize("number", ["201", "+74950000000", "9" * 32])
def test_an_invitation_takes_digits_and_a_leading_plus(number: str) -> None:
    assert validate_invite({"number": number}) == number


@pytest.mark.parametrize("payload,error", [
    ({}, "missing_field"), ({"number": ""}, "invalid_field"), ({"number": "+"}, "invalid_field"),
    ({"number": "9" * 33}, "invalid_field"), ({"number": "201@evil.example"}, "invalid_field"),
    ({"number": "\uff12\uff10\uff11"}, "invalid_field"),  # fullwidth digits
    ({"number": 201}, "invalid_field"), ({"number": "1+2"}, "invalid_field"),
    ({"number": "201", "by": "x"}, "unknown_field"), ([], "bad_request"),
])
def test_an_invitation_refuses_anything_else_naming_the_field(payload: Any, error: str) -> None:
    with pytest.raises(FieldError) as refused:
        validate_invite(payload)
    assert refused.value.error_id == error


def test_a_sound_is_named_by_its_id() -> None:
    assert validate_play({"sound_id": 3}) == 3
    for payload in ({}, {"sound_id": "3"}, {"sound_id": 0}, {"sound_id": True}, {"sound_id": 2**63}):
        with pytest.raises(FieldError):
            validate_play(payload)
