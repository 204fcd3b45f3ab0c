"""The mail a scheduled conference sends: invitation, update, cancellation, reminder, each with an
iCalendar (.ics, RFC 5545) attachment. Pure: builds messages, never sends them."""

from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage
from enum import StrEnum
from zoneinfo import ZoneInfo

from conference.schedule import Meeting, Person


class Mail(StrEnum):
    INVITATION = "invitation"
    UPDATE = "update"
    CANCELLATION = "cancellation"
    REMINDER = "reminder"


# Every text of a mail and its calendar entry, per language (conference.schedule.MAIL_LANGUAGES).
_TEXTS = {
    "en": {
        Mail.INVITATION: "Invitation", Mail.UPDATE: "Changed", Mail.CANCELLATION: "Cancelled",
        Mail.REMINDER: "Reminder", "when": "When", "owner": "Owner",
        "cancelled": "This conference has been cancelled.",
        "join": "To join, call {dial_in}, enter the conference code {code} and then *.",
        "password": "Your password: {password}, then #.",
        "called": "At the start the conference calls you at {number}.",
        "calendar": "Call {dial_in}, enter the code {code} and then *.",
    },
    "ru": {
        Mail.INVITATION: "Приглашение", Mail.UPDATE: "Изменение", Mail.CANCELLATION: "Отмена",
        Mail.REMINDER: "Напоминание", "when": "Когда", "owner": "Организатор",
        "cancelled": "Эта конференция отменена.",
        "join": "Чтобы войти, позвоните на {dial_in}, наберите код конференции {code} и затем *.",
        "password": "Ваш пароль: {password}, затем #.",
        "called": "Когда конференция начнётся, она позвонит вам на номер {number}.",
        "calendar": "Позвоните на {dial_in}, наберите код {code} и затем *.",
    },
}


def language(meeting: Meeting, person: Person) -> str:
    """The person's language, else the owner's, else English."""
    chosen = person.language or meeting.owner.language
    return chosen if chosen in _TEXTS else "en"


def recipients(meeting: Meeting) -> list[Person]:
    """Everyone with an address, the owner first, each address once."""
    seen: set[str] = set()
    found = []
    for person in (meeting.owner, *meeting.participants):
        if person.email and person.email.lower() not in seen:
            seen.add(person.email.lower())
            found.append(person)
    return found


def when(meeting: Meeting, person: Person) -> str:
    """The meeting's date and times in the person's zone (the owner's if they have none)."""
    zone = ZoneInfo(person.zone or meeting.zone)
    start, end = meeting.start.astimezone(zone), meeting.end.astimezone(zone)
    return f"{start:%Y-%m-%d} {start:%H:%M}-{end:%H:%M} ({person.zone or meeting.zone}, {start:%Z})"


def body(kind: Mail, meeting: Meeting, person: Person, dial_in: str) -> str:
    said = _TEXTS[language(meeting, person)]
    is_owner = person == meeting.owner
    password = meeting.chair_password if is_owner else meeting.guest_password
    lines = [f"{said[kind]}: {meeting.topic}", "", f"{said['when']}: {when(meeting, person)}",
             f"{said['owner']}: {meeting.owner.name or meeting.owner.number}"]
    if kind == Mail.CANCELLATION:
        lines += ["", said["cancelled"]]
        return "\n".join(lines) + "\n"
    lines += ["", said["join"].format(dial_in=dial_in, code=meeting.code)]
    if password:
        lines.append(said["password"].format(password=password))
    if meeting.auto_invite and person.number:
        lines.append(said["called"].format(number=person.number))
    return "\n".join(lines) + "\n"


def message(kind: Mail, meeting: Meeting, person: Person, sender: str, dial_in: str, now: datetime,
            domain: str) -> EmailMessage:
    spoken = language(meeting, person)
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = person.email or ""
    mail["Subject"] = f"{_TEXTS[spoken][kind]}: {meeting.topic} ({meeting.code})"
    mail.set_content(body(kind, meeting, person, dial_in))
    method = "CANCEL" if kind == Mail.CANCELLATION else "REQUEST"
    calendar = ics(meeting, method, dial_in, now, domain, spoken)
    # As text: it is sent with charset=utf-8, so a Russian calendar entry reads back as written.
    mail.add_attachment(calendar, subtype="calendar", filename="invite.ics", params={"method": method})
    mail["Content-Language"] = spoken  # after the parts are made: making them moves Content-* headers
    return mail


def ics(meeting: Meeting, method: str, dial_in: str, now: datetime, domain: str, spoken: str = "en") -> str:
    """One VEVENT in language `spoken`; the UID stays with the meeting, so an update or cancellation
    replaces it."""
    stamp = "%Y%m%dT%H%M%SZ"
    lines = [
        "BEGIN:VCALENDAR", "PRODID:-//kamconf//conference//EN", "VERSION:2.0", "CALSCALE:GREGORIAN",
        f"METHOD:{method}", "BEGIN:VEVENT",
        f"UID:conference-{meeting.code}@{domain}",
        f"DTSTAMP:{now.astimezone(ZoneInfo('UTC')).strftime(stamp)}",
        f"DTSTART:{meeting.start.strftime(stamp)}", f"DTEND:{meeting.end.strftime(stamp)}",
        f"SEQUENCE:{meeting.revision}",
        f"SUMMARY;LANGUAGE={spoken}:{_text(meeting.topic)}",
        f"DESCRIPTION;LANGUAGE={spoken}:{_text(_TEXTS[spoken]['calendar'].format(dial_in=dial_in, code=meeting.code))}",
        f"LOCATION:{_text(f'tel:{dial_in}')}",
        f"STATUS:{'CANCELLED' if method == 'CANCEL' else 'CONFIRMED'}",
    ]
    if meeting.owner.email:
        lines.append(f"ORGANIZER;CN={_param(meeting.owner.name or meeting.owner.email)}:mailto:{meeting.owner.email}")
    for person in recipients(meeting):
        if person != meeting.owner:
            lines.append(f"ATTENDEE;CN={_param(person.name or person.email or '')};ROLE=REQ-PARTICIPANT;"
                         f"RSVP=FALSE:mailto:{person.email}")
    lines += ["END:VEVENT", "END:VCALENDAR"]
    return "".join(_fold(line) + "\r\n" for line in lines)


def _text(value: str) -> str:
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def _param(value: str) -> str:
    # A parameter value is quoted; it cannot hold a double quote or control characters.
    return '"' + "".join(c for c in value if c != '"' and c >= " ") + '"'


def _fold(line: str) -> str:
    """Lines longer than 75 octets continue on the next line after a space (RFC 5545 3.1)."""
    out, current, size = [], "", 0
    for char in line:
        width = len(char.encode())
        if size + width > 75:
            out.append(current)
            current, size = " ", 1
        current += char
        size += width
    out.append(current)
    return "\r\n".join(out)
