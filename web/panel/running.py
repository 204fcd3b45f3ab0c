"""A conference's own page in the portal: its details (the passwords to its owner), and while it
runs the live roster (who is in, talking, muted, their call quality; whom it called in vain and
why) with the owner's actions: add a participant, mute, drop, extend, lock, end. Everything goes
through web.conferences, the API's path (to the node holding its room: store.live.room_command).
The roster part is redrawn by static/portal.js from /roster every second or so."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from conference.fields import FieldError
from conference.keypad import MAX_NUMBER
from conference.roster import Reason
from conference.schedule import AUTO_EXTEND_STEPS, State
from web import conferences
from web.conferences import OWN, meetings
from web.errors import ApiError
from web.panel import blueprint
from web.panel.live import action_name, talking_now
from web.panel.portal import shown
from web.services import PARTICIPANT_OPS, InviteRefusedError, NotLiveError, services

QUALITY = ("mos", "loss_percent", "jitter_ms", "rtt_ms")


def said(why: str) -> str:
    """Why a called number did not come (conference.roster.Reason), in words."""
    words: dict[str, str] = {
        Reason.BUSY: _("busy"), Reason.UNAVAILABLE: _("unavailable"), Reason.NO_ANSWER: _("no answer"),
        Reason.DECLINED: _("declined"), Reason.NO_SUCH_NUMBER: _("no such number"),
        Reason.NOT_ALLOWED: _("not allowed"), Reason.NO_ROUTE: _("no route now")}
    return words.get(why, _("failed"))  # a StrEnum is its string: the word looks it up


def _roster(code: str) -> dict[str, Any]:
    now = conferences.roster(code)
    talking = talking_now(services().client)
    for person in now["participants"]:
        person["talking"] = talking.get(str(person.get("id")), False)
        person["quality"] = {name: person.get(name) for name in QUALITY if person.get(name) is not None}
    for call in now["unanswered"]:
        call["said"] = said(str(call["reason"]))
    return now


@blueprint.get("/portal/conferences/<code>")
@OWN
def conference_page(code: str) -> ResponseReturnValue:
    meeting = meetings().get(code)
    state = meeting.state(conferences.now())
    return render_template("portal_conference.html", conference=shown(meeting), current=state is State.CURRENT,
                           roster=_roster(code) if state is State.CURRENT else None,
                           attendance=meetings().attendance(code) if state is State.PAST else [],
                           steps=[s for s in AUTO_EXTEND_STEPS if s], max_number=MAX_NUMBER,
                           errors={}, typed="")


@blueprint.get("/portal/conferences/<code>/roster")
@OWN
def conference_roster(code: str) -> ResponseReturnValue:
    meetings().get(code)
    return render_template("portal_roster.html", code=code, roster=_roster(code))


def _back(code: str) -> ResponseReturnValue:
    return redirect(url_for("panel.conference_page", code=code))


def _sent(code: str, what: str) -> ResponseReturnValue:
    flash(_("Sent: %(action)s.", action=what))
    return _back(code)


def _refused(code: str, err: Exception) -> ResponseReturnValue:
    if isinstance(err, NotLiveError):
        flash(_("Nobody is in the conference now."), "error")
    else:
        flash(_("The conference is not running now."), "error")
    return _back(code)


@blueprint.post("/portal/conferences/<code>/participants/<participant>/<op>")
@OWN
def conference_participant(code: str, participant: str, op: str) -> ResponseReturnValue:
    if op not in PARTICIPANT_OPS:
        abort(404)
    try:
        conferences.participant_command(code, participant[:64], op)
    except ApiError as err:
        return _refused(code, err)
    return _sent(code, action_name(op))


@blueprint.post("/portal/conferences/<code>/invite")
@OWN
def conference_invite(code: str) -> ResponseReturnValue:
    number = request.form.get("number", "").strip()
    try:
        conferences.invite(code, {"number": number})
    except FieldError:
        said = _("Digits only (a + may come first), up to %(max)d.", max=MAX_NUMBER)
    except InviteRefusedError as refused:
        said = {403: _("You may not call this number from here."),
                482: _("This number leads back to this room.")}.get(
                    refused.code, _("No room, extension or outside route has this number."))
    except ApiError as err:
        return _refused(code, err)
    else:
        return _sent(code, _("invite %(number)s", number=number))
    meeting = meetings().get(code)
    return render_template("portal_conference.html", conference=shown(meeting), current=True, roster=_roster(code),
                           attendance=[], steps=[s for s in AUTO_EXTEND_STEPS if s], max_number=MAX_NUMBER,
                           errors={"number": said}, typed=number[:40]), 400


@blueprint.post("/portal/conferences/<code>/extend")
@OWN
def conference_extend(code: str) -> ResponseReturnValue:
    minutes = request.form.get("minutes", "")
    try:
        conferences.extend(code, {"minutes": int(minutes) if minutes.isascii() and minutes.isdigit()
                                  and len(minutes) <= 4 else minutes})
    except FieldError:
        flash(_("Choose how many minutes."), "error")
        return _back(code)
    except ApiError as err:
        return _refused(code, err)
    return _sent(code, _("extend by %(minutes)s minutes", minutes=minutes))


@blueprint.post("/portal/conferences/<code>/<op>")
@OWN
def conference_action(code: str, op: str) -> ResponseReturnValue:
    try:
        if op in ("lock", "unlock"):
            conferences.lock(code, op == "lock")
        elif op == "end":
            conferences.end(code)
        else:
            abort(404)
    except ApiError as err:
        return _refused(code, err)
    return _sent(code, action_name(op))
