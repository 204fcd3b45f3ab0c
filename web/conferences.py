"""/api/v1/conferences, /api/v1/templates and /api/v1/history: scheduled conferences (seeds 001, 004).

Rules in conference.schedule, storage in store.conferences; what happens at
the start, the end and in the mail is the worker's (workers.meetings), told
through `services().meetings_changed`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from flask import current_app, jsonify, request, url_for
from flask.typing import ResponseReturnValue

from conference import schedule
from conference.fields import FieldError, text
from conference.invitations import Mail
from conference.schedule import Meeting, State
from store.accounts import Role
from store.conferences import MeetingRepository
from web.access import ApiBlueprint
from web.errors import ApiError
from web.rooms import json_body
from web.services import services
from web.sounds import check_greeting

blueprint = ApiBlueprint("conferences", __name__, role=Role.OPERATOR)
EXTENSION = "kamconf.conferences"
MAX_TEMPLATE_NAME = 100


def meetings() -> MeetingRepository:
    found: MeetingRepository = current_app.extensions[EXTENSION]
    return found


def now() -> datetime:
    return datetime.now(UTC)


def public(meeting: Meeting, at: datetime) -> dict[str, Any]:
    start, end = meeting.local(meeting.start), meeting.local(meeting.end)
    return {
        "code": meeting.code, "topic": meeting.topic, "state": str(meeting.state(at)),
        "owner": meeting.owner.as_dict(), "zone": meeting.zone, "date": start.date().isoformat(),
        "start": f"{start:%H:%M}", "end": f"{end:%H:%M}",
        "start_utc": meeting.start.isoformat(), "end_utc": meeting.end.isoformat(),
        "participants": [p.as_dict() for p in meeting.participants],
        "greeting_sound_id": meeting.greeting_sound_id, "chair_password": meeting.chair_password,
        "guest_password": meeting.guest_password, "max_participants": meeting.max_participants,
        "auto_invite": meeting.auto_invite, "auto_extend": meeting.auto_extend,
        "reminder_minutes": meeting.reminder_minutes, "locked": meeting.locked,
        "ended_at": None if meeting.ended_at is None else meeting.ended_at.isoformat(),
        "dial_in": services().dial_in,
    }


def in_state(meeting: Meeting, *states: State) -> Meeting:
    state = meeting.state(now())
    if state not in states:
        raise ApiError(409, "conflict", f"conference {meeting.code} is {state}; this needs it "
                                        f"{' or '.join(map(str, states))}")
    return meeting


@blueprint.get("/conferences")
def list_conferences() -> ResponseReturnValue:
    state = _choice("state", [str(s) for s in State])
    year, month = _int_arg("year", 1970, 9998), _int_arg("month", 1, 12)
    if month is not None and year is None:
        raise ApiError(400, "invalid_field", "month needs a year", "month")
    at = now()
    everything = meetings().listed(None, year, month, at)
    return jsonify({"counts": schedule.counts(everything, at),
                    "conferences": [public(m, at) for m in everything if state is None or m.state(at) == state]})


@blueprint.post("/conferences")
def create_conference() -> ResponseReturnValue:
    body = json_body()
    if isinstance(body, dict) and "template" in body:
        name = body.pop("template")
        if not isinstance(name, str):
            raise FieldError("template", "invalid_field", "template must be a template's name")
        body = {**meetings().template(name), **body}
    at = now()
    meeting = meetings().create(lambda code: _with_known_greeting(schedule.validate(body, code, at)))
    services().meetings_changed()
    return jsonify(public(meeting, at)), 201, {"Location": url_for(".get_conference", code=meeting.code)}


@blueprint.get("/conferences/<code>")
def get_conference(code: str) -> ResponseReturnValue:
    return jsonify(public(meetings().get(code), now()))


@blueprint.patch("/conferences/<code>")
def patch_conference(code: str) -> ResponseReturnValue:
    body, at = json_body(), now()

    def change(current: Meeting) -> Meeting:
        in_state(current, State.SCHEDULED)
        changed = _with_known_greeting(schedule.validate(body, code, at, current), current)
        return schedule.edited(current, changed)

    meeting = meetings().update(code, change, Mail.UPDATE)
    services().meetings_changed()
    return jsonify(public(meeting, at))


@blueprint.delete("/conferences/<code>")
def cancel_conference(code: str) -> ResponseReturnValue:
    meetings().update(code, lambda m: schedule.cancelled(in_state(m, State.SCHEDULED)), Mail.CANCELLATION)
    services().meetings_changed()
    return "", 204


@blueprint.post("/conferences/<code>/repeat")
def repeat_conference(code: str) -> ResponseReturnValue:
    """A past conference again, today at its times (seed 001); the body may change any field."""
    past = in_state(meetings().get(code), State.PAST)
    body = json_body() if request.content_length else {}
    if not isinstance(body, dict):
        raise FieldError("", "bad_request", "the body must be a JSON object")
    payload = {**schedule.repeat_payload(past, past.local(now()).date()), **body}
    at = now()
    meeting = meetings().create(lambda new_code: _with_known_greeting(schedule.validate(payload, new_code, at)))
    services().meetings_changed()
    return jsonify(public(meeting, at)), 201, {"Location": url_for(".get_conference", code=meeting.code)}


@blueprint.post("/conferences/<code>/lock")
def lock_conference(code: str) -> ResponseReturnValue:
    locked = _flag(json_body(), "locked")
    meeting = meetings().update(code, lambda m: schedule.locked(in_state(m, State.CURRENT), locked))
    services().tell_bridge("lock", code, locked="1" if locked else "0")
    services().meetings_changed()
    return jsonify(public(meeting, now()))


@blueprint.post("/conferences/<code>/extend")
def extend_conference(code: str) -> ResponseReturnValue:
    body = json_body()
    minutes = body.get("minutes") if isinstance(body, dict) else None
    if not isinstance(minutes, int) or isinstance(minutes, bool) or not 1 <= minutes <= 24 * 60:
        raise FieldError("minutes", "invalid_field", "minutes must be an integer 1-1440")
    meeting = meetings().update(code, lambda m: schedule.extended(in_state(m, State.CURRENT), minutes))
    services().tell_bridge("extended", code, minutes=str(minutes))
    services().meetings_changed()
    return jsonify(public(meeting, now()))


@blueprint.post("/conferences/<code>/end")
def end_conference(code: str) -> ResponseReturnValue:
    at = now()
    meeting = meetings().update(code, lambda m: schedule.ended(in_state(m, State.CURRENT), at))
    services().tell_bridge("end", code)
    services().meetings_changed()
    return jsonify(public(meeting, at))


@blueprint.get("/conferences/<code>/mail")
def conference_mail(code: str) -> ResponseReturnValue:
    """What was mailed about it, to whom, and whether it went."""
    meetings().get(code)
    return jsonify(meetings().outbox(code))


@blueprint.get("/conferences/<code>/attendance")
def conference_attendance(code: str) -> ResponseReturnValue:
    meetings().get(code)  # 404 for an unknown code
    return jsonify(meetings().attendance(code))


@blueprint.get("/history")
def history() -> ResponseReturnValue:
    """Conferences that started in [since, until) with who attended, when and how (seed 004)."""
    since, until = _date_arg("since"), _date_arg("until")
    if since is None or until is None:
        raise ApiError(400, "missing_field", "since and until (YYYY-MM-DD) are required",
                       "since" if since is None else "until")
    at = now()
    first = datetime.combine(since, datetime.min.time(), UTC)
    last = datetime.combine(until, datetime.min.time(), UTC)
    return jsonify([{**public(m, at), "attendance": meetings().attendance(m.code)}
                    for m in meetings().between(first, last)])


@blueprint.get("/templates")
def list_templates() -> ResponseReturnValue:
    return jsonify(meetings().templates())


@blueprint.post("/templates")
def create_template() -> ResponseReturnValue:
    body = json_body()
    if not isinstance(body, dict):
        raise FieldError("", "bad_request", "the body must be a JSON object")
    name = body.pop("name", None)
    if not (text(MAX_TEMPLATE_NAME)(name) and name):
        raise FieldError("name", "invalid_field", f"name must be 1-{MAX_TEMPLATE_NAME} characters")
    fields = {k: v for k, v in body.items() if k not in ("date", "start", "end", "immediate")}
    # Checked as a conference would be (with a date far ahead), so a template always makes one.
    probe = {"date": "2999-01-01", "start": "10:00", "end": "11:00", **fields}
    schedule.validate(probe, "0", now())
    meetings().save_template(name, body)
    return jsonify({"name": name, "fields": body}), 201


@blueprint.delete("/templates/<name>")
def delete_template(name: str) -> ResponseReturnValue:
    meetings().delete_template(name)
    return "", 204


def _with_known_greeting(meeting: Meeting, current: Meeting | None = None) -> Meeting:
    check_greeting(meeting.greeting_sound_id, current.greeting_sound_id if current else None)
    return meeting


def _flag(body: Any, name: str) -> bool:
    value = body.get(name) if isinstance(body, dict) else None
    if not isinstance(value, bool):
        raise FieldError(name, "invalid_field", f"{name} must be true or false")
    return value


def _choice(name: str, allowed: list[str]) -> str | None:
    value = request.args.get(name)
    if value is not None and value not in allowed:
        raise ApiError(400, "invalid_field", f"{name} must be one of {', '.join(allowed)}", name)
    return value


def _int_arg(name: str, lowest: int, highest: int) -> int | None:
    value = request.args.get(name)
    if value is None:
        return None
    if not (value.isascii() and value.isdigit() and lowest <= int(value) <= highest):
        raise ApiError(400, "invalid_field", f"{name} must be an integer {lowest}-{highest}", name)
    return int(value)


def _date_arg(name: str) -> date | None:
    value = request.args.get(name)
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise ApiError(400, "invalid_field", f"{name} must be a date, YYYY-MM-DD", name) from exc
