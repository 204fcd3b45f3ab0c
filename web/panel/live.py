"""Live: every room someone is in now, with its participants, kept current by server-sent events
from the room event stream; and the operator's actions on them (web.services.room_command, the
API's path too).

The stream answers what is new and then ends (within a second when nothing happens); the page's
script opens it again from the last event it saw. So a stream never holds a web worker for long:
the sync workers of `make run` keep serving the page's own requests (see static/live.js).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import redis
from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from conference.fields import FieldError
from conference.keypad import MAX_NUMBER
from store import live
from store.accounts import Role
from store.projected import NotFoundError
from web import rooms as room_actions
from web.access import requires
from web.panel import EVENTS_CLIENT, blueprint
from web.services import PARTICIPANT_OPS, ROOM_OPS, InviteRefusedError, NotLiveError, services
from web.sounds import library

HOLD_MS = 1000  # how long the stream waits for an event before ending
RETRY_MS = 200
TALKING_LOOKBACK = 500  # events read back to know who talks when the page is drawn
_STREAM_ID = re.compile(r"^[0-9]{1,20}-[0-9]{1,20}$")


def active_rooms(client: redis.Redis) -> list[dict[str, Any]]:
    """Every room with participants now: numbered rooms, local conferences, # calls, scheduled ones."""
    numbers = live.rooms_with_participants(client)
    names = {room.number: room.name for room in services().rooms.list()}
    talking = talking_now(client) if numbers else {}
    recorded = live.recordings_now(client) if numbers else {}
    found = []
    for number in numbers:
        people = live.participants(client, number)
        if people:
            for person in people:
                person["joined"] = _clock(person.get("joined_at"))
                person["talking"] = talking.get(str(person.get("id")), False)
            found.append({"number": number, "name": names.get(number, ""), "participants": people,
                          "recording": number in recorded})
    return found


def talking_now(client: redis.Redis) -> dict[str, bool]:
    """Who talks now, by each participant's newest talking event among the recent ones (a page
    loaded mid-call shows it at once, not only at the next change)."""
    found: dict[str, bool] = {}
    recent: Any = client.xrevrange(live.EVENTS, count=TALKING_LOOKBACK)
    for _entry_id, fields in recent or []:
        kind = fields.get("type")
        if kind in ("talking", "not_talking"):
            found.setdefault(str(fields.get("participant")), kind == "talking")
    return found


def _clock(moment: Any) -> str:
    if not isinstance(moment, (int, float)):
        return ""
    return datetime.fromtimestamp(moment, UTC).strftime("%H:%M:%S UTC")


def _last_event(client: redis.Redis) -> str:
    newest = client.xrevrange(live.EVENTS, count=1)
    return str(newest[0][0]) if newest else "0-0"


@blueprint.get("/live")
@requires(Role.OPERATOR)
def live_rooms() -> ResponseReturnValue:
    return _page()


def _page(errors: dict[str, dict[str, str]] | None = None, typed: dict[str, str] | None = None,
          status: int = 200) -> ResponseReturnValue:
    """The page; `errors`: room -> field -> what to say next to it, `typed`: room -> the number typed."""
    client = services().client
    after = _last_event(client)  # read first: an event between the two reads is shown twice, not lost
    return render_template("live.html", rooms=active_rooms(client), after=after, sounds=library().list(),
                           errors=errors or {}, typed=typed or {}, max_number=MAX_NUMBER), status


@blueprint.get("/live/rooms")
@requires(Role.OPERATOR)
def live_fragment() -> ResponseReturnValue:
    """The rooms part of the page, which the script swaps in when someone joins, leaves or is muted."""
    return render_template("live_rooms.html", rooms=active_rooms(services().client), sounds=library().list(),
                           errors={}, typed={}, max_number=MAX_NUMBER)


@blueprint.get("/live/events")
@requires(Role.OPERATOR)
def live_events() -> ResponseReturnValue:
    sent = request.headers.get("Last-Event-ID") or request.args.get("after", "")
    after = sent if _STREAM_ID.match(sent) else "$"
    client: redis.Redis = current_app.extensions[EVENTS_CLIENT]
    found: Any = client.xread({live.EVENTS: after}, count=200, block=HOLD_MS)
    entries = [(str(entry_id), dict(fields)) for _, batch in found or [] for entry_id, fields in batch]
    return Response(_stream(entries), mimetype="text/event-stream",
                    headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


def _stream(entries: list[tuple[str, dict[str, str]]]) -> Iterator[str]:
    yield f"retry: {RETRY_MS}\n\n"
    for entry_id, fields in entries:
        yield f"id: {entry_id}\ndata: {json.dumps(fields)}\n\n"
    if not entries:
        yield ": nothing new\n\n"


def _act(room: str, op: str, participant: str = "") -> ResponseReturnValue:
    try:
        services().room_command(room, op, participant)
    except NotLiveError:
        flash(_("Room %(room)s is not live now.", room=room), "error")
    except NotFoundError:
        flash(_("That participant is not in room %(room)s now.", room=room), "error")
    else:
        flash(_("Sent: %(action)s.", action=action_name(op)))
    return redirect(url_for("panel.live_rooms"))


def action_name(op: str) -> str:
    return {"mute": _("mute"), "unmute": _("unmute"), "drop": _("drop"), "lock": _("lock"),
            "unlock": _("unlock"), "end": _("end the conference"), "start_recording": _("start recording"),
            "stop_recording": _("stop recording"), "unmute_hand": _("let the first raised hand speak"),
            "admit": _("let in"), "admit_next": _("let in the next from the lobby"),
            "mute_all": _("mute all but the moderators"), "unmute_all": _("unmute all"),
            "pause_recording": _("pause recording"), "resume_recording": _("resume recording"),
            "stop_whisper": _("stop the whisper")}[op]


@blueprint.post("/live/<room>/play")
@requires(Role.OPERATOR)
def play_to_room(room: str) -> ResponseReturnValue:
    """A library sound to everyone in the room, by the API's path (web.rooms.play)."""
    chosen = request.form.get("sound_id", "").strip()
    try:
        typed = int(chosen) if chosen.isascii() and chosen.isdigit() and len(chosen) <= 19 else chosen
        room_actions.play(room, {"sound_id": typed})
    except FieldError:
        return _page({room: {"sound_id": _("Choose a sound of the library.")}}, status=400)
    except NotLiveError:
        flash(_("Room %(room)s is not live now.", room=room), "error")
    else:
        flash(_("Sent: %(action)s.", action=_("play a sound")))
    return redirect(url_for("panel.live_rooms"))


@blueprint.post("/live/<room>/invite")
@requires(Role.OPERATOR)
def invite_to_room(room: str) -> ResponseReturnValue:
    """A number called into the room with an operator's rights, by the API's path (web.rooms.invite)."""
    number = request.form.get("number", "").strip()
    try:
        room_actions.invite(room, {"number": number})
    except FieldError:
        said = _("Digits only (a + may come first), up to %(max)d.", max=MAX_NUMBER)
    except InviteRefusedError as refused:
        said = {403: _("Operators may invite rooms and extensions only: calling numbers outside is switched off."),
                482: _("This number leads back to this room.")}.get(
                    refused.code, _("No room, extension or outside route has this number."))
    except NotLiveError:
        flash(_("Room %(room)s is not live now.", room=room), "error")
        return redirect(url_for("panel.live_rooms"))
    else:
        flash(_("Sent: %(action)s.", action=_("invite %(number)s", number=number)))
        return redirect(url_for("panel.live_rooms"))
    return _page({room: {"number": said}}, {room: number[:40]}, status=400)


@blueprint.post("/live/<room>/participants/<participant>/<op>")
@requires(Role.OPERATOR)
def participant_action(room: str, participant: str, op: str) -> ResponseReturnValue:
    if op not in PARTICIPANT_OPS:
        abort(404)
    return _act(room, op, participant)


@blueprint.post("/live/<room>/<op>")
@requires(Role.OPERATOR)
def room_action(room: str, op: str) -> ResponseReturnValue:
    if op not in ROOM_OPS:
        abort(404)
    return _act(room, op)
