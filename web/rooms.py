"""/api/v1/rooms: thin views; rules live in conference.rooms, storage in store.rooms.

Failures are exceptions (FieldError, NotFoundError, ...) that web.errors
turns into the one JSON error shape.
"""

from __future__ import annotations

from typing import Any

from flask import jsonify, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import BadRequest

from conference.fields import FieldError
from conference.operator import validate_invite, validate_play
from conference.rooms import RoomSettings, validate_create, validate_patch
from store import live
from store.accounts import Role
from web.access import ApiBlueprint
from web.errors import ApiError
from web.services import PARTICIPANT_OPS, ROOM_OPS, services
from web.sounds import check_greeting, library

blueprint = ApiBlueprint("rooms", __name__, role=Role.OPERATOR)


def public(room: RoomSettings) -> dict[str, Any]:
    """A room as the API shows it: PIN hashes never leave the server."""
    data = room.as_dict()
    data["has_user_pin"] = data.pop("user_pin") is not None
    data["has_admin_pin"] = data.pop("admin_pin") is not None
    return data


def json_body() -> Any:
    if not request.is_json:
        raise ApiError(415, "unsupported_media_type", "send the body as JSON, with Content-Type: application/json")
    try:
        return request.get_json()
    except BadRequest as exc:
        raise ApiError(400, "bad_request", "the body is not valid JSON") from exc


def with_known_greeting(settings: RoomSettings, current: RoomSettings | None = None) -> RoomSettings:
    check_greeting(settings.greeting_sound_id, current.greeting_sound_id if current else None)
    return settings


@blueprint.get("/rooms")
def list_rooms() -> ResponseReturnValue:
    return jsonify([public(room) for room in services().rooms.list()])


def create(payload: Any) -> RoomSettings:
    """A new room from a payload (the API's JSON, the panel's form), by the same rules."""
    settings = with_known_greeting(validate_create(payload))
    services().check_number_free(settings.number)
    return services().rooms.create(settings)


def update(number: str, payload: Any) -> RoomSettings:
    return services().rooms.update(number, lambda current: with_known_greeting(validate_patch(current, payload),
                                                                               current))


@blueprint.post("/rooms")
def create_room() -> ResponseReturnValue:
    room = create(json_body())
    return jsonify(public(room)), 201, {"Location": url_for(".get_room", number=room.number)}


@blueprint.get("/rooms/<number>")
def get_room(number: str) -> ResponseReturnValue:
    return jsonify(public(services().rooms.get(number)))


@blueprint.patch("/rooms/<number>")
def patch_room(number: str) -> ResponseReturnValue:
    return jsonify(public(update(number, json_body())))


@blueprint.delete("/rooms/<number>")
def delete_room(number: str) -> ResponseReturnValue:
    services().rooms.delete(number)
    return "", 204


def participant_command(number: str, participant: str, op: str) -> ResponseReturnValue:
    """Mute, unmute or drop one participant: sent to the bridge node, which acts within a moment."""
    services().room_command(number, op, participant)
    return jsonify({"room": number, "participant": participant, "op": op}), 202


def room_command(number: str, op: str) -> ResponseReturnValue:
    """Lock (no newcomers), unlock or end a live room, start or stop recording it: sent to the bridge
    node holding it."""
    services().room_command(number, op)
    return jsonify({"room": number, "op": op}), 202


def play(number: str, payload: Any) -> int:
    """Play a library sound to everyone in the live room (the API's JSON, the panel's form); its id."""
    sound_id = validate_play(payload)
    if not library().exists(sound_id):
        raise FieldError("sound_id", "invalid_field", f"no sound {sound_id} in the library")
    services().room_command(number, "play", value=str(sound_id))
    return sound_id


def invite(number: str, payload: Any) -> str:
    """Call a number into the live room with an operator's rights (web.services.Services.invite)."""
    target = validate_invite(payload)
    services().invite(number, target)
    return target


@blueprint.post("/rooms/<number>/play")
def play_sound(number: str) -> ResponseReturnValue:
    sound_id = play(number, json_body())
    return jsonify({"room": number, "op": "play", "sound_id": sound_id}), 202


@blueprint.post("/rooms/<number>/invite")
def invite_number(number: str) -> ResponseReturnValue:
    target = invite(number, json_body())
    return jsonify({"room": number, "op": "invite", "number": target}), 202


# One literal path per action (not a converter), as the OpenAPI document names them.
for _op in sorted(PARTICIPANT_OPS):
    blueprint.add_url_rule(f"/rooms/<number>/participants/<participant>/{_op}", f"participant_{_op}",
                           participant_command, methods=["POST"], defaults={"op": _op})
for _op in sorted(ROOM_OPS):
    blueprint.add_url_rule(f"/rooms/<number>/{_op}", f"room_{_op}", room_command, methods=["POST"],
                           defaults={"op": _op})


@blueprint.get("/rooms/<number>/participants")
def room_participants(number: str) -> ResponseReturnValue:
    """Who is in the room now, as the bridge nodes report it: role, join time, state."""
    services().rooms.get(number)  # 404 for an unknown room
    return jsonify(live.participants(services().client, number))
