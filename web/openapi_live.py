"""The OpenAPI description of the live actions: mute, unmute and drop a participant; lock,
unlock and end a room, start and stop its recording, play a sound to it, invite a number into it
(web.rooms, carried out by the bridge node holding the room)."""

from __future__ import annotations

from typing import Any

from conference.keypad import MAX_NUMBER
from conference.operator import MAX_SOUND_ID
from web.services import PARTICIPANT_OPS, ROOM_OPS

_WHAT = {
    "mute": "Mute a participant: the others stop hearing it",
    "unmute": "Unmute a participant",
    "drop": "Hang up on a participant",
    "lock": "Lock the room: nobody else may join",
    "unlock": "Unlock the room",
    "end": "End the conference: everyone is hung up on",
    "start_recording": "Start recording the conference (everyone in it hears the recording notice); "
                       "the file is listed under /recordings once stopped or once the room empties",
    "stop_recording": "Stop recording the conference: the file so far is finished and filed",
}
_BODIES: dict[str, tuple[str, str, dict[str, Any]]] = {
    "play": ("playSound", "Play a sound of the library to everyone in the conference", {
        "sound_id": {"type": "integer", "minimum": 1, "maximum": MAX_SOUND_ID,
                     "description": "A sound's id, as GET /sounds lists it"}}),
    "invite": ("inviteNumber", "Call a number into the room. The number plan decides as for an operator: rooms "
               "and extensions (and their own forwarding); outside numbers only with [conferences] "
               "operator_outside_calls, else 403 (forbidden, field number). The call goes through Kamailio", {
                   "number": {"type": "string", "pattern": f"^\\+?[0-9]{{1,{MAX_NUMBER}}}$",
                              "description": "The number to call: digits, optionally after a +"}}),
}


def _camel(op: str) -> str:
    first, *rest = op.split("_")
    return first + "".join(word.capitalize() for word in rest)


def _responses(body: bool = False) -> dict[str, Any]:
    error = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    return {
        "202": {"description": "Sent to the bridge node holding the room, which carries it out within a moment",
                "content": {"application/json": {"schema": {"type": "object"}}}},
        "404": {"description": "Nobody is in the room now, so no node holds it (not_found).", **error},
        **{status: {"$ref": f"#/components/responses/{name}"} for status, name in (
            ("401", "Unauthorized"), ("403", "Forbidden"), ("500", "Internal"), ("503", "Unavailable"),
            *((("400", "Invalid"), ("413", "TooLarge"), ("415", "NotJson")) if body else ()))},
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
            "operationId": f"{_camel(op)}Room", "summary": f"{_WHAT[op]} (operator)", "responses": _responses()}}
    for op, (operation, summary, fields) in _BODIES.items():
        schema = {"type": "object", "required": list(fields), "additionalProperties": False, "properties": fields}
        found[f"/rooms/{{number}}/{op}"] = {"parameters": [number], "post": {
            "operationId": operation, "summary": f"{summary} (operator)",
            "requestBody": {"required": True, "content": {"application/json": {"schema": schema}}},
            "responses": _responses(body=True)}}
    return found
