"""The OpenAPI 3.1 description of /api/v1, served at /api/v1/openapi.json."""

from __future__ import annotations

from typing import Any

from conference.rooms import LANGUAGES, MAX_PARTICIPANTS

_DIGITS_PIN = {"type": ["string", "null"], "pattern": "^[0-9]{1,16}$",
               "description": "Digits; stored hashed and never returned. null removes it."}

ROOM_FIELDS: dict[str, Any] = {
    "number": {"type": "string", "pattern": "^[0-9]{1,32}$",
               "description": "The number callers dial. Unique; cannot change after creation."},
    "name": {"type": "string", "maxLength": 100, "default": ""},
    "language": {"type": "string", "enum": list(LANGUAGES), "default": "en",
                 "description": "Language of the room's voice prompts."},
    "user_pin": _DIGITS_PIN,
    "admin_pin": _DIGITS_PIN,
    "record": {"type": "boolean", "default": False, "description": "Record every session of the room."},
    "announce_count": {"type": "boolean", "default": True,
                       "description": "Tell a newcomer how many participants are in."},
    "music_on_hold": {"type": "boolean", "default": True, "description": "Music while waiting."},
    "end_on_admin_exit": {"type": "boolean", "default": False,
                          "description": "End the conference when the last admin leaves."},
    "mute_notifications": {"type": "boolean", "default": False, "description": "No join/leave notices."},
    "wait_for_admin": {"type": "boolean", "default": False,
                       "description": "Participants wait (music or silence) until an admin joins."},
    "max_participants": {"type": "integer", "minimum": 0, "maximum": MAX_PARTICIPANTS, "default": 0,
                         "description": "0 means unlimited."},
    "greeting_sound_id": {"type": ["integer", "null"], "minimum": 1,
                          "description": "A sound from the library played on answer."},
}


def _room_schemas() -> dict[str, Any]:
    shown = {k: v for k, v in ROOM_FIELDS.items() if not k.endswith("_pin")}
    return {
        "RoomCreate": {"type": "object", "additionalProperties": False, "required": ["number"],
                       "properties": ROOM_FIELDS},
        "RoomPatch": {"type": "object", "additionalProperties": False, "properties": ROOM_FIELDS},
        "Room": {"type": "object", "properties": {
            **shown, "has_user_pin": {"type": "boolean"}, "has_admin_pin": {"type": "boolean"}}},
        "Error": {"type": "object", "required": ["error"], "properties": {"error": {
            "type": "object", "required": ["id", "message"], "properties": {
                "id": {"type": "string", "description": "Stable error id, e.g. invalid_field, unknown_field, "
                       "missing_field, immutable_field, duplicate, not_found, unauthorized, bad_request, "
                       "unsupported_media_type, unavailable."},
                "message": {"type": "string"},
                "field": {"type": "string", "description": "The request field at fault, when there is one."}}}}},
    }


def _error(description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def _json(schema: str, description: str, array: bool = False) -> dict[str, Any]:
    ref: dict[str, Any] = {"$ref": f"#/components/schemas/{schema}"}
    return {"description": description,
            "content": {"application/json": {"schema": {"type": "array", "items": ref} if array else ref}}}


def _body(schema: str) -> dict[str, Any]:
    return {"required": True,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}}}


_COMMON = {"401": _error("Missing or unknown bearer token"), "503": _error("Redis or the database is down")}
_NUMBER = [{"name": "number", "in": "path", "required": True, "schema": {"type": "string"}}]


def document() -> dict[str, Any]:
    create_body = _body("RoomCreate")
    patch_body = _body("RoomPatch")
    invalid = _error("Invalid, unknown or missing field (error.field names it), or not JSON")
    return {
        "openapi": "3.1.0",
        "info": {"title": "kamconf API", "version": "1",
                 "description": "Conference rooms of a kamconf system. Every path needs "
                                "`Authorization: Bearer <token>` (`make token`)."},
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
                       "schemas": _room_schemas()},
        "paths": {
            "/rooms": {
                "get": {"summary": "List rooms", "responses": {"200": _json("Room", "Rooms", array=True), **_COMMON}},
                "post": {"summary": "Create a room", "requestBody": create_body, "responses": {
                    "201": _json("Room", "Created"), "400": invalid, "409": _error("Number already used"),
                    "415": _error("Not a JSON body"), **_COMMON}},
            },
            "/rooms/{number}": {
                "parameters": _NUMBER,
                "get": {"summary": "One room", "responses": {
                    "200": _json("Room", "The room"), "404": _error("No such room"), **_COMMON}},
                "patch": {"summary": "Change some fields of a room", "requestBody": patch_body, "responses": {
                    "200": _json("Room", "Changed"), "400": invalid, "404": _error("No such room"),
                    "415": _error("Not a JSON body"), **_COMMON}},
                "delete": {"summary": "Delete a room", "responses": {
                    "204": {"description": "Deleted"}, "404": _error("No such room"), **_COMMON}},
            },
        },
    }
