"""conference.schedule: local times (DST included), states, end rules, validation."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from conference.address import scheduled
from conference.fields import FieldError
from conference.schedule import (
    End,
    Extend,
    LiveMeeting,
    Meeting,
    RunOn,
    State,
    at_end,
    counts,
    dial_in_role,
    extended,
    repeat_payload,
    validate,
)

NOW = datetime(2026, 3, 20, 9, 0, tzinfo=UTC)
BASE = {"topic": "Projects", "owner": {"number": "100", "email": "anna@example.com", "name": "Anna"},
        "zone": "Europe/Berlin", "date": "2026-03-25", "start": "12:00", "end": "13:00", "guest_password": "2468",
        "participants": [{"number": "101"}, {"number": "+74951234567", "email": "boris@example.org", "name": "Boris"},
                         {"email": "only-mail@example.net"}]}


def meeting(**changes: Any) -> Meeting:
    return validate({**BASE, **changes}, "123456", NOW)


def test_wall_times_become_utc_in_the_owners_zone_across_dst() -> None:
    winter = meeting()  # CET, UTC+1
    assert winter.start == datetime(2026, 3, 25, 11, 0, tzinfo=UTC)
    assert winter.end == datetime(2026, 3, 25, 12, 0, tzinfo=UTC)
    summer = meeting(date="2026-03-30")  # CEST since the 29th, UTC+2
    assert summer.start == datetime(2026, 3, 30, 10, 0, tzinfo=UTC)
    assert summer.local(summer.start).strftime("%H:%M %Z") == "12:00 CEST"


def test_a_skipped_wall_time_is_refused_and_a_doubled_one_is_the_first() -> None:
    with pytest.raises(FieldError) as caught:
        meeting(date="2026-03-29", start="02:30", end="03:30")  # 02:00-03:00 does not exist that night
    assert caught.value.field == "start"
    autumn = meeting(date="2026-10-25", start="02:30", end="03:30")  # 02:00-03:00 happens twice
    assert autumn.start == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # the first 02:30 (CEST)


def test_states_follow_the_clock_and_the_end() -> None:
    m = meeting()
    assert m.state(NOW) == State.SCHEDULED
    assert m.state(m.start) == State.CURRENT
    assert m.state(m.end + timedelta(hours=5)) == State.CURRENT  # over only once it has ended
    assert replace(m, ended_at=m.end).state(m.end) == State.PAST
    assert replace(m, cancelled=True).state(NOW) == State.CANCELLED
    assert counts([m, replace(m, ended_at=m.end), replace(m, cancelled=True)], NOW) == {
        "scheduled": 1, "current": 0, "past": 1, "cancelled": 1}


def test_at_the_end_time() -> None:
    m = meeting(auto_extend=15)
    assert at_end(m, present=0) == End()
    assert at_end(m, present=2) == Extend(m.end + timedelta(minutes=15), 15)
    assert at_end(meeting(), present=1) == RunOn()


def test_immediate_starts_now_for_an_hour() -> None:
    m = validate({k: v for k, v in BASE.items() if k not in ("date", "start", "end")} | {"immediate": True},
                 "1", NOW)
    assert (m.start, m.end, m.state(NOW)) == (NOW, NOW + timedelta(hours=1), State.CURRENT)


def test_passwords_decide_the_role_and_must_differ() -> None:
    m = meeting(chair_password="1234", guest_password="9999")
    roles = [dial_in_role(m.chair_password, m.guest_password, typed) for typed in ("1234", "9999", "5")]
    assert roles == ["chair", "guest", None]
    assert dial_in_role("1234", None, "") == "guest"  # no guest password (open dial-in): guests just enter
    with pytest.raises(FieldError):
        meeting(chair_password="1111", guest_password="1111")
    kept = validate({"topic": "New"}, "123456", NOW, current=m)
    assert (kept.chair_password, kept.topic, kept.start) == (m.chair_password, "New", m.start)
    opened = validate({"guest_password": None, "open_dial_in": True}, "123456", NOW, current=m)
    assert opened.guest_password is None and opened.open_dial_in and opened.chair_password == m.chair_password


def refusal(payload: dict[str, Any], current: Meeting | None = None) -> tuple[str, str]:
    with pytest.raises(FieldError) as caught:
        validate(payload, "123456", NOW, current)
    return caught.value.field, caught.value.error_id


def test_dial_in_needs_a_guest_password_unless_the_owner_opts_out() -> None:
    without = {k: v for k, v in BASE.items() if k != "guest_password"}
    assert refusal(without) == ("guest_password", "missing_field")
    assert refusal({**without, "open_dial_in": False}) == ("guest_password", "missing_field")
    assert refusal({**without, "chair_password": "1234"}) == ("guest_password", "missing_field")  # guests: none
    opened = validate({**without, "open_dial_in": True}, "123456", NOW)
    assert opened.open_dial_in and opened.guest_password is None
    assert refusal({**BASE, "open_dial_in": True}) == ("open_dial_in", "invalid_field")  # says both: which?
    assert refusal({"guest_password": None}, current=meeting()) == ("guest_password", "missing_field")
    assert refusal({"open_dial_in": False}, current=opened) == ("guest_password", "missing_field")
    assert validate({"topic": "Again"}, "123456", NOW, current=opened).open_dial_in  # an edit keeps the choice
    assert not validate(without, "0", NOW, template=True).open_dial_in  # a template holds no password


@pytest.mark.parametrize("name", ["guest_password", "chair_password"])
@pytest.mark.parametrize("short", ["1", "123", ""])
def test_dial_in_passwords_have_at_least_four_digits(name: str, short: str) -> None:
    assert refusal({**BASE, name: short}) == (name, "invalid_field")


@pytest.mark.parametrize("change, field", [
    ({"zone": "Mars/Olympus"}, "zone"),
    ({"zone": "../../etc/passwd"}, "zone"),
    ({"date": "2026-02-30"}, "date"),
    ({"start": "25:00"}, "start"),
    ({"end": "11:00"}, "end"),
    ({"date": "2026-03-19"}, "date"),  # over already
    ({"owner": {"email": "a@example.com"}}, "owner"),
    ({"participants": [{"name": "nobody"}]}, "participants"),
    ({"participants": [{"email": "not-an-address"}]}, "participants"),
    ({"participants": [{"email": "a@example.com", "zone": "Nowhere/Land"}]}, "participants"),
    ({"auto_extend": 20}, "auto_extend"),
    ({"auto_extend": True}, "auto_extend"),
    ({"colour": "red"}, "colour"),
])
def test_bad_fields_are_named(change: dict[str, Any], field: str) -> None:
    with pytest.raises(FieldError) as caught:
        meeting(**change)
    assert caught.value.field == field


def test_repeat_copies_a_meeting_to_today() -> None:
    payload = repeat_payload(meeting(), date(2026, 4, 1))
    again = validate(payload, "654321", NOW)
    assert again.start == datetime(2026, 4, 1, 10, 0, tzinfo=UTC)  # 12:00 CEST
    assert again.participants == meeting().participants and again.topic == "Projects"
    assert (again.guest_password, again.open_dial_in) == ("2468", False)  # the same people dial in alike
    opened = validate({"guest_password": None, "open_dial_in": True}, "123456", NOW, current=meeting())
    assert validate(repeat_payload(opened, date(2026, 4, 1)), "1", NOW).open_dial_in


def test_a_meeting_that_ran_past_midnight_is_repeated_to_the_days_last_minute() -> None:
    late = extended(meeting(start="23:00", end="23:50"), 30)  # on until 00:20 the next day
    again = validate(repeat_payload(late, date(2026, 4, 1)), "654321", NOW)
    assert (again.local(again.start).strftime("%H:%M"), again.local(again.end).strftime("%H:%M")) == ("23:00", "23:59")


def test_the_live_meeting_is_what_the_bridge_reads_and_survives_json() -> None:
    m = meeting(greeting_sound_id=3, max_participants=5, chair_password="1111", auto_invite=False, auto_extend=15)
    projected = m.projected()
    assert projected == LiveMeeting("123456", m.start.timestamp(), m.end.timestamp(), owner="100",
                                    numbers=("100", "101", "+74951234567"), greeting_sound_id=3, max_participants=5,
                                    chair_password="1111", guest_password="2468", auto_invite=False, auto_extend=15)
    assert projected.address == m.address == scheduled("123456")
    wire = json.loads(json.dumps(projected.as_dict()))
    assert LiveMeeting.from_dict(wire) == projected
    # The keys the bridge reads from the dict until it reads LiveMeeting (bridge/meetings.py, bridge/node.py).
    assert set(wire) == {"code", "owner", "numbers", "greeting_sound_id", "max_participants", "chair_password",
                         "guest_password", "start", "end", "locked", "auto_invite", "auto_extend"}


def test_a_live_meeting_tolerates_other_versions_of_the_projection() -> None:
    older = {"code": 123456, "start": 10, "end": 20, "max_participants": None}  # fields added later are missing
    assert LiveMeeting.from_dict(older) == LiveMeeting("123456", 10.0, 20.0)
    newer = {"code": "1", "start": 1.5, "end": 2.5, "numbers": ["7"], "added_later": True}
    assert LiveMeeting.from_dict(newer) == LiveMeeting("1", 1.5, 2.5, numbers=("7",))
    with pytest.raises(KeyError):
        LiveMeeting.from_dict({"start": 1, "end": 2})  # no code: nothing to name it by
