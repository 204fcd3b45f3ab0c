"""The OpenAPI description of the live actions: mute, unmute and drop a participant; lock,
unlock and end a room (web.rooms, carried out by the bridge node holding the room)."""

from __future__ import annotations

from typing import Any

from web.services import PARTICIPANT_OPS, ROOM_OPS

_WHAT = {
    "mute": "Mute a participant: the others stop hearing it",
    "unmute": "Unmute a participant",
    "drop": "Hang up on a participant",
    "lock": "Lock the room: nobody else may join",
    "unlock": "Unlock the room",
    "end": "End the conference: everyone is hung up on",
}


def _responses() -> dict[str, Any]:
    error = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    return {
        "202": {"description": "Sent to the bridge node holding the room, which carries it out within a moment",
                "content": {"application/json": {"schema": {"type": "object"}}}},
        "404": {"description": "Nobody is in the room now, so no node holds it (not_found).", **error},
        **{status: {"$ref": f"#/components/responses/{name}"} for status, name in (
            ("401", "Unauthorized"), ("403", "Forbidden"), ("500", "Internal"), ("503", "Unavailable"))},
    }


def _parameter(name: str, description: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}, "description": description}


def paths() -> dict[str, Any]:
    number = _parameter("number", "The room's number, or the id of a live local conference or # call")
    participant = _parameter("participant", "A participant's id, as GET /rooms/{number}/participants lists it")
    found: dict[str, Any] = {}
    for op in sorted(PARTICIPANT_OPS):
        found[f"/rooms/{{number}}/participants/{{participant}}/{op}"] = {"parameters": [number, participant], "post": {
            "operationId": f"{op}Participant", "summary": f"{_WHAT[op]} (operator)", "responses": _responses()}}
    for op in sorted(ROOM_OPS):
        found[f"/rooms/{{number}}/{op}"] = {"parameters": [number], "post": {
            "operationId": f"{op}Room", "summary": f"{_WHAT[op]} (operator)", "responses": _responses()}}
    return found
