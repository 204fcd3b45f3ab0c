"""conference.extensions: extension and trunk payloads."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from conference.extensions import (
    ExtensionSettings,
    Presentation,
    TrunkSettings,
    ha1,
    patch_extension,
    patch_trunk,
    public_extension,
    validate_extension,
    validate_trunk,
)
from conference.fields import FieldError
from conference.rooms import pin_matches


def test_ha1_is_the_rfc_2617_digest() -> None:
    # md5("alice:example.com:secret"), as `printf alice:example.com:secret | md5sum` prints it
    assert ha1("alice", "example.com", "secret") == "b1726872c344b6dc8365b774f8fd6412"
    assert ha1("100", "kamconf", "password1") != ha1("100", "other", "password1")


def test_an_extension_keeps_only_hashes() -> None:
    extension = validate_extension({"number": "100", "password": "s3cret-pw", "conference_pin": "4242"}, "kamconf")
    assert extension.ha1 == ha1("100", "kamconf", "s3cret-pw")
    assert extension.conference_pin is not None and pin_matches(extension.conference_pin, "4242")
    shown = public_extension(extension)
    assert "ha1" not in shown and "password" not in shown and "conference_pin" not in shown
    assert shown["has_conference_pin"] is True
    assert ExtensionSettings.from_dict(extension.as_dict()) == extension


@pytest.mark.parametrize("payload, field", [
    ({"password": "longenough"}, "number"),
    ({"number": "100"}, "password"),
    ({"number": "10a", "password": "longenough"}, "number"),
    ({"number": "100", "password": "short"}, "password"),
    ({"number": "100", "password": "tab\tinside"}, "password"),
    ({"number": "100", "password": "longenough", "forward_to": "100"}, "forward_to"),
    ({"number": "100", "password": "longenough", "forward_to": "12-34"}, "forward_to"),
    ({"number": "100", "password": "longenough", "consult_merge": 1}, "consult_merge"),
    ({"number": "100", "password": "longenough", "colour": "red"}, "colour"),
])
def test_bad_extensions_name_the_field(payload: dict[str, Any], field: str) -> None:
    with pytest.raises(FieldError) as caught:
        validate_extension(payload, "kamconf")
    assert caught.value.field == field


def test_patching_an_extension_rehashes_a_new_password_and_keeps_its_number() -> None:
    current = validate_extension({"number": "100", "password": "first-pass"}, "kamconf")
    changed = patch_extension(current, {"password": "second-pass", "consult_merge": True}, "kamconf")
    assert changed.ha1 == ha1("100", "kamconf", "second-pass") and changed.consult_merge
    assert patch_extension(current, {}, "kamconf") == current
    with pytest.raises(FieldError) as caught:
        patch_extension(current, {"number": "101"}, "kamconf")
    assert caught.value.error_id == "immutable_field"


def test_a_trunk_round_trips_through_its_projection() -> None:
    trunk = validate_trunk({"name": "carrier-1", "gateway": "gw.example.net:5060",
                            "sources": ["192.0.2.1", "192.0.2.2:5080"], "prefixes": ["8", "+7"],
                            "inbound": {"+74950001122": "100"}, "trusted": True, "caller_id": "+74950000000",
                            "present_as": "pai_and_from"})
    assert TrunkSettings.from_dict(trunk.as_dict()) == trunk
    assert trunk.present_as == Presentation.PAI_AND_FROM and trunk.trusted
    assert patch_trunk(trunk, {"prefixes": ["9"]}).prefixes == ("9",)
    assert patch_trunk(trunk, {"caller_id": None}).caller_id is None


def test_a_trunk_without_caller_id_settings_is_untrusted_and_presents_in_pai() -> None:
    trunk = validate_trunk({"name": "t", "gateway": "192.0.2.1", "sources": ["192.0.2.1"]})
    assert (trunk.trusted, trunk.caller_id, trunk.present_as) == (False, None, Presentation.PAI)
    assert TrunkSettings.from_dict({"name": "t", "gateway": "192.0.2.1"}) == dataclasses.replace(trunk, sources=())


@pytest.mark.parametrize("payload, field", [
    ({"gateway": "192.0.2.1", "sources": ["192.0.2.1"]}, "name"),
    ({"name": "Bad Name", "gateway": "192.0.2.1", "sources": ["192.0.2.1"]}, "name"),
    ({"name": "t", "gateway": "192.0.2.1:99999", "sources": ["192.0.2.1"]}, "gateway"),
    ({"name": "t", "gateway": "bad host", "sources": ["192.0.2.1"]}, "gateway"),
    ({"name": "t", "gateway": "192.0.2.1", "sources": []}, "sources"),
    ({"name": "t", "gateway": "192.0.2.1", "sources": ["gw.example.net"]}, "sources"),
    ({"name": "t", "gateway": "192.0.2.1", "sources": ["192.0.2.1", "192.0.2.1"]}, "sources"),
    ({"name": "t", "gateway": "192.0.2.1", "sources": ["192.0.2.1"], "prefixes": ["8x"]}, "prefixes"),
    ({"name": "t", "gateway": "192.0.2.1", "sources": ["192.0.2.1"], "inbound": {"1": "room"}}, "inbound"),
    ({"name": "t", "gateway": "192.0.2.1", "sources": ["192.0.2.1"], "inbound": []}, "inbound"),
    ({"name": "t", "gateway": "192.0.2.1", "sources": ["192.0.2.1"], "trusted": "yes"}, "trusted"),
    ({"name": "t", "gateway": "192.0.2.1", "sources": ["192.0.2.1"], "caller_id": "main"}, "caller_id"),
    ({"name": "t", "gateway": "192.0.2.1", "sources": ["192.0.2.1"], "caller_id": "1" * 33}, "caller_id"),
    ({"name": "t", "gateway": "192.0.2.1", "sources": ["192.0.2.1"], "caller_id": "7495\n"}, "caller_id"),
    ({"name": "t", "gateway": "192.0.2.1", "sources": ["192.0.2.1"], "present_as": "from"}, "present_as"),
])
def test_bad_trunks_name_the_field(payload: dict[str, Any], field: str) -> None:
    with pytest.raises(FieldError) as caught:
        validate_trunk(payload)
    assert caught.value.field == field
