"""/api/v1/rooms: thin views; rules live in conference.rooms, storage in store.rooms.

Failures are exceptions (FieldError, NotFoundError, ...) that web.errors
turns into the one JSON error shape.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from flask import jsonify, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import BadRequest

from conference.address import Kind, RoomAddress
from conference.fields import FieldError
from conference.operator import validate_invite, validate_play, validate_whisper
from conference.rooms import PIN_LISTS, RoomSettings, validate_create, validate_patch
from store import live
from store.accounts import Account, Role
from store.projected import NotFoundError
from web.access import ApiBlueprint, requires
from web.apidoc import documented
from web.auth import principal
from web.errors import ApiError
from web.services import PARTICIPANT_OPS, ROOM_OPS, NotLiveError, services
from web.sounds import check_sound, library

blueprint = ApiBlueprint("rooms", __name__, role=Role.OPERATOR)
CHANGING = "It changed under this request too many times in a row (conflict); retry."
_NOT_LIVE = {404: "No such room, or nobody is in it now, so no node holds it (not_found)."}
_NOT_LIVE_OR_NOBODY = {404: "No such room, nobody is in it now, or no such participant in it (not_found)."}


def public(room: RoomSettings) -> dict[str, Any]:
    """A room as the API shows it: PIN hashes never leave the server."""
    data = room.as_dict()
    data["has_user_pin"] = data.pop("user_pin") is not None
    data["has_admin_pin"] = data.pop("admin_pin") is not None
    for name in PIN_LISTS:
        data[f"{name}_count"] = len(data.pop(name))
    return data


def json_body() -> Any:
    if not request.is_json:
        raise ApiError(415, "unsupported_media_type", "send the body as JSON, with Content-Type: application/json")
    try:
        return request.get_json()
    except BadRequest as exc:
        raise ApiError(400, "bad_request", "the body is not valid JSON") from exc


def with_known_sounds(settings: RoomSettings, current: RoomSettings | None = None) -> RoomSettings:
    for field in ("greeting_sound_id", "music_sound_id"):
        check_sound(field, getattr(settings, field), getattr(current, field) if current else None)
    return settings


@blueprint.get("/rooms")
@documented("List rooms", ["Room"], about="Shorter numbers first, then in digit order (9 before 10).")
def list_rooms() -> ResponseReturnValue:
    return jsonify([public(room) for room in services().rooms.list()])


def create(payload: Any) -> RoomSettings:
    """A new room from a payload (the API's JSON, the panel's form), by the same rules."""
    settings = with_known_sounds(validate_create(payload))
    services().check_number_free(settings.number)
    return services().rooms.create(settings)


def update(number: str, payload: Any) -> RoomSettings:
    return services().rooms.update(number, lambda current: with_known_sounds(validate_patch(current, payload),
                                                                               current))


@blueprint.post("/rooms")
@documented("Create a room", "Room", status=201, body="RoomCreate",
            errors={409: "The number is taken by a room, an extension or a service (duplicate, field number)."})
def create_room() -> ResponseReturnValue:
    room = create(json_body())
    return jsonify(public(room)), 201, {"Location": url_for(".get_room", number=room.number)}


@blueprint.get("/rooms/<number>")
@documented("One room", "Room")
def get_room(number: str) -> ResponseReturnValue:
    return jsonify(public(services().rooms.get(number)))


@blueprint.patch("/rooms/<number>")
@documented("Change some settings of a room", "Room", body="RoomPatch", errors={409: CHANGING})
def patch_room(number: str) -> ResponseReturnValue:
    return jsonify(public(update(number, json_body())))


@blueprint.delete("/rooms/<number>")
@documented("Delete a room", status=204, errors={409: CHANGING})
def delete_room(number: str) -> ResponseReturnValue:
    services().rooms.delete(number)
    return "", 204


# Rooms nobody configured: an extension's *8 conference, a "#" call, a scheduled conference's room.
# Their key is the room's wire name (conference.address), e.g. /rooms/*8201/participants.


def _live_room(number: str) -> RoomAddress:
    """The room the URL names; 404 when it is no room name at all."""
    where = RoomAddress.parse(number)
    if where is None or where.kind == Kind.DIAL_IN:
        raise NotFoundError("room", number)
    return where


def in_room(account: Account, view_args: dict[str, Any]) -> bool:
    """A user sees a room's roster while its extension (as Kamailio vouched) is in the room, or the
    room is its own *8 conference. Any other room answers 403, a room that does not exist too."""
    where = RoomAddress.parse(str(view_args.get("number", "")))
    if account.role is not Role.USER or where is None or where.kind == Kind.DIAL_IN:
        return False
    if where.kind == Kind.LOCAL and where.id == account.name:
        return True
    return any(p.get("extension") == account.name for p in live.participants(services().client, str(where)))


def moderates(account: Account, view_args: dict[str, Any]) -> bool:
    """A user acts on the participants of its own *8 conference (it moderates it by phone too) and of
    the "#" calls its extension is in; of no numbered or scheduled room (their moderators and owners
    have their own paths: PINs, the conference's API)."""
    where = RoomAddress.parse(str(view_args.get("number", "")))
    if account.role is not Role.USER or where is None:
        return False
    if where.kind == Kind.LOCAL:
        return where.id == account.name
    return where.kind == Kind.CALL and in_room(account, view_args)


def participant_command(number: str, participant: str, op: str) -> ResponseReturnValue:
    """Mute, unmute or drop one participant: sent to the bridge node, which acts within a moment."""
    if op in ("mute", "unmute") and _live_room(number).kind == Kind.CALL:
        raise ApiError(409, "conflict", 'a "#" call has nobody to mute: its participants can only be dropped')
    services().room_command(number, op, participant)
    return jsonify({"room": number, "participant": participant, "op": op}), 202


def room_command(number: str, op: str) -> ResponseReturnValue:
    """Lock (no newcomers), unlock or end a live room, start or stop recording it: sent to the bridge
    node holding it."""
    services().room_command(number, op)
    return jsonify({"room": number, "op": op}), 202


def play(number: str, payload: Any, participant: str = "") -> int:
    """Play a library sound to everyone in the live room, or to one participant only (the API's JSON,
    the panel's form); its id."""
    sound_id = validate_play(payload)
    if not library().exists(sound_id):
        raise FieldError("sound_id", "invalid_field", f"no sound {sound_id} in the library")
    services().room_command(number, "play", participant, value=str(sound_id))
    return sound_id


def whisper(number: str, participant: str, payload: Any) -> str:
    """Have a moderator of the live room talk to `participant` only; the moderator's id. The node's
    rules (conference.room) check the same again as they act."""
    by = validate_whisper(payload)
    if by == participant:
        raise FieldError("from", "invalid_field", "a moderator whispers to somebody else")
    if _live_room(number).kind == Kind.CALL:
        raise ApiError(409, "conflict", 'a "#" call has no moderators to whisper')
    services().participant(number, participant)  # 404 first: the room is not live, or the target not in it
    source = next((p for p in live.participants(services().client, number) if p.get("id") == by), None)
    if source is None or source.get("role") != "admin" or source.get("state") not in ("in_conference", "muted"):
        raise FieldError("from", "invalid_field", f"{by} is no moderator in the conference of room {number}")
    services().room_command(number, "whisper", participant, value=by)
    return by


def invite(number: str, payload: Any) -> str:
    """Call a number into the live room with an operator's rights (web.services.Services.invite)."""
    target = validate_invite(payload)
    services().invite(number, target)
    return target


@blueprint.post("/rooms/<number>/play")
@documented("Play a sound of the library to everyone in the conference (operator)", "LiveAction", status=202,
            body="PlaySound", errors={404: "No such room, or nobody is in it now (not_found)."})
def play_sound(number: str) -> ResponseReturnValue:
    sound_id = play(number, json_body())
    return jsonify({"room": number, "op": "play", "sound_id": sound_id}), 202


@blueprint.post("/rooms/<number>/participants/<participant>/play")
@documented("Play a sound of the library to one participant: only it hears the sound (operator; a user: in its own "
            "*8 conference)", "LiveAction", status=202, body="PlaySound",
            errors={**_NOT_LIVE_OR_NOBODY, 400: "No such sound (invalid_field, field sound_id)."})
@requires(Role.OPERATOR, unless=moderates)
def play_to_participant(number: str, participant: str) -> ResponseReturnValue:
    sound_id = play(number, json_body(), participant)
    return jsonify({"room": number, "participant": participant, "op": "play", "sound_id": sound_id}), 202


@blueprint.post("/rooms/<number>/participants/<participant>/whisper")
@documented("A moderator (from) talks to this participant only: the others stop hearing the moderator, who still "
            "hears the room, until stop_whisper (either of them) or either leaves. A moderator whispering is heard "
            "by its target even while muted (operator; a user: in its own *8 conference)", "LiveAction", status=202,
            body="Whisper", errors={**_NOT_LIVE_OR_NOBODY, 400: "from is no moderator in the conference, or is the "
                                    "participant itself (invalid_field, field from).",
                                    409: 'A "#" call, which has no moderators (conflict).'})
@requires(Role.OPERATOR, unless=moderates)
def whisper_to(number: str, participant: str) -> ResponseReturnValue:
    by = whisper(number, participant, json_body())
    return jsonify({"room": number, "participant": participant, "op": "whisper", "from": by}), 202


@blueprint.post("/rooms/<number>/invite")
@documented("Call a number into the room (operator). The number plan decides as for an operator: rooms and "
            "extensions (and their own forwarding); outside numbers only with [conferences] operator_outside_calls. "
            "The call goes through Kamailio", "LiveAction", status=202, body="InviteNumber",
            errors={403: "An outside number while operator_outside_calls is off (forbidden, field number).",
                    404: "No such room, or nobody is in it now (not_found)."})
def invite_number(number: str) -> ResponseReturnValue:
    target = invite(number, json_body())
    return jsonify({"room": number, "op": "invite", "number": target}), 202


_LIVE = {
    "mute": "Mute a participant: the others stop hearing it",
    "unmute": "Unmute a participant",
    "drop": "Hang up on a participant",
    "admit": "Let a caller in from the lobby (its state is lobby)",
    "admit_next": "Let in the caller who has waited in the lobby longest (as a moderator's *97). Nobody waiting: "
                  "nothing happens",
    "lock": "Lock the room: nobody else may join",
    "unlock": "Unlock the room",
    "end": "End the conference: everyone is hung up on",
    "start_recording": "Start recording the conference (everyone in it hears the recording notice); the file is "
                       "listed under /recordings once stopped or once the room empties",
    "stop_recording": "Stop recording the conference: the file so far is finished and filed",
    "pause_recording": "Pause recording the conference: nothing is recorded until resume_recording, and the file "
                       "holds the recorded spans back to back (no silence for the pause). Not recording: nothing "
                       "happens",
    "resume_recording": "Resume a paused recording, into the same file",
    "unmute_hand": "Unmute the participant whose hand has been up longest (as a moderator's *96); it hears "
                   "that it may speak. Nobody with a hand up: nothing happens",
    "mute_all": "Mute every participant but the moderators (as a moderator's *92): the moderators stay heard",
    "unmute_all": "Unmute every participant but the moderators (whoever muted them)",
    "stop_whisper": "End a whisper to or from this participant: the moderator is heard by everyone again",
}
_OWN_LIVE = ("The room may be a numbered room, or one nobody configured, by its name: an extension's *8 "
             "conference (*8201), a \"#\" call (call-<key>), a scheduled conference (conf-<code>). A user may act "
             "on its own *8 conference and on the \"#\" calls its extension is in.")
# One literal path per action (not a converter), so that the document names each.
for _op in sorted(PARTICIPANT_OPS):
    blueprint.add_url_rule(f"/rooms/<number>/participants/<participant>/{_op}", f"participant_{_op}", requires(
        Role.OPERATOR, unless=moderates)(documented(
            f"{_LIVE[_op]} (operator; a user: in its own *8 conference and \"#\" calls)", "LiveAction", status=202,
            errors={**_NOT_LIVE_OR_NOBODY, 409: 'Muting in a "#" call, which can only drop (conflict).'},
            about=_OWN_LIVE)(partial(participant_command, op=_op))), methods=["POST"])
for _op in sorted(ROOM_OPS):
    blueprint.add_url_rule(f"/rooms/<number>/{_op}", f"room_{_op}", documented(
        f"{_LIVE[_op]} (operator)", "LiveAction", status=202, errors=_NOT_LIVE)(partial(room_command, op=_op)),
        methods=["POST"])


@blueprint.get("/live-rooms")
@documented("The rooms somebody is in now, with their rosters (operator: all; a user: those its extension is "
            "in, and its own *8 conference)", ["LiveRoom"],
            about="How a user finds the name of its \"#\" call (call-<key>) for the paths above.")
@requires(Role.USER)
def live_rooms() -> ResponseReturnValue:
    account = principal().account
    found = []
    for name in live.rooms_with_participants(services().client):
        where = RoomAddress.parse(name)
        if where is None or where.kind == Kind.DIAL_IN:
            continue
        if account.role.includes(Role.OPERATOR) or in_room(account, {"number": name}):
            people = live.participants(services().client, name)
            if people:
                found.append({"room": name, "kind": str(where.kind), "participants": people})
    return jsonify(found)


@blueprint.get("/rooms/<number>/participants")
@documented("Who is in the room now, and whom it calls (operator; a user: a room its extension is in)",
            ["Participant"], errors={404: "No such room, or one nobody configured that nobody is in now (not_found)."},
            about="As the bridge nodes report it; callers still in the entry prompts are not listed. " + _OWN_LIVE)
@requires(Role.OPERATOR, unless=in_room)
def room_participants(number: str) -> ResponseReturnValue:
    """Who is in the room now, as the bridge nodes report it: role, join time, state (conference.roster)."""
    where = _live_room(number)
    people = live.participants(services().client, str(where))
    if not people and where.kind != Kind.ROOM:
        raise NotLiveError(number)  # a room nobody configured exists only while somebody is in it
    if where.kind == Kind.ROOM:
        services().rooms.get(number)  # 404 for an unknown room
    return jsonify(people)
