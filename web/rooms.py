"""/api/v1/rooms: thin views over store.rooms and conference.rooms."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify, request
from flask.typing import ResponseReturnValue

from conference.rooms import FieldError, RoomSettings, validate_create, validate_patch
from store.rooms import RoomExistsError, RoomRepository, StoreUnavailableError
from web.errors import ApiError

blueprint = Blueprint("rooms", __name__)


def rooms() -> RoomRepository:
    return current_app.extensions["kamconf"].rooms


def public(room: RoomSettings) -> dict[str, Any]:
    """A room as the API shows it: PIN hashes never leave the server."""
    data = room.as_dict()
    data["has_user_pin"] = data.pop("user_pin") is not None
    data["has_admin_pin"] = data.pop("admin_pin") is not None
    return data


def json_body() -> Any:
    if not request.is_json:
        raise ApiError(415, "unsupported_media_type", "send a JSON body with Content-Type: application/json")
    body = request.get_json(silent=True)
    if body is None:
        raise ApiError(400, "bad_request", "the body is not valid JSON")
    return body


def found(number: str) -> RoomSettings:
    room = rooms().get(number)
    if room is None:
        raise ApiError(404, "not_found", f"no room {number}")
    return room


def write(change: Any, *args: Any) -> Any:
    """Run a repository change, turning its failures into API errors."""
    try:
        return change(*args)
    except RoomExistsError as exc:
        raise ApiError(409, "duplicate", "a room with this number exists", "number") from exc
    except StoreUnavailableError as exc:
        raise ApiError(503, "unavailable", f"{exc} is unavailable; nothing was changed") from exc


def validated(check: Any, *args: Any) -> RoomSettings:
    try:
        return check(*args)
    except FieldError as err:
        raise ApiError(400, err.error_id, err.message, err.field or None) from err


@blueprint.get("/rooms")
def list_rooms() -> ResponseReturnValue:
    return jsonify([public(room) for room in rooms().list()])


@blueprint.post("/rooms")
def create_room() -> ResponseReturnValue:
    room = write(rooms().create, validated(validate_create, json_body()))
    return jsonify(public(room)), 201, {"Location": f"/api/v1/rooms/{room.number}"}


@blueprint.get("/rooms/<number>")
def get_room(number: str) -> ResponseReturnValue:
    return jsonify(public(found(number)))


@blueprint.patch("/rooms/<number>")
def patch_room(number: str) -> ResponseReturnValue:
    room = write(rooms().update, validated(validate_patch, found(number), json_body()))
    return jsonify(public(room))


@blueprint.delete("/rooms/<number>")
def delete_room(number: str) -> ResponseReturnValue:
    found(number)
    write(rooms().delete, number)
    return "", 204
