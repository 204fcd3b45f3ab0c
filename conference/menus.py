"""Voice menus (IVR, seed 003): a number that greets its caller and sends it on by the key it presses.

Pure. The settings: what the API accepts and the opening hours. The rules: on conference.room's
Member, events and effects, like the dial-in service. A caller hears the greeting (it may press a
key at any time, the greeting stops); a key of the menu sends it on (`Forward`); another key
counts as an invalid try ("that is not a valid option", the greeting again) and the last try sends
it to the invalid destination; silence after the greeting sends it to the timeout destination
(none: the greeting again, as a try). Outside the opening hours it goes straight to the closed
destination. Where a destination number leads, and whether the menu's owner may send a caller
there, is the number plan's (conference.numberplan), asked as the caller is forwarded.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from conference.fields import (
    FieldError,
    Rule,
    clean,
    digits,
    integer,
    list_of,
    mapping_of,
    matching,
    one_of,
    or_null,
    require,
    text,
)
from conference.mixing import Link
from conference.room import (
    Arrived,
    Digit,
    Effect,
    Hangup,
    Left,
    Member,
    Play,
    PromptDone,
    Room,
    Stage,
    Step,
    add_member,
)
from conference.rooms import LANGUAGES, MAX_NAME_LENGTH, MAX_NUMBER_LENGTH, MAX_SOUND_ID
from conference.schedule import ZONE

KEYS = "0123456789*#"
MAX_GREETING_TEXT = 500
MAX_HOURS = 14  # two spans a day
MAX_TRIES = 5
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY = "|".join(DAYS)
_CLOCK = "(?:[01][0-9]|2[0-3]):[0-5][0-9]"
# No nested quantifiers: these meet what API callers send.
_HOURS_PATTERN = f"(?:{_DAY})(?:-(?:{_DAY}))? {_CLOCK}-(?:{_CLOCK}|24:00)"
_DESTINATION = digits(MAX_NUMBER_LENGTH)


@dataclass(frozen=True)
class MenuSettings:
    number: str
    name: str = ""
    language: str = "en"
    owner: str | None = None  # the extension whose rights forward callers; None: an operator's
    greeting_sound_id: int | None = None  # a library sound; else greeting_text, spoken
    greeting_text: str = ""
    options: Mapping[str, str] = dataclasses.field(default_factory=dict)  # key -> destination number
    timeout_seconds: int = 8
    timeout_destination: str | None = None
    tries: int = 3
    invalid_destination: str | None = None
    time_zone: str = "UTC"
    hours: tuple[str, ...] = ()  # "mon-fri 09:00-18:00"; none: always open
    closed_destination: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "hours", tuple(self.hours))
        object.__setattr__(self, "options", dict(self.options))

    def as_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        return {**data, "hours": list(self.hours), "options": dict(self.options)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MenuSettings:
        """As rooms' settings: unknown keys ignored, missing ones at their defaults."""
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{key: value for key, value in data.items() if key in known})

    def destinations(self) -> list[str]:
        """Every number the menu may send a caller to."""
        found = [*self.options.values(), self.timeout_destination, self.invalid_destination,
                 self.closed_destination]
        return [number for number in found if number]


RULES: dict[str, Rule] = {
    "number": digits(MAX_NUMBER_LENGTH).means("The number callers dial (or a trunk's inbound number maps to). Shares "
                                              "the number space of rooms and extensions; it cannot change."),
    "name": text(MAX_NAME_LENGTH).means("Free text without control characters."),
    "language": one_of(*LANGUAGES).means("Language of the menu's prompts and of its spoken greeting_text."),
    "owner": or_null(digits(MAX_NUMBER_LENGTH)).means(
        "The extension whose rights forward callers: an outside destination only if it may call outside. null: an "
        "operator's rights (outside numbers only with [conferences] operator_outside_calls)."),
    "greeting_sound_id": or_null(integer(1, MAX_SOUND_ID)).means("A sound of the library played as the greeting."),
    "greeting_text": text(MAX_GREETING_TEXT).means(
        "The greeting, spoken by espeak-ng in the menu's language, when no greeting_sound_id is set."),
    "options": mapping_of(one_of(*KEYS), _DESTINATION, len(KEYS)).means(
        "Key -> destination: a room, an extension, another menu, the scheduled conferences' dial-in number, or an "
        "outside number where the number plan lets the owner call it."),
    "timeout_seconds": integer(2, 60).means("Silence after the greeting before the timeout destination."),
    "timeout_destination": or_null(_DESTINATION).means("null: the greeting again, counted as a try."),
    "tries": integer(1, MAX_TRIES).means("Invalid keys (and timeouts without a destination) before the invalid "
                                         "destination."),
    "invalid_destination": or_null(_DESTINATION).means("After the last try; null: goodbye."),
    "time_zone": ZONE.means("The IANA zone of the opening hours."),
    "hours": list_of(matching(_HOURS_PATTERN, '"mon-fri 09:00-18:00": a day or a span of days, then from-to'),
                     MAX_HOURS).means("When the menu is open, in time_zone; [] (the default): always."),
    "closed_destination": or_null(_DESTINATION).means("Outside the opening hours; null: a closed notice, goodbye."),
}
FIELDS = tuple(RULES)


def validate_create(payload: Any) -> MenuSettings:
    fields = clean(payload, RULES)
    require(fields, "number")
    return _checked(MenuSettings(**fields))


def validate_patch(current: MenuSettings, payload: Any) -> MenuSettings:
    fields = clean(payload, RULES)
    if "number" in fields and fields["number"] != current.number:
        raise FieldError("number", "immutable_field", "a menu's number cannot change; create a new menu")
    return _checked(dataclasses.replace(current, **fields))


def _checked(menu: MenuSettings) -> MenuSettings:
    for span in menu.hours:
        start, end = _span(span)[1:]
        if end <= start:
            raise FieldError("hours", "invalid_field", f"{span!r} closes before it opens")
    if menu.number in menu.destinations():
        raise FieldError("options", "invalid_field", "a menu cannot send callers to itself")
    return menu


# Opening hours -------------------------------------------------------------------------


def _span(span: str) -> tuple[list[int], time, time]:
    """The weekdays (0 = Monday) and times of a validated span."""
    days, clock = span.split(" ")
    first, _, last = days.partition("-")
    start, end = DAYS.index(first), DAYS.index(last or first)
    weekdays = [day % 7 for day in range(start, start + (end - start) % 7 + 1)]  # "sat-mon" wraps
    opens, closes = clock.split("-")
    return weekdays, time.fromisoformat(opens), time.max if closes == "24:00" else time.fromisoformat(closes)


def is_open(menu: MenuSettings, now: datetime) -> bool:
    """Whether `now` (aware) falls in the menu's opening hours, read in its zone."""
    if not menu.hours:
        return True
    local = now.astimezone(ZoneInfo(menu.time_zone))
    for span in menu.hours:
        weekdays, opens, closes = _span(span)
        if local.weekday() in weekdays and opens <= local.time().replace(tzinfo=None) < closes:
            return True
    return False


# Rules ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tick:
    """The bridge's clock went on: a caller silent since the greeting ended times out."""


@dataclass(frozen=True)
class Unreachable:
    """The number plan did not let the menu's owner reach where the caller was to go (now)."""

    member: str


@dataclass(frozen=True)
class Forward:
    """Send the caller on to `number`, on the menu owner's rights; `why`: the key it pressed, or
    "timeout", "invalid", "closed"."""

    member: str
    number: str
    why: str


def greeting(menu: MenuSettings) -> tuple[str, ...]:
    if menu.greeting_sound_id:
        return (f"sound:{menu.greeting_sound_id}",)
    return (f"menu:{menu.number}",) if menu.greeting_text else ("menu_choose",)


def transition(menu: MenuSettings, room: Room, event: Arrived | Digit | PromptDone | Left | Tick | Unreachable,
               wall: datetime, now: float) -> tuple[Room, list[Effect | Forward]]:
    """`wall`: the time of day (aware) for the opening hours; `now`: monotonic, for timeouts."""
    step = Step(room)
    forwards: list[Forward] = []
    if isinstance(event, Arrived):
        caller = Member(event.member, event.caller, Stage.GREETING, extension=event.extension)
        add_member(step, caller)
        if not is_open(menu, wall):
            _leave(step, forwards, caller, menu.closed_destination, "menu_closed", "closed")
        else:
            step.effects.append(Play(caller.id, greeting(menu)))
    elif isinstance(event, Tick):
        for waiting in room.members:
            if waiting.stage == Stage.GREETING and 0 < waiting.until <= now:
                if menu.timeout_destination:
                    _leave(step, forwards, waiting, menu.timeout_destination, "", "timeout")
                else:
                    _try_again(menu, step, forwards, waiting, ())
    elif (member := room.member(event.member)) is not None:
        if isinstance(event, Digit) and member.stage == Stage.GREETING:
            destination = menu.options.get(event.digit)
            if destination:
                _leave(step, forwards, member, destination, "", event.digit)
            else:
                _try_again(menu, step, forwards, member, ("menu_invalid",))
        elif isinstance(event, PromptDone) and member.stage == Stage.GREETING:
            step.set(dataclasses.replace(member, until=now + menu.timeout_seconds))
        elif isinstance(event, PromptDone) and member.stage == Stage.LEAVING:
            step.effects.append(Hangup(member.id))
        elif isinstance(event, Unreachable):
            _leave(step, forwards, member, None, "number_unavailable", "")
        elif isinstance(event, Left):
            step.room = dataclasses.replace(room, members=tuple(m for m in room.members if m.id != member.id))
    return step.room, [*step.effects, *forwards]


def _try_again(menu: MenuSettings, step: Step, forwards: list[Forward], member: Member,
               notice: tuple[str, ...]) -> None:
    tries = member.tries + 1
    if tries >= menu.tries:
        _leave(step, forwards, member, menu.invalid_destination, "goodbye", "invalid")
        return
    step.set(dataclasses.replace(member, tries=tries, until=0.0))
    step.effects.append(Play(member.id, (*notice, *greeting(menu))))


def _leave(step: Step, forwards: list[Forward], member: Member, destination: str | None, prompt: str,
           why: str) -> None:
    """Forward the caller to `destination` (for `why`), or say `prompt` and hang up."""
    if destination:
        step.set(dataclasses.replace(member, stage=Stage.ANNOUNCING, until=0.0))
        forwards.append(Forward(member.id, destination, why))
    else:
        step.set(dataclasses.replace(member, stage=Stage.LEAVING, until=0.0))
        step.effects.append(Play(member.id, (prompt,)))


def due(room: Room, now: float) -> bool:
    """Whether a Tick at `now` would time somebody out (the bridge feeds one only then)."""
    return any(m.stage == Stage.GREETING and 0 < m.until <= now for m in room.members)


def links(room: Room) -> frozenset[Link]:
    return frozenset()  # callers of a menu hear only its prompts
