"""/api/v1/conferences, /api/v1/templates and /api/v1/history: scheduled conferences (seeds 001, 004).

Rules in conference.schedule, storage in store.conferences; what happens at
the start, the end and in the mail is the worker's (workers.meetings), told
through `services().meetings_changed`.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from functools import partial
from typing import Any

from flask import current_app, jsonify, request, url_for
from flask.typing import ResponseReturnValue

from conference import schedule
from conference.address import scheduled
from conference.fields import FieldError, Rule, boolean, clean, decimal, integer, one_of, require, text
from conference.invitations import Mail
from conference.operator import validate_invite
from conference.schedule import Meeting, State
from store import live
from store.accounts import Account, Role
from store.conferences import MeetingRepository
from store.projected import NotFoundError
from web.access import ApiBlueprint, requires
from web.apidoc import Body, documented
from web.auth import principal
from web.errors import ApiError
from web.rooms import json_body
from web.services import PARTICIPANT_OPS, services
from web.sounds import check_sound

blueprint = ApiBlueprint("conferences", __name__, role=Role.OPERATOR)
EXTENSION = "kamconf.conferences"
STATE = ("Not in the state this needs (conflict): edits and cancelling only while scheduled, repeat only when past, "
         "lock/extend/end only while current.")
MAX_TEMPLATE_NAME = 100
MAX_PERSONAL_TEMPLATES = 100  # per employee: its own few, not a store
LOCK = {"locked": boolean().means("true: nobody else may enter; false: entry is open again")}
EXTEND = {"minutes": integer(1, 24 * 60).means("How much later it ends")}
# A template is a conference's fields (its date and times are not kept) under a name.
TEMPLATE_NAME = {"name": text(MAX_TEMPLATE_NAME, 1).means("The template's name; unique")}
FROM_TEMPLATE = {"template": text(MAX_TEMPLATE_NAME, 1).means(
    "Start from this template's fields (a user's own first, then the shared ones)")}
TEMPLATE_DEFAULT = {"default": boolean().means("A user's: its default template (the portal's form starts with it)")}
LISTING = {"state": one_of(*State), "year": decimal(1970, 9998).means("Of the local start date"),
           "month": decimal(1, 12).means("Needs a year")}
_DAY = dataclasses.replace(schedule.RULES["date"], expected="a date, YYYY-MM-DD")
PERIOD = {"since": _DAY.means("The first day (UTC)"), "until": _DAY.means("The day after the last (UTC)")}


def own_conference(account: Account, view_args: dict[str, Any]) -> bool:
    """A user's own conference: one whose owner is its extension. Another's and an unknown code
    answer alike (403), so that codes cannot be probed."""
    if account.role is not Role.USER:
        return False
    try:
        meeting = meetings().get(str(view_args.get("code", "")))
    except NotFoundError:
        return False
    return meeting.owner.number == account.name


def owner_only(account: Account) -> str | None:
    """Whose conferences the caller sees: a user its own (its extension's), others all (None)."""
    return account.name if account.role is Role.USER else None


def _visible(found: list[Meeting]) -> list[Meeting]:
    owner = owner_only(principal().account)
    return found if owner is None else [m for m in found if m.owner.number == owner]


def _as_owner(body: Any) -> Any:
    """A user schedules for itself: the owner is its extension (filled in when not sent)."""
    owner = owner_only(principal().account)
    if owner is None or not isinstance(body, dict):
        return body
    sent = body.get("owner")
    if sent is None:  # its extension, with its profile's address and language
        account = principal().account
        profile = {"email": account.email, "language": account.language}
        return {**body, "owner": {"number": owner, **{k: v for k, v in profile.items() if v}}}
    if not isinstance(sent, dict) or sent.get("number") != owner:
        raise ApiError(403, "forbidden", f"a user schedules its own conferences only (owner number {owner})", "owner")
    return body


OWN = requires(Role.OPERATOR, unless=own_conference)


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
        "guest_password": meeting.guest_password, "open_dial_in": meeting.open_dial_in,
        "max_participants": meeting.max_participants,
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
@documented("Scheduled conferences, earliest first (a user: its own)", "Conferences", query=LISTING)
@requires(Role.USER)
def list_conferences() -> ResponseReturnValue:
    asked = clean(request.args.to_dict(), LISTING)
    state, year, month = asked.get("state"), _number(asked.get("year")), _number(asked.get("month"))
    if month is not None and year is None:
        raise ApiError(400, "invalid_field", "month needs a year", "month")
    at = now()
    everything = _visible(meetings().listed(None, year, month, at))
    return jsonify({"counts": schedule.counts(everything, at),
                    "conferences": [public(m, at) for m in everything if state is None or m.state(at) == state]})


@blueprint.post("/conferences")
@documented("Schedule a conference; everyone with an address is mailed an invitation with a calendar entry",
            "Conference", status=201, body="ConferenceCreate",
            errors={403: "A user naming another owner than its extension (forbidden, field owner).",
                    404: "No such template (not_found)."},
            about="A user's conference is its own: owner defaults to its extension, and may name no other.")
@requires(Role.USER)
def create_conference() -> ResponseReturnValue:
    meeting = create(json_body())
    return jsonify(public(meeting, now())), 201, {"Location": url_for(".get_conference", code=meeting.code)}


def create(body: Any) -> Meeting:
    """A new conference from a payload (the API's JSON, the portal's form), by the same rules."""
    if isinstance(body, dict) and "template" in body:
        name = clean({"template": body.pop("template")}, FROM_TEMPLATE)["template"]
        fields = template(name)
        if owner_only(principal().account) is not None:
            fields.pop("owner", None)  # a shared template's owner: a user's conference is its own
        body = {**fields, **body}
    body = _as_owner(body)
    at = now()
    meeting = meetings().create(lambda code: _with_known_greeting(schedule.validate(body, code, at)))
    services().meetings_changed()
    return meeting


@blueprint.get("/conferences/<code>")
@documented("One conference", "Conference")
@OWN
def get_conference(code: str) -> ResponseReturnValue:
    return jsonify(public(meetings().get(code), now()))


@blueprint.patch("/conferences/<code>")
@documented("Change it (while scheduled)", "Conference", body="ConferencePatch", errors={409: STATE})
@OWN
def patch_conference(code: str) -> ResponseReturnValue:
    return jsonify(public(update(code, json_body()), now()))


def update(code: str, body: Any) -> Meeting:
    """Change a scheduled conference (the API's JSON, the portal's form); its people get an update mail."""
    at = now()

    def change(current: Meeting) -> Meeting:
        in_state(current, State.SCHEDULED)
        changed = _with_known_greeting(schedule.validate(_as_owner(body), code, at, current), current)
        return schedule.edited(current, changed)

    meeting = meetings().update(code, change, Mail.UPDATE)
    services().meetings_changed()
    return meeting


@blueprint.delete("/conferences/<code>")
@documented("Cancel it (while scheduled); the participants are mailed the cancellation", status=204,
            errors={409: STATE})
@OWN
def cancel_conference(code: str) -> ResponseReturnValue:
    cancel(code)
    return "", 204


def cancel(code: str) -> None:
    meetings().update(code, lambda m: schedule.cancelled(in_state(m, State.SCHEDULED)), Mail.CANCELLATION)
    services().meetings_changed()


@blueprint.post("/conferences/<code>/repeat")
@documented("A past conference again, today at its times; the body (optional) changes fields", "Conference",
            status=201, body=Body("ConferencePatch", required=False), errors={409: STATE})
@OWN
def repeat_conference(code: str) -> ResponseReturnValue:
    """A past conference again, today at its times (seed 001); the body may change any field."""
    past = in_state(meetings().get(code), State.PAST)
    body = json_body() if request.content_length else {}
    if not isinstance(body, dict):
        raise FieldError("", "bad_request", "the body must be a JSON object")
    payload = _as_owner({**schedule.repeat_payload(past, past.local(now()).date()), **body})
    at = now()
    meeting = meetings().create(lambda new_code: _with_known_greeting(schedule.validate(payload, new_code, at)))
    services().meetings_changed()
    return jsonify(public(meeting, at)), 201, {"Location": url_for(".get_conference", code=meeting.code)}


@blueprint.post("/conferences/<code>/lock")
@documented("Lock or unlock entry", "Conference", body="Lock", errors={409: STATE})
@OWN
def lock_conference(code: str) -> ResponseReturnValue:
    return jsonify(public(lock(code, _fields(json_body(), LOCK)["locked"]), now()))


def lock(code: str, locked: bool) -> Meeting:
    meeting = meetings().update(code, lambda m: schedule.locked(in_state(m, State.CURRENT), locked))
    services().tell_bridge("lock", code, locked="1" if locked else "0")
    services().meetings_changed()
    return meeting


@blueprint.post("/conferences/<code>/extend")
@documented("Move the end on", "Conference", body="Extend", errors={409: STATE})
@OWN
def extend_conference(code: str) -> ResponseReturnValue:
    return jsonify(public(extend(code, json_body()), now()))


def extend(code: str, body: Any) -> Meeting:
    minutes = _fields(body, EXTEND)["minutes"]
    meeting = meetings().update(code, lambda m: schedule.extended(in_state(m, State.CURRENT), minutes))
    services().tell_bridge("extended", code, minutes=str(minutes))
    services().meetings_changed()
    return meeting


@blueprint.post("/conferences/<code>/end")
@documented("End it now", "Conference", errors={409: STATE})
@OWN
def end_conference(code: str) -> ResponseReturnValue:
    return jsonify(public(end(code), now()))


def end(code: str) -> Meeting:
    at = now()
    meeting = meetings().update(code, lambda m: schedule.ended(in_state(m, State.CURRENT), at))
    services().tell_bridge("end", code)
    services().room_event("conference_ended", str(meeting.address), code=code, reason="ended by request")
    services().meetings_changed()
    return meeting


@blueprint.get("/conferences/<code>/mail")
@documented("What was mailed about it and whether it went", ["Mail"])
@OWN
def conference_mail(code: str) -> ResponseReturnValue:
    """What was mailed about it, to whom, and whether it went."""
    meetings().get(code)
    return jsonify(meetings().outbox(code))


@blueprint.get("/conferences/<code>/attendance")
@documented("Who joined, when, how (called or dial-in), and when they left", ["Attendance"])
@OWN
def conference_attendance(code: str) -> ResponseReturnValue:
    meetings().get(code)  # 404 for an unknown code
    return jsonify(meetings().attendance(code))


@blueprint.get("/history")
@documented("Conferences that started in [since, until), with attendance (a user: its own)", ["Attended"],
            query=PERIOD, required_query=tuple(PERIOD))
@requires(Role.USER)
def history() -> ResponseReturnValue:
    """Conferences that started in [since, until) with who attended, when and how (seed 004)."""
    asked = clean(request.args.to_dict(), PERIOD)
    require(asked, *PERIOD)
    since, until = (date.fromisoformat(asked[name]) for name in PERIOD)
    at = now()
    first = datetime.combine(since, datetime.min.time(), UTC)
    last = datetime.combine(until, datetime.min.time(), UTC)
    return jsonify([{**public(m, at), "attendance": meetings().attendance(m.code)}
                    for m in _visible(meetings().between(first, last))])


def template(name: str) -> dict[str, Any]:
    """A template's fields: a user's own of that name, else the shared one."""
    account = principal().account
    if account.role is Role.USER:
        own = {t["name"]: t["fields"] for t in meetings().personal_templates(account.id)}
        if name in own:
            return dict(own[name])
    return meetings().template(name)


@blueprint.get("/templates")
@documented("Conference templates: a user's own, else the shared ones", ["Template"])
@requires(Role.USER)
def list_templates() -> ResponseReturnValue:
    account = principal().account
    if account.role is Role.USER:
        return jsonify(meetings().personal_templates(account.id))
    return jsonify([{**t, "default": False} for t in meetings().templates()])


@blueprint.post("/templates")
@documented("Save conference fields under a name (date and times are not kept): a user's are its own (saving "
            "a name again replaces it), others' are shared", "Template", status=201, body="TemplateCreate",
            errors={409: "A shared template's name is taken (duplicate), or a user has as many templates as it may "
                         "(conflict)."})
@requires(Role.USER)
def create_template() -> ResponseReturnValue:
    name, fields, default = save_template(json_body())
    return jsonify({"name": name, "fields": fields, "default": default}), 201


def save_template(body: Any) -> tuple[str, dict[str, Any], bool]:
    """A template from a payload (the API's JSON, the portal's form): (name, fields, default)."""
    named = _fields({"name": body.get("name")} if isinstance(body, dict) else body, TEMPLATE_NAME)["name"]
    default = bool(clean({"default": body.pop("default", False)}, TEMPLATE_DEFAULT)["default"])
    del body["name"]
    fields = {k: v for k, v in body.items() if k not in ("date", "start", "end", "immediate")}
    # Checked as a conference would be (with a date far ahead), so a template always makes one.
    probe = _as_owner({"date": "2999-01-01", "start": "10:00", "end": "11:00", **fields})
    schedule.validate(probe, "0", now(), template=True)
    account = principal().account
    if account.role is Role.USER:
        held = [t["name"] for t in meetings().personal_templates(account.id)]
        if named not in held and len(held) >= MAX_PERSONAL_TEMPLATES:
            raise ApiError(409, "conflict", f"an employee keeps at most {MAX_PERSONAL_TEMPLATES} templates", "name")
        meetings().save_personal_template(account.id, named, fields, default)
    else:
        meetings().save_template(named, fields)
    return named, fields, default and account.role is Role.USER


@blueprint.delete("/templates/<name>")
@documented("Delete a template (a user: one of its own)", status=204)
@requires(Role.USER)
def delete_template(name: str) -> ResponseReturnValue:
    account = principal().account
    if account.role is Role.USER:
        meetings().delete_personal_template(account.id, name)
    else:
        meetings().delete_template(name)
    return "", 204


# While it runs -------------------------------------------------------------------------------


def room_of(code: str) -> str:
    """The live room of the conference (where the bridge node mixes it)."""
    return str(scheduled(code))


def roster(code: str) -> dict[str, Any]:
    """Who is in it now (with their call quality once reported), and whom it called in vain."""
    room = room_of(code)
    people = live.participants(services().client, room)
    return {"participants": people,
            "unanswered": [call for call in live.failed_calls(services().client, room)
                           if not any(f":{call['number']}@" in str(p.get("caller", "")) or p.get("caller") ==
                                      call["number"] for p in people)]}


@blueprint.get("/conferences/<code>/participants")
@documented("Who is in it now, and who was called and did not answer (with the SIP status)", "Roster")
@OWN
def conference_participants(code: str) -> ResponseReturnValue:
    meetings().get(code)
    return jsonify(roster(code))


def conference_participant_command(code: str, participant: str, op: str) -> ResponseReturnValue:
    participant_command(code, participant, op)
    return jsonify({"room": room_of(code), "participant": participant, "op": op}), 202


def participant_command(code: str, participant: str, op: str) -> None:
    """Mute, unmute or drop one participant of a running conference, by the rooms' path."""
    in_state(meetings().get(code), State.CURRENT)
    services().room_command(room_of(code), op, participant)


_PARTICIPANT_OPS = {"mute": "Mute a participant", "unmute": "Unmute a participant", "drop": "Hang up on a participant",
                    "admit": "Let a caller in from the lobby",
                    "stop_whisper": "End a whisper to or from a participant"}
for _op in sorted(PARTICIPANT_OPS):
    blueprint.add_url_rule(
        f"/conferences/<code>/participants/<participant>/{_op}", f"conference_participant_{_op}",
        OWN(documented(f"{_PARTICIPANT_OPS[_op]} of the running conference", "LiveAction", status=202,
                       errors={409: STATE, 404: "Nobody is in it now (not_found)."})(
            partial(conference_participant_command, op=_op))), methods=["POST"])


@blueprint.post("/conferences/<code>/invite")
@documented("Call a number into the running conference now. An operator's invitation follows the number plan for "
            "operators; an owner's must also be a number its own extension may call", "LiveAction", status=202,
            body="InviteNumber", errors={409: STATE, 403: "The number may not be called (forbidden, field number).",
                                         404: "Nobody is in it now (not_found)."})
@OWN
def invite_to_conference(code: str) -> ResponseReturnValue:
    target = invite(code, json_body())
    return jsonify({"room": room_of(code), "op": "invite", "number": target}), 202


def invite(code: str, body: Any) -> str:
    """Call a number into the running conference (the API's JSON, the portal's form); the number."""
    in_state(meetings().get(code), State.CURRENT)
    target = validate_invite(body)
    services().invite(room_of(code), target, owner_only(principal().account))
    return target


def _with_known_greeting(meeting: Meeting, current: Meeting | None = None) -> Meeting:
    check_sound("greeting_sound_id", meeting.greeting_sound_id, current.greeting_sound_id if current else None)
    return meeting


def _fields(body: Any, rules: dict[str, Rule]) -> dict[str, Any]:
    """The body by `rules`, every field of which is required."""
    fields = clean(body, rules)
    require(fields, *rules)
    return fields


def _number(value: str | None) -> int | None:
    return None if value is None else int(value)
