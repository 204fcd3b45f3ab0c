"""conference.invitations: mail texts in each recipient's zone and a valid iCalendar."""

from __future__ import annotations

from datetime import UTC, datetime

import icalendar

from conference.invitations import Mail, body, ics, message, recipients, when
from conference.schedule import Person, validate

NOW = datetime(2026, 3, 20, 9, 0, tzinfo=UTC)
MEETING = validate({
    "topic": "Budget; Q2, \\final\\", "owner": {"number": "100", "email": "anna@example.com", "name": "Anna"},
    "zone": "Europe/Moscow", "date": "2026-03-25", "start": "12:00", "end": "13:30", "chair_password": "4321",
    "guest_password": "7777",
    "participants": [{"number": "+74951234567", "email": "boris@example.org", "name": "Борис " * 12},
                     {"email": "ANNA@example.com"}, {"email": "carl@example.net", "zone": "America/New_York"}],
}, "482913", NOW)


def test_each_address_once_owner_first() -> None:
    assert [p.email for p in recipients(MEETING)] == ["anna@example.com", "boris@example.org", "carl@example.net"]


def test_times_are_in_each_recipients_zone() -> None:
    carl = MEETING.participants[2]
    assert when(MEETING, MEETING.owner) == "2026-03-25 12:00-13:30 (Europe/Moscow, MSK)"
    assert when(MEETING, carl) == "2026-03-25 05:00-06:30 (America/New_York, EDT)"


def test_the_owner_gets_the_chair_password_and_guests_theirs() -> None:
    owner_text = body(Mail.INVITATION, MEETING, MEETING.owner, "7000")
    guest_text = body(Mail.INVITATION, MEETING, MEETING.participants[0], "7000")
    assert "call 7000, enter the conference code 482913 and then *" in owner_text
    assert "4321" in owner_text and "7777" not in owner_text
    assert "7777" in guest_text and "4321" not in guest_text
    assert "calls you at +74951234567" in guest_text
    cancelled = body(Mail.CANCELLATION, MEETING, MEETING.owner, "7000")
    assert "cancelled" in cancelled and "4321" not in cancelled


def test_the_calendar_parses_and_says_what_the_meeting_is() -> None:
    text = ics(MEETING, "REQUEST", "7000", NOW, "kamconf.example")
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))
    calendar = icalendar.Calendar.from_ical(text)
    event = next(iter(calendar.walk("VEVENT")))
    assert str(event["SUMMARY"]) == "Budget; Q2, \\final\\"
    assert event.decoded("DTSTART") == datetime(2026, 3, 25, 9, 0, tzinfo=UTC)
    assert event.decoded("DTEND") == datetime(2026, 3, 25, 10, 30, tzinfo=UTC)
    assert str(event["UID"]) == "conference-482913@kamconf.example" and str(calendar["METHOD"]) == "REQUEST"
    assert len(list(event.get("ATTENDEE", []))) == 2
    cancel = icalendar.Calendar.from_ical(ics(MEETING, "CANCEL", "7000", NOW, "kamconf.example"))
    assert str(next(iter(cancel.walk("VEVENT")))["STATUS"]) == "CANCELLED"


def test_the_message_carries_the_calendar() -> None:
    mail = message(Mail.REMINDER, MEETING, Person(email="x@example.com"), "conf@example.com", "7000", NOW,
                   "kamconf.example")
    assert mail["Subject"] == "Reminder: Budget; Q2, \\final\\ (482913)"
    attachment = next(part for part in mail.iter_attachments())
    assert attachment.get_content_type() == "text/calendar" and attachment.get_param("method") == "REQUEST"


def test_each_recipient_reads_its_own_language_else_the_owners() -> None:
    russian = validate({
        "topic": "Планёрка", "owner": {"number": "100", "email": "anna@example.com", "language": "ru"},
        "zone": "Europe/Moscow", "date": "2026-03-25", "start": "12:00", "end": "13:00", "guest_password": "7777",
        "participants": [{"number": "101", "email": "boris@example.org"},
                         {"email": "carl@example.net", "language": "en"}]}, "482913", NOW)
    owner, boris, carl = russian.owner, *russian.participants
    assert "позвоните на 7000, наберите код конференции 482913" in body(Mail.INVITATION, russian, owner, "7000")
    assert "позвонит вам на номер 101" in body(Mail.INVITATION, russian, boris, "7000")  # the owner's language
    assert "call 7000, enter the conference code 482913" in body(Mail.INVITATION, russian, carl, "7000")
    ru_mail = message(Mail.INVITATION, russian, boris, "conf@example.com", "7000", NOW, "kamconf.example")
    en_mail = message(Mail.CANCELLATION, russian, carl, "conf@example.com", "7000", NOW, "kamconf.example")
    assert ru_mail["Subject"] == "Приглашение: Планёрка (482913)" and ru_mail["Content-Language"] == "ru"
    assert en_mail["Subject"] == "Cancelled: Планёрка (482913)" and en_mail["Content-Language"] == "en"
    calendar = next(part for part in ru_mail.iter_attachments()).get_content()
    event = next(iter(icalendar.Calendar.from_ical(calendar).walk("VEVENT")))
    assert str(event["DESCRIPTION"]) == "Позвоните на 7000, наберите код 482913 и затем *."
    assert event["DESCRIPTION"].params["LANGUAGE"] == "ru"
    assert MEETING.owner.language is None and "call 7000" in body(Mail.INVITATION, MEETING, MEETING.owner, "7000")
