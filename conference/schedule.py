"""Scheduled conferences (seeds 001 and 004): their fields, local time, states and end rules.

Pure: the clock comes in as an argument. Times are kept in UTC together with the
owner's IANA zone; the owner gives a date and start/end wall times in that zone.
"""

from __future__ import annotations

import dataclasses
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from conference.address import RoomAddress, scheduled
from conference.fields import (
    FieldError,
    Rule,
    boolean,
    clean,
    digits,
    integer,
    matching,
    object_schema,
    one_of,
    or_null,
    require,
    text,
)
from conference.rooms import MAX_NAME_LENGTH, MAX_PIN_LENGTH, MAX_SOUND_ID, MIN_PIN_LENGTH

AUTO_EXTEND_STEPS = (0, 15, 30, 45, 60)  # minutes (seed 004)
IMMEDIATE_MINUTES = 60  # an immediate conference without an end lasts this long (and may run on)
MAX_PARTICIPANTS = 500
MAX_REMINDER_MINUTES = 7 * 24 * 60
MAIL_LANGUAGES = ("en", "ru")  # conference.invitations writes each


class State(StrEnum):
    SCHEDULED = "scheduled"
    CURRENT = "current"
    PAST = "past"
    CANCELLED = "cancelled"


class JoinedBy(StrEnum):
    """How a participant came into a scheduled conference (its attendance)."""

    CALLED = "called"  # the conference called them (at its start, or invited by *8)
    DIAL_IN = "dial-in"  # through the dial-in service, with the conference code


@dataclass(frozen=True)
class Person:
    number: str | None = None  # an extension or an external number to call
    email: str | None = None
    name: str = ""
    zone: str | None = None  # where mail to this person gives the times; None: the owner's
    language: str | None = None  # of mail to this person ("en", "ru"); None: the owner's, else English

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class LiveMeeting:
    """What a bridge node needs of a scheduled or current conference, projected by the worker
    into Redis (store.live.MEETINGS) for the dial-in service and the start."""

    code: str
    start: float  # Unix time: before it, dial-in callers hear "not started"
    end: float  # Unix time, as now planned
    owner: str | None = None  # the owner's number: who chairs
    numbers: tuple[str, ...] = ()  # called at the start (auto_invite), the owner first
    greeting_sound_id: int | None = None
    max_participants: int = 0  # 0 = unlimited
    chair_password: str | None = None
    guest_password: str | None = None
    locked: bool = False
    auto_invite: bool = True
    auto_extend: int = 0  # minutes; a moderator's *98 extends by it too

    @property
    def address(self) -> RoomAddress:
        return scheduled(self.code)

    def as_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "numbers": list(self.numbers)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LiveMeeting:
        """Read back from the projection. Keys this version does not know are ignored and missing
        ones (but the code and times) take their defaults, so a worker and a bridge of different
        versions can share one projection during an upgrade."""
        known = {f.name for f in dataclasses.fields(cls)}
        fields = {key: value for key, value in data.items() if key in known}
        fields.update(code=str(data["code"]), start=float(data["start"]), end=float(data["end"]),
                      numbers=tuple(str(number) for number in fields.get("numbers") or ()),
                      max_participants=int(fields.get("max_participants") or 0))
        return cls(**fields)


@dataclass(frozen=True)
class Meeting:
    code: str  # the dial-in code; unique
    topic: str
    owner: Person
    zone: str  # the owner's IANA time zone: how its times are shown and were given
    start: datetime  # UTC
    end: datetime  # UTC; moved on by auto-extension or the API
    participants: tuple[Person, ...] = ()
    greeting_sound_id: int | None = None
    # Kept as given, unlike room PINs: each invitation, update and reminder mails them again
    # (seed 004 shows them in the portal too). Compared in constant time (`role_for`).
    chair_password: str | None = None
    guest_password: str | None = None
    # The owner's explicit choice to let anyone with the code in without a password (else a
    # guest password is required: a six-digit code alone is guessed by whoever tries enough).
    open_dial_in: bool = False
    max_participants: int = 0  # 0 = unlimited
    auto_invite: bool = True  # call everyone at the start
    auto_extend: int = 0  # minutes added at the end while someone is in; 0 = none
    reminder_minutes: int = 0  # mail a reminder this long before the start; 0 = none
    cancelled: bool = False
    ended_at: datetime | None = None
    locked: bool = False
    revision: int = 0  # bumped by every edit: the calendar's SEQUENCE
    def state(self, now: datetime) -> State:
        if self.cancelled:
            return State.CANCELLED
        if self.ended_at is not None:
            return State.PAST
        return State.SCHEDULED if now < self.start else State.CURRENT

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(ZoneInfo(self.zone))

    @property
    def address(self) -> RoomAddress:
        """Its room on the bridge node (of the dial-in service: scheduled conferences run there)."""
        return scheduled(self.code)

    def numbers(self) -> list[str]:
        """Whom the conference calls at its start: the owner first, each number once."""
        found: list[str] = []
        for person in (self.owner, *self.participants):
            if person.number and person.number not in found:
                found.append(person.number)
        return found

    def projected(self) -> LiveMeeting:
        """What a bridge node needs of it (store.live.MEETINGS)."""
        return LiveMeeting(self.code, self.start.timestamp(), self.end.timestamp(), owner=self.owner.number,
                           numbers=tuple(self.numbers()), greeting_sound_id=self.greeting_sound_id,
                           max_participants=self.max_participants, chair_password=self.chair_password,
                           guest_password=self.guest_password, locked=self.locked, auto_invite=self.auto_invite,
                           auto_extend=self.auto_extend)


def _zone(value: Any) -> bool:
    if not isinstance(value, str) or not value or len(value) > 64 or ".." in value or value.startswith("/"):
        return False
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _day(value: Any) -> bool:
    try:
        date.fromisoformat(value)
    except (TypeError, ValueError):
        return False
    return isinstance(value, str) and len(value) == 10


_NUMBER = matching(r"\+?[0-9]{1,32}", "a number: digits, optionally after +")
ZONE = Rule(_zone, "an IANA time zone such as Europe/Moscow", {"type": "string", "minLength": 1, "maxLength": 64})
_CLOCK = matching("([01][0-9]|2[0-3]):([0-5][0-9])(:[0-5][0-9])?",  # seconds for tests and scripts
                  "a 24-hour time HH:MM (or HH:MM:SS)")
# A participant, an owner, a contact of the portal's address book.
PERSON: dict[str, Rule] = {
    "number": or_null(_NUMBER).means("Extension or external number to call"),
    "email": or_null(matching(r"[^@\s<>\"]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63}", "an e-mail address")),
    "name": text(MAX_NAME_LENGTH),
    "zone": or_null(ZONE).means("IANA zone of the times in mail to this person (default: the owner's)"),
    "language": or_null(one_of(*MAIL_LANGUAGES)).means(
        "Language of mail and calendar entries to this person (default: the owner's, else English)"),
}


def _person(value: Any) -> bool:
    return (isinstance(value, dict) and set(value) <= set(PERSON)
            and all(PERSON[name].accepts(field) for name, field in value.items())
            and bool(value.get("number") or value.get("email")))


_PERSON_SCHEMA = {**object_schema(PERSON, about="A number, an e-mail address, or both."),
                  "anyOf": [{"required": [name], "properties": {name: {"type": "string"}}}
                            for name in ("number", "email")]}
_OWNER_SCHEMA = {**_PERSON_SCHEMA, "required": ["number"], "properties": {**_PERSON_SCHEMA["properties"],
                                                                          "number": _NUMBER.described()}}
RULES: dict[str, Rule] = {
    "topic": text(MAX_NAME_LENGTH),
    "owner": Rule(lambda v: _person(v) and bool(v.get("number")), "an object with the owner's number, and email, "
                  "name", _OWNER_SCHEMA, "Enters without waiting (the chair); others hear music until it does."),
    "zone": ZONE.means("The owner's IANA time zone; date, start and end are wall times there (stored in UTC). A "
                        "time the clocks skip is refused; one they pass twice means the first."),
    "date": Rule(_day, "a date, YYYY-MM-DD, in the owner's zone", {"type": "string", "format": "date"}),
    "start": _CLOCK,
    "end": _CLOCK.means("After start, same day."),
    "immediate": boolean().means("Start now, for an hour (instead of date/start/end)."),
    "participants": Rule(lambda v: isinstance(v, list) and len(v) <= MAX_PARTICIPANTS and all(map(_person, v)),
                         f"a list of at most {MAX_PARTICIPANTS} objects, each with a number and/or an email",
                         {"type": "array", "maxItems": MAX_PARTICIPANTS, "items": _PERSON_SCHEMA}),
    "greeting_sound_id": or_null(integer(1, MAX_SOUND_ID)).means("Played to each on answer."),
    "chair_password": or_null(digits(MAX_PIN_LENGTH, MIN_PIN_LENGTH)).means(
        "Dial-in password of the chair; kept as given, since every mail gives it."),
    "guest_password": or_null(digits(MAX_PIN_LENGTH, MIN_PIN_LENGTH)).means(
        "Dial-in password of guests: required unless open_dial_in is true."),
    "open_dial_in": boolean().means(
        "true: the owner opts out of the guest password, and anyone with the code enters as a guest "
        "(then guest_password must be null). Default false."),
    "max_participants": integer(0, MAX_PARTICIPANTS).means("0 = unlimited"),
    "auto_invite": boolean().means("Call everyone at the start."),
    "auto_extend": one_of(*AUTO_EXTEND_STEPS).means(
        "Minutes added (and announced) at the end while someone is in; 0 = none."),
    "reminder_minutes": integer(0, MAX_REMINDER_MINUTES).means(
        "Mail a reminder this long before the start; 0 = none."),
}
FIELDS = tuple(RULES)


def wall_to_utc(day: date, clock: time, zone: str, field: str) -> datetime:
    """A wall time in `zone` as UTC. A time the clocks skip (spring forward) is refused; one they
    pass twice (fall back) means the first."""
    local = datetime.combine(day, clock, tzinfo=ZoneInfo(zone))
    utc = local.astimezone(UTC)
    if utc.astimezone(ZoneInfo(zone)).replace(tzinfo=None) != local.replace(tzinfo=None):
        raise FieldError(field, "invalid_field", f"{day} {clock:%H:%M} does not exist in {zone} (the clocks skip it)")
    return utc


def validate(payload: Any, code: str, now: datetime, current: Meeting | None = None, *,
             template: bool = False) -> Meeting:
    """A new meeting (current is None) or `current` changed by the payload. `now` for "immediate"
    and for refusing a start in the past. A template's fields need no guest password (each
    conference made from it is given or drawn its own)."""
    fields = clean(payload, RULES)
    if current is None:
        require(fields, "topic", "owner", "zone")
        if not fields.get("immediate"):
            require(fields, "date", "start", "end")
    base = _as_payload(current) if current is not None else {}
    merged = {**base, **fields}
    zone = str(merged["zone"])
    if fields.get("immediate"):
        start = now.replace(microsecond=0)
        end = start + timedelta(minutes=IMMEDIATE_MINUTES)
    else:
        day = date.fromisoformat(str(merged["date"]))
        start = wall_to_utc(day, time.fromisoformat(str(merged["start"])), zone, "start")
        end = wall_to_utc(day, time.fromisoformat(str(merged["end"])), zone, "end")
        if end <= start:
            raise FieldError("end", "invalid_field", "end must be after start on the same day")
        moved = current is None or bool({"date", "start", "zone"} & set(fields))
        if moved and end <= now:
            raise FieldError("date", "invalid_field", "the conference would be over already")
    if fields.get("chair_password") and fields.get("chair_password") == fields.get("guest_password"):
        raise FieldError("guest_password", "invalid_field", "chair and guest passwords must differ")
    meeting = Meeting(
        code=code, topic=str(merged["topic"]), owner=Person(**merged["owner"]), zone=zone, start=start, end=end,
        participants=tuple(Person(**p) for p in merged.get("participants", [])),
        greeting_sound_id=merged.get("greeting_sound_id"), max_participants=int(merged.get("max_participants", 0)),
        auto_invite=bool(merged.get("auto_invite", True)), auto_extend=int(merged.get("auto_extend", 0)),
        reminder_minutes=int(merged.get("reminder_minutes", 0)),
        chair_password=_password(fields, "chair_password", current),
        guest_password=_password(fields, "guest_password", current),
        open_dial_in=bool(merged.get("open_dial_in", False)),
    )
    _check_dial_in(meeting, template)
    return meeting


def _check_dial_in(meeting: Meeting, template: bool) -> None:
    """Dial-in takes a guest password unless the owner said explicitly that it wants none."""
    if meeting.open_dial_in and meeting.guest_password:
        raise FieldError("open_dial_in", "invalid_field",
                         "open_dial_in means no guest password: send guest_password null, or open_dial_in false")
    if not (meeting.open_dial_in or meeting.guest_password or template):
        raise FieldError("guest_password", "missing_field",
                         f"guest_password ({MIN_PIN_LENGTH}-{MAX_PIN_LENGTH} digits) is required for dial-in, "
                         "unless open_dial_in is true (anyone with the code enters)")


def _password(fields: dict[str, Any], name: str, current: Meeting | None) -> str | None:
    """Sent: the new one (null removes it); not sent: as it was."""
    if name in fields:
        return str(fields[name]) if fields[name] else None
    return getattr(current, name) if current is not None else None


def dial_in_role(chair: str | None, guest: str | None, typed: str) -> str | None:
    """What a password typed at dial-in makes the caller: "chair", "guest", or None (wrong).
    Without a guest password anyone who is not the chair is a guest."""
    if chair and hmac.compare_digest(chair.encode(), typed.encode()):
        return "chair"
    if not guest or hmac.compare_digest(guest.encode(), typed.encode()):
        return "guest"
    return None


def _as_payload(meeting: Meeting) -> dict[str, Any]:
    start, end = meeting.local(meeting.start), meeting.local(meeting.end)
    return {"topic": meeting.topic, "owner": meeting.owner.as_dict(), "zone": meeting.zone,
            "date": start.date().isoformat(), "start": f"{start:%H:%M}", "end": f"{end:%H:%M}",
            "participants": [p.as_dict() for p in meeting.participants],
            "greeting_sound_id": meeting.greeting_sound_id, "max_participants": meeting.max_participants,
            "auto_invite": meeting.auto_invite, "auto_extend": meeting.auto_extend,
            "reminder_minutes": meeting.reminder_minutes, "open_dial_in": meeting.open_dial_in}


def repeat_payload(meeting: Meeting, today: date) -> dict[str, Any]:
    """A past meeting copied for today (seed 001 "repeat"): same fields, times and passwords (the
    same people dial in the same way), today's date. A scheduled meeting ends on its start's day;
    one that ran past midnight (started "now" late, or extended) is repeated to the day's last minute."""
    payload = _as_payload(meeting)
    if meeting.local(meeting.end).date() > meeting.local(meeting.start).date():
        payload["end"] = "23:59"
    return {**payload, "date": today.isoformat(), "chair_password": meeting.chair_password,
            "guest_password": meeting.guest_password}


# Changes of a stored meeting ------------------------------------------------------------


def edited(current: Meeting, changed: Meeting) -> Meeting:
    """An edit (only while scheduled) keeps the meeting's life and bumps its revision."""
    return dataclasses.replace(changed, cancelled=current.cancelled, ended_at=current.ended_at,
                               locked=current.locked, revision=current.revision + 1)


def cancelled(meeting: Meeting) -> Meeting:
    return dataclasses.replace(meeting, cancelled=True, revision=meeting.revision + 1)


def locked(meeting: Meeting, flag: bool) -> Meeting:
    return dataclasses.replace(meeting, locked=flag)


def extended(meeting: Meeting, minutes: int) -> Meeting:
    return dataclasses.replace(meeting, end=meeting.end + timedelta(minutes=minutes))


def ended(meeting: Meeting, at: datetime) -> Meeting:
    return dataclasses.replace(meeting, ended_at=at)


# What happens at the end time ------------------------------------------------------


@dataclass(frozen=True)
class End:
    pass


@dataclass(frozen=True)
class Extend:
    until: datetime
    minutes: int


@dataclass(frozen=True)
class RunOn:
    """Someone is in and there is no auto-extension: it goes on until the last one leaves."""


def at_end(meeting: Meeting, present: int) -> End | Extend | RunOn:
    if present == 0:
        return End()
    if meeting.auto_extend:
        return Extend(meeting.end + timedelta(minutes=meeting.auto_extend), meeting.auto_extend)
    return RunOn()


def counts(meetings: list[Meeting], now: datetime) -> Mapping[str, int]:
    """How many in each state, e.g. {"current": 1, "scheduled": 4, ...}."""
    found = dict.fromkeys((str(s) for s in State), 0)
    for meeting in meetings:
        found[str(meeting.state(now))] += 1
    return found
