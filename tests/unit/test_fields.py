"""conference.fields: each Rule's check and its JSON Schema say the same thing, so the generated
OpenAPI document neither refuses what the API takes nor promises what it refuses."""

from __future__ import annotations

from typing import Any

import jsonschema_rs
import pytest

from conference import extensions, rooms, schedule
from conference.fields import (
    FieldError,
    Rule,
    boolean,
    clean,
    decimal,
    digits,
    integer,
    list_of,
    matching,
    object_schema,
    one_of,
    or_null,
    text,
)
from store import accounts
from web import conferences, signin

SAMPLES: list[Any] = [
    None, True, False, 0, 1, 5, -1, 15, 10_000, 10_001, 2**31, 1.5, "", "0", "1", "5", "1234", "12345", "+12",
    "12\n", "\n", "a", "ab c", "a\x00b", "a\x85b", "ru", "en", "de", "x" * 100, "x" * 101, "9" * 32, "9" * 33,
    "bob", "Bob", "bob\n", "1bob", [], ["1"], ["1", "1"], ["1", "2"], [1], {}, {"a": "1"},
]
EXACT = {
    "digits": digits(16, 4), "text": text(100), "text1": text(10, 1), "integer": integer(0, 10_000),
    "boolean": boolean(), "one_of": one_of("en", "ru"), "one_of_int": one_of(0, 15, 30),
    "or_null": or_null(digits(16, 4)), "matching": matching(r"\+?[0-9]{1,32}", "a number"),
    "list_of": list_of(digits(3), 2), "or_null_enum": or_null(one_of("en", "ru")),
}


@pytest.mark.parametrize("name", sorted(EXACT))
def test_a_combinator_s_schema_accepts_exactly_what_its_check_accepts(name: str) -> None:
    rule = EXACT[name]
    validator = jsonschema_rs.validator_for(dict(rule.schema))
    for value in SAMPLES:
        assert rule.accepts(value) == validator.is_valid(value), (name, value)


def every_rule() -> list[tuple[str, Rule]]:
    tables = {"rooms": rooms.RULES, "extensions": extensions.EXTENSION_RULES, "trunks": extensions.TRUNK_RULES,
              "conferences": schedule.RULES, "accounts": accounts.RULES, "sign-in": signin.SIGN_IN,
              "tokens": signin.NEW_TOKEN, "lock": conferences.LOCK, "extend": conferences.EXTEND,
              "templates": conferences.TEMPLATE_NAME}
    return [(f"{table}.{name}", rule) for table, rules in tables.items() for name, rule in rules.items()]


@pytest.mark.parametrize(("name", "rule"), every_rule(), ids=[name for name, _ in every_rule()])
def test_the_document_never_refuses_what_the_api_accepts(name: str, rule: Rule) -> None:
    validator = jsonschema_rs.validator_for(dict(rule.schema))
    examples = [*SAMPLES, {"number": "2001"}, [{"email": "a@example.com"}], "Europe/Moscow", "2026-12-01", "10:00",
                "192.0.2.1:5060", "gw.example.com", "long-enough-secret", {"+7495": "100"}]
    for value in examples:
        if rule.accepts(value):
            assert validator.is_valid(value), (name, value)


def test_a_trailing_newline_is_refused_where_dollar_used_to_let_it_through() -> None:
    assert not extensions.TRUNK_RULES["gateway"].accepts("gw.example.com\n")
    assert extensions.TRUNK_RULES["gateway"].accepts("gw.example.com")
    assert not extensions.EXTENSION_RULES["forward_to"].accepts("2002\n")
    assert not accounts.RULES["name"].accepts("bob\n") and accounts.RULES["name"].accepts("bob")
    assert not accounts.is_extension_name("2001\n") and accounts.is_extension_name("2001")
    person = schedule.RULES["participants"]
    assert person.accepts([{"email": "a@example.com"}]) and not person.accepts([{"email": "a@example.com\n"}])


def test_object_schema_is_what_clean_and_require_enforce() -> None:
    rules = {"number": digits(4), "name": text(10).means("what it is called")}
    schema = object_schema(rules, ["number"], "a thing", {"name": ""})
    assert schema == {
        "type": "object", "additionalProperties": False, "required": ["number"], "description": "a thing",
        "properties": {"number": dict(digits(4).schema),
                       "name": {**text(10).schema, "description": "what it is called", "default": ""}}}
    with pytest.raises(FieldError) as caught:
        clean({"number": "1", "colour": "red"}, rules)
    assert (caught.value.field, caught.value.error_id) == ("colour", "unknown_field")
    with pytest.raises(FieldError) as caught:
        clean({"number": 1}, rules)
    assert (caught.value.field, caught.value.error_id, caught.value.message) == (
        "number", "invalid_field", "number must be a string of 1-4 digits")


def test_a_rule_knows_the_longest_input_a_form_should_take() -> None:
    assert rooms.RULES["number"].longest == rooms.MAX_NUMBER_LENGTH
    assert rooms.RULES["user_pin"].longest == rooms.MAX_PIN_LENGTH
    assert rooms.RULES["max_participants"].longest == len(str(rooms.MAX_PARTICIPANTS))
    assert rooms.RULES["record"].longest is None


def test_a_query_integer_is_ascii_digits_in_range_and_bounded_before_int_reads_it() -> None:
    month = decimal(1, 12)
    assert month.accepts("12") and month.accepts("01")
    for wrong in ("13", "0", "-1", "+1", " 1", "1.0", "\u0663", "", 12, None, "1" * 19):
        assert not month.accepts(wrong), wrong
    assert month.schema == {"type": "integer", "minimum": 1, "maximum": 12}  # as the document shows it
