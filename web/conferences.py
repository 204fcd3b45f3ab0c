"""/api/v1/conferences, /api/v1/templates and /api/v1/history: scheduled conferences (seeds 001, 004).

Rules in conference.schedule, storage in store.conferences; what happens at
the start, the end and in the mail is the worker's (workers.meetings), told
through `services().meetings_changed`.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from typing import Any

from flask import current_app, jsonify, request, url_for
from flask.typing import ResponseReturnValue

from conference import schedule
from conference.fields import FieldError, Rule, boolean, clean, decimal, integer, one_of, require, text
from conference.invitations import Mail
from conference.schedule import Meeting, State
from store.accounts import Role
from store.conferences import MeetingRepository
from web.access import ApiBlueprint
from web.apidoc import Body, documented
from web.errors import ApiError
from web.rooms import json_body
from web.services import services
from web.sounds import check_greeting

blueprint = ApiBlueprint("conferences", __name__, role=Role.OPERATOR)
EXTENSION = "kamconf.conferences"
STATE = ("Not in the state this needs (conflict): edits and cancelling only while scheduled, repeat only when past, "
         "lock/extend/end only while current.")
MAX_TEMPLATE_NAME = 100
LOCK = {"locked": boolean().means("true: nobody else may enter; false: entry is open again")}
EXTEND = {"minutes": integer(1, 24 * 60).means("How much later it ends")}
# A template is a conference's fields (its date and times are not kept) under a name.
TEMPLATE_NAME = {"name": text(MAX_TEMPLATE_NAME, 1).means("The template's name; unique")}
FROM_TEMPLATE = {"template": text(MAX_TEMPLATE_NAME, 1).means("Start from this template's fields")}
LISTING = {"state": one_of(*State), "year": decimal(1970, 9998).means("Of the local start date"),
           "month": decimal(1, 12).means("Needs a year")}
_DAY = dataclasses.replace(schedule.RULES["date"], expected="a date, YYYY-MM-DD")
PERIOD = {"since": _DAY.means("The first day (UTC)"), "until": _DAY.means("The day after the last (UTC)")}


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
@documented("Scheduled conferences, earliest first", "Conferences", query=LISTING)
def list_conferences() -> ResponseReturnValue:
    asked = clean(request.args.to_dict(), LISTING)
    state, year, month = asked.get("state"), _number(asked.get("year")), _number(asked.get("month"))
    if month is not None and year is None:
        raise ApiError(400, "invalid_field", "month needs a year", "month")
    at = now()
    everything = meetings().listed(None, year, month, at)
    return jsonify({"counts": schedule.counts(everything, at),
                    "conferences": [public(m, at) for m in everything if state is None or m.state(at) == state]})


@blueprint.post("/conferences")
@documented("Schedule a conference; everyone with an address is mailed an invitation with a calendar entry",
            "Conference", status=201, body="ConferenceCreate", errors={404: "No such template (not_found)."})
def create_conference() -> ResponseReturnValue:
    body = json_body()
    if isinstance(body, dict) and "template" in body:
        name = clean({"template": body.pop("template")}, FROM_TEMPLATE)["template"]
        body = {**meetings().template(name), **body}
    at = now()
    meeting = meetings().create(lambda code: _with_known_greeting(schedule.validate(body, code, at)))
    services().meetings_changed()
    return jsonify(public(meeting, at)), 201, {"Location": url_for(".get_conference", code=meeting.code)}


@blueprint.get("/conferences/<code>")
@documented("One conference", "Conference")
def get_conference(code: str) -> ResponseReturnValue:
    return jsonify(public(meetings().get(code), now()))


@blueprint.patch("/conferences/<code>")
@documented("Change it (while scheduled)", "Conference", body="ConferencePatch", errors={409: STATE})
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
@documented("Cancel it (while scheduled); the participants are mailed the cancellation", status=204,
            errors={409: STATE})
def cancel_conference(code: str) -> ResponseReturnValue:
    meetings().update(code, lambda m: schedule.cancelled(in_state(m, State.SCHEDULED)), Mail.CANCELLATION)
    services().meetings_changed()
    return "", 204


@blueprint.post("/conferences/<code>/repeat")
@documented("A past conference again, today at its times; the body (optional) changes fields", "Conference",
            status=201, body=Body("ConferencePatch", required=False), errors={409: STATE})
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
@documented("Lock or unlock entry", "Conference", body="Lock", errors={409: STATE})
def lock_conference(code: str) -> ResponseReturnValue:
    locked = _fields(json_body(), LOCK)["locked"]
    meeting = meetings().update(code, lambda m: schedule.locked(in_state(m, State.CURRENT), locked))
    services().tell_bridge("lock", code, locked="1" if locked else "0")
    services().meetings_changed()
    return jsonify(public(meeting, now()))


@blueprint.post("/conferences/<code>/extend")
@documented("Move the end on", "Conference", body="Extend", errors={409: STATE})
def extend_conference(code: str) -> ResponseReturnValue:
    minutes = _fields(json_body(), EXTEND)["minutes"]
    meeting = meetings().update(code, lambda m: schedule.extended(in_state(m, State.CURRENT), minutes))
    services().tell_bridge("extended", code, minutes=str(minutes))
    services().meetings_changed()
    return jsonify(public(meeting, now()))


@blueprint.post("/conferences/<code>/end")
@documented("End it now", "Conference", errors={409: STATE})
def end_conference(code: str) -> ResponseReturnValue:
    at = now()
    meeting = meetings().update(code, lambda m: schedule.ended(in_state(m, State.CURRENT), at))
    services().tell_bridge("end", code)
    services().meetings_changed()
    return jsonify(public(meeting, at))


@blueprint.get("/conferences/<code>/mail")
@documented("What was mailed about it and whether it went", ["Mail"])
def conference_mail(code: str) -> ResponseReturnValue:
    """What was mailed about it, to whom, and whether it went."""
    meetings().get(code)
    return jsonify(meetings().outbox(code))


@blueprint.get("/conferences/<code>/attendance")
@documented("Who joined, when, how (called or dial-in), and when they left", ["Attendance"])
def conference_attendance(code: str) -> ResponseReturnValue:
    meetings().get(code)  # 404 for an unknown code
    return jsonify(meetings().attendance(code))


@blueprint.get("/history")
@documented("Conferences that started in [since, until), with attendance", ["Attended"], query=PERIOD,
            required_query=tuple(PERIOD))
def history() -> ResponseReturnValue:
    """Conferences that started in [since, until) with who attended, when and how (seed 004)."""
    asked = clean(request.args.to_dict(), PERIOD)
    require(asked, *PERIOD)
    since, until = (date.fromisoformat(asked[name]) for name in PERIOD)
    at = now()
    first = datetime.combine(since, datetime.min.time(), UTC)
    last = datetime.combine(until, datetime.min.time(), UTC)
    return jsonify([{**public(m, at), "attendance": meetings().attendance(m.code)}
                    for m in meetings().between(first, last)])


@blueprint.get("/templates")
@documented("Conference templates", ["Template"])
def list_templates() -> ResponseReturnValue:
    return jsonify(meetings().templates())


@blueprint.post("/templates")
@documented("Save conference fields under a name (date and times are not kept)", "Template", status=201,
            body="TemplateCreate", errors={409: "The name is taken (duplicate)."})
def create_template() -> ResponseReturnValue:
    body = json_body()
    name = _fields({"name": body.get("name")} if isinstance(body, dict) else body, TEMPLATE_NAME)["name"]
    del body["name"]
    fields = {k: v for k, v in body.items() if k not in ("date", "start", "end", "immediate")}
    # Checked as a conference would be (with a date far ahead), so a template always makes one.
    probe = {"date": "2999-01-01", "start": "10:00", "end": "11:00", **fields}
    schedule.validate(probe, "0", now())
    meetings().save_template(name, body)
    return jsonify({"name": name, "fields": body}), 201


@blueprint.delete("/templates/<name>")
@documented("Delete a template", status=204)
def delete_template(name: str) -> ResponseReturnValue:
    meetings().delete_template(name)
    return "", 204


def _with_known_greeting(meeting: Meeting, current: Meeting | None = None) -> Meeting:
    check_greeting(meeting.greeting_sound_id, current.greeting_sound_id if current else None)
    return meeting


def _fields(body: Any, rules: dict[str, Rule]) -> dict[str, Any]:
    """The body by `rules`, every field of which is required."""
    fields = clean(body, rules)
    require(fields, *rules)
    return fields


def _number(value: str | None) -> int | None:
    return None if value is None else int(value)
