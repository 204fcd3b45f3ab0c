"""The OpenAPI 3.1 description of the API, served at /api/v1/openapi.json.

Written by hand next to the rules it describes: limits come from conference.rooms
and error ids from web.errors, and a test checks that every route is described.
"""

from __future__ import annotations

from typing import Any

from conference import extensions, rooms
from conference.billing import Disposition, LegKind
from store.audio import RATES
from store.cdrs import MAX_LIST
from store.sounds import MIN_SECONDS
from web import openapi_access, openapi_live
from web.errors import ERROR_IDS
from web.sounds import MAX_FILENAME_LENGTH, MAX_NAME_LENGTH, MAX_SOUND_BYTES

_PIN_RULES = ("Digits, sent in clear over the API, stored only as a salted hash and never returned "
              "(see has_user_pin / has_admin_pin). null removes the PIN. user_pin and admin_pin must differ.")
_PIN: dict[str, Any] = {"type": ["string", "null"], "pattern": f"^[0-9]{{1,{rooms.MAX_PIN_LENGTH}}}$"}

ROOM_FIELDS: dict[str, Any] = {
    "number": {"type": "string", "pattern": f"^[0-9]{{1,{rooms.MAX_NUMBER_LENGTH}}}$",
               "description": "The number callers dial. Unique. It cannot change after creation: a PATCH "
                              "with a different number answers 400 immutable_field; create a new room instead."},
    "name": {"type": "string", "maxLength": rooms.MAX_NAME_LENGTH, "default": "",
             "description": "Free text without control characters."},
    "language": {"type": "string", "enum": list(rooms.LANGUAGES), "default": "en",
                 "description": "Language of the room's voice prompts."},
    "user_pin": {**_PIN, "default": None, "description": "PIN of ordinary participants. " + _PIN_RULES},
    "admin_pin": {**_PIN, "default": None, "description": "PIN of moderators. " + _PIN_RULES},
    "record": {"type": "boolean", "default": False, "description": "Record the room's conferences."},
    "announce_count": {"type": "boolean", "default": True,
                       "description": "Tell a newcomer how many participants are in."},
    "music_on_hold": {"type": "boolean", "default": True,
                      "description": "Play music to a participant who is alone or waiting."},
    "end_on_admin_exit": {"type": "boolean", "default": False,
                          "description": "End the conference when the last moderator leaves."},
    "mute_notifications": {"type": "boolean", "default": False,
                           "description": "No join and leave announcements."},
    "wait_for_admin": {"type": "boolean", "default": False,
                       "description": "Participants wait until a moderator joins."},
    "max_participants": {"type": "integer", "minimum": 0, "maximum": rooms.MAX_PARTICIPANTS, "default": 0,
                         "description": "0 means unlimited."},
    "greeting_sound_id": {"type": ["integer", "null"], "minimum": 1, "maximum": rooms.MAX_SOUND_ID,
                          "default": None, "description": "A sound of the library (/sounds) played to callers on "
                          "answer; an id the library lacks answers 400 invalid_field."},
}

_STRICT = ("Validation is strict: JSON types must match exactly (true is not 1, \"5\" is not 5), unknown fields "
           "are refused, and the first fault is answered as 400 with error.field naming it.")


def _schemas() -> dict[str, Any]:
    shown = {name: spec for name, spec in ROOM_FIELDS.items() if not name.endswith("_pin")}
    room_properties = {**shown, "has_user_pin": {"type": "boolean"}, "has_admin_pin": {"type": "boolean"}}
    return {
        "RoomCreate": {"type": "object", "additionalProperties": False, "required": ["number"],
                       "properties": ROOM_FIELDS, "description": "Omitted fields take their defaults. " + _STRICT},
        "RoomPatch": {"type": "object", "additionalProperties": False, "properties": ROOM_FIELDS,
                      "description": "Only the fields sent change. " + _STRICT},
        "Recording": {"type": "object", "properties": {
            "id": {"type": "string"}, "room": {"type": "string"},
            "start": {"type": "string", "format": "date-time"}, "end": {"type": "string", "format": "date-time"},
            "duration_seconds": {"type": "number"},
            "participants": {"type": "array", "items": {"type": "string"}, "description": "Callers, in order"}}},
        "Participant": {"type": "object", "properties": {
            "id": {"type": "string"}, "caller": {"type": "string", "description": "The caller's SIP URI"},
            "role": {"type": "string", "enum": ["user", "admin"]},
            "state": {"type": "string", "enum": ["waiting", "in_conference", "muted"]},
            "joined_at": {"type": "number", "description": "Unix time"},
            "node": {"type": "string", "description": "The bridge node mixing the room"}}},
        "Room": {"type": "object", "additionalProperties": False, "required": list(room_properties),
                 "properties": room_properties},
        "Error": {"type": "object", "required": ["error"], "properties": {"error": {
            "type": "object", "required": ["id", "message"], "additionalProperties": False, "properties": {
                "id": {"type": "string", "enum": list(ERROR_IDS), "description": "Stable; switch on it."},
                "message": {"type": "string", "description": "For people; may change."},
                "field": {"type": "string", "description": "The request field at fault, when there is one."}}}}},
        **_sound_schemas(),
        **_phone_schemas(),
        **_conference_schemas(),
        **openapi_access.schemas(),
        "Health": {"type": "object", "required": ["status"], "properties": {"status": {"const": "ok"}}},
    }


def _sound_schemas() -> dict[str, Any]:
    properties = {
        "id": {"type": "integer", "minimum": 1, "description": "Never reused; rooms name it as greeting_sound_id."},
        "name": {"type": "string", "maxLength": MAX_NAME_LENGTH, "description": "Display name."},
        "original_filename": {"type": "string", "maxLength": MAX_FILENAME_LENGTH,
                              "description": "The uploaded file's name, for display only."},
        "format": {"type": "string", "enum": ["wav", "mp3"], "description": "As uploaded, judged by content."},
        "duration_seconds": {"type": "number", "description": "Of the converted audio, rounded to 0.01 s."},
        "size_bytes": {"type": "integer", "description": "Size of the upload."},
        "created_at": {"type": "string", "format": "date-time"},
    }
    upload = {
        "file": {"type": "string", "contentMediaType": "application/octet-stream",
                 "description": f"WAV or MP3, recognised by its content (never its name), at most "
                                f"{MAX_SOUND_BYTES // 1_000_000} MB and at least {MIN_SECONDS} s long."},
        "name": {"type": "string", "maxLength": MAX_NAME_LENGTH,
                 "description": "Display name; defaults to the file's name. No control characters."},
    }
    return {
        "Sound": {"type": "object", "additionalProperties": False, "required": list(properties),
                  "properties": properties},
        "SoundUpload": {"type": "object", "required": ["file"], "properties": upload},
    }


def _error(description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


_RESPONSES = {
    "Invalid": _error("A field is wrong (error.id invalid_field, unknown_field, missing_field or immutable_field, "
                      "error.field names it) or the body is not a JSON object (bad_request)."),
    "Unauthorized": {**_error("No credentials (bearer token or session cookie), or ones that are unknown, "
                              "expired, revoked or of a disabled account (unauthorized)."),
                     "headers": {"WWW-Authenticate": {"schema": {"type": "string"}}}},
    "NotFound": _error("No room with this number (not_found)."),
    "TooLarge": _error("The body is over 64 KiB (too_large)."),
    "NoSound": _error("No sound with this id (not_found)."),
    "NotJson": _error("The body is not sent as application/json (unsupported_media_type)."),
    "Unavailable": _error("The database or Redis does not answer (unavailable). A change is all or nothing: "
                          "nothing was written. Retry later."),
    "Internal": _error("An unexpected error, logged on the server (internal_error)."),
    **openapi_access.responses(),
}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/responses/{name}"}


def _json(schema: dict[str, Any], description: str, **extra: Any) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}, **extra}


def _room(description: str, **extra: Any) -> dict[str, Any]:
    return _json({"$ref": "#/components/schemas/Room"}, description, **extra)


def _body(schema: str) -> dict[str, Any]:
    return {"required": True,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}}}


def _authed(**responses: Any) -> dict[str, Any]:
    return {**responses, "401": _ref("Unauthorized"), "403": _ref("Forbidden"), "500": _ref("Internal"),
            "503": _ref("Unavailable")}


def _paths() -> dict[str, Any]:
    number = [{"name": "number", "in": "path", "required": True, "schema": {"type": "string"}}]
    writes = {"400": _ref("Invalid"), "413": _ref("TooLarge"), "415": _ref("NotJson")}
    conflict = _error("The room changed under this request too many times in a row (conflict); retry.")
    return {
        "/rooms": {
            "get": {"operationId": "listRooms", "summary": "List rooms",
                    "description": "Shorter numbers first, then in digit order (9 before 10).",
                    "responses": _authed(**{"200": _json({"type": "array", "items": {
                        "$ref": "#/components/schemas/Room"}}, "Every room")})},
            "post": {"operationId": "createRoom", "summary": "Create a room", "requestBody": _body("RoomCreate"),
                     "responses": _authed(**writes, **{
                         "201": _room("Created", headers={"Location": {
                             "description": "The new room's URL", "schema": {"type": "string"}}}),
                         "409": _error("The number is taken (duplicate, field number).")})},
        },
        "/rooms/{number}": {
            "parameters": number,
            "get": {"operationId": "getRoom", "summary": "One room",
                    "responses": _authed(**{"200": _room("The room"), "404": _ref("NotFound")})},
            "patch": {"operationId": "updateRoom", "summary": "Change some settings of a room",
                      "requestBody": _body("RoomPatch"),
                      "responses": _authed(**writes, **{"200": _room("The room as changed"),
                                                        "404": _ref("NotFound"), "409": conflict})},
            "delete": {"operationId": "deleteRoom", "summary": "Delete a room",
                       "responses": _authed(**{"204": {"description": "Deleted"}, "404": _ref("NotFound"),
                                               "409": conflict})},
        },
        "/rooms/{number}/participants": {
            "parameters": number,
            "get": {"operationId": "roomParticipants", "summary": "Who is in the room now",
                    "description": "As the bridge nodes report it; callers still in the entry prompts are not listed.",
                    "responses": _authed(**{"200": _json({"type": "array", "items": {
                        "$ref": "#/components/schemas/Participant"}}, "Participants in order of joining"),
                        "404": _ref("NotFound")})},
        },
        "/recordings": {
            "get": {"operationId": "listRecordings", "summary": "Recorded conference sessions, newest first",
                    "parameters": [{"name": "room", "in": "query", "required": False,
                                    "schema": {"type": "string", "pattern": "^[0-9]+$"}}],
                    "responses": _authed(**{"200": _json({"type": "array", "items": {
                        "$ref": "#/components/schemas/Recording"}}, "Recordings"), "400": _ref("Invalid")})},
        },
        "/recordings/{recording_id}": {
            "parameters": [{"name": "recording_id", "in": "path", "required": True, "schema": {"type": "string"}}],
            "get": {"operationId": "getRecording", "summary": "One recording",
                    "responses": _authed(**{"200": _json({"$ref": "#/components/schemas/Recording"}, "It"),
                                            "404": _ref("NotFound")})},
        },
        "/recordings/{recording_id}/audio": {
            "parameters": [{"name": "recording_id", "in": "path", "required": True, "schema": {"type": "string"}}],
            "get": {"operationId": "getRecordingAudio", "summary": "The recording (WAV, mono, 16-bit)",
                    "responses": _authed(**{"200": {"description": "WAV", "content": {"audio/wav": {}}},
                                            "404": _ref("NotFound")})},
        },
        "/openapi.json": {"get": {"operationId": "openapi", "summary": "This document", "security": [],
                                  "responses": {"200": _json({"type": "object"}, "OpenAPI 3.1")}}},
        "/healthz": {
            "servers": [{"url": "/"}],
            "get": {"operationId": "health", "summary": "Whether the database (at the newest schema) and Redis answer",
                    "security": [],
                    "responses": {"200": _json({"$ref": "#/components/schemas/Health"}, "Both answer"),
                                  "503": _ref("Unavailable")}},
        },
    }


def _sound(description: str, **extra: Any) -> dict[str, Any]:
    return _json({"$ref": "#/components/schemas/Sound"}, description, **extra)


_WAV = {"description": f"Mono 16-bit PCM WAV at the asked rate ({' or '.join(map(str, RATES))} Hz)",
        "content": {"audio/wav": {"schema": {"type": "string", "contentMediaType": "audio/wav"}}}}


def _sound_paths() -> dict[str, Any]:
    sound_id = [{"name": "sound_id", "in": "path", "required": True, "schema": {"type": "integer"}}]
    rate = {"name": "rate", "in": "query", "required": False,
            "schema": {"type": "integer", "enum": list(RATES), "default": RATES[0]}}
    upload = {"required": True, "content": {"multipart/form-data": {
        "schema": {"$ref": "#/components/schemas/SoundUpload"}}}}
    refused = {
        "400": _error("No file (missing_field), an empty one, audio that does not decode or lasts under "
                      f"{MIN_SECONDS} s (invalid_field); error.field is file. A bad name: invalid_field, name."),
        "413": _error(f"The file is over {MAX_SOUND_BYTES // 1_000_000} MB (too_large, field file)."),
        "415": _error("The file is neither WAV nor MP3 by content (unsupported_media_type, field file)."),
    }
    return {
        "/sounds": {
            "get": {"operationId": "listSounds", "summary": "List the sound library, oldest first",
                    "responses": _authed(**{"200": _json({"type": "array", "items": {
                        "$ref": "#/components/schemas/Sound"}}, "Every sound")})},
            "post": {"operationId": "uploadSound", "summary": "Upload a sound (converted for the bridge)",
                     "description": "Nothing is kept of a refused upload.", "requestBody": upload,
                     "responses": _authed(**refused, **{"201": _sound("Created", headers={"Location": {
                         "description": "The new sound's URL", "schema": {"type": "string"}}})})},
        },
        "/sounds/{sound_id}": {
            "parameters": sound_id,
            "get": {"operationId": "getSound", "summary": "One sound",
                    "responses": _authed(**{"200": _sound("The sound"), "404": _ref("NoSound")})},
            "delete": {"operationId": "deleteSound", "summary": "Delete a sound and its audio",
                       "responses": _authed(**{"204": {"description": "Deleted"}, "404": _ref("NoSound"),
                                               "409": _error("A room's greeting_sound_id is this sound "
                                                             "(in_use; the message names the rooms).")})},
        },
        "/sounds/{sound_id}/audio": {
            "parameters": sound_id,
            "get": {"operationId": "getSoundAudio", "summary": "The converted audio", "parameters": [rate],
                    "responses": _authed(**{"200": _WAV, "400": _error("rate is not one of the rates "
                                                                      "(invalid_field, field rate)."),
                                            "404": _ref("NoSound")})},
        },
    }


_NUMBER = {"type": "string", "pattern": r"^\+?[0-9]{1,32}$"}
EXTENSION_FIELDS: dict[str, Any] = {
    "number": {"type": "string", "pattern": f"^[0-9]{{1,{rooms.MAX_NUMBER_LENGTH}}}$",
               "description": "What others dial, and the digest user name. Unique among rooms and extensions; "
                              "it cannot change."},
    "password": {"type": "string", "minLength": extensions.MIN_PASSWORD, "maxLength": extensions.MAX_PASSWORD,
                 "writeOnly": True, "description": "The SIP digest password (printable ASCII). Stored only as "
                                                   "its HA1 for the configured realm; never returned."},
    "display_name": {"type": "string", "maxLength": rooms.MAX_NAME_LENGTH, "default": "",
                     "description": "Spoken when it joins a local conference that announces names."},
    "language": {"type": "string", "enum": list(rooms.LANGUAGES), "default": "en",
                 "description": "Language of the prompts of its local conference."},
    "consult_merge": {"type": "boolean", "default": False,
                      "description": "# during a call consults another number; # again merges all (seed 002)."},
    "external_calls": {"type": "boolean", "default": True,
                       "description": "May call numbers behind trunks, directly, by # or by *8."},
    "forward_to": {**_NUMBER, "type": ["string", "null"], "default": None,
                   "description": "Every call to this extension goes to this extension, room or external number."},
    "conference_pin": {**_PIN, "default": None, "writeOnly": True,
                       "description": "PIN others type to join its *8 local conference. " + _PIN_RULES},
    "conference_end_on_exit": {"type": "boolean", "default": False,
                               "description": "Its local conference ends when it, the owner, leaves."},
    "conference_announce_caller_name": {"type": "boolean", "default": False,
                                        "description": "Speak a joining caller's display name in its local "
                                                       "conference."},
}
TRUNK_FIELDS: dict[str, Any] = {
    "name": {"type": "string", "pattern": "^[a-z0-9][a-z0-9_-]{0,31}$", "description": "Unique; cannot change."},
    "gateway": {"type": "string", "description": "host or host:port that calls to its prefixes are sent to."},
    "sources": {"type": "array", "minItems": 1, "maxItems": extensions.MAX_LIST, "uniqueItems": True,
                "items": {"type": "string"}, "description": "IPv4 address or address:port the trunk calls from; "
                                                            "calls from elsewhere are not the trunk's."},
    "prefixes": {"type": "array", "maxItems": extensions.MAX_LIST, "uniqueItems": True, "items": _NUMBER,
                 "default": [], "description": "Numbers starting so are external and go to this trunk "
                                               "(the longest prefix of all trunks wins)."},
    "inbound": {"type": "object", "additionalProperties": {"type": "string", "pattern": "^[0-9]+$"},
                "default": {}, "description": "The trunk's numbers, each mapped to a local extension or room."},
}


def _phone_schemas() -> dict[str, Any]:
    shown = {name: spec for name, spec in EXTENSION_FIELDS.items() if name not in ("password", "conference_pin")}
    extension = {**shown, "has_conference_pin": {"type": "boolean"}}
    return {
        "ExtensionCreate": {"type": "object", "additionalProperties": False, "required": ["number", "password"],
                            "properties": EXTENSION_FIELDS, "description": _STRICT},
        "ExtensionPatch": {"type": "object", "additionalProperties": False, "properties": EXTENSION_FIELDS,
                           "description": "Only the fields sent change. " + _STRICT},
        "Extension": {"type": "object", "additionalProperties": False, "required": list(extension),
                      "properties": extension},
        "TrunkCreate": {"type": "object", "additionalProperties": False, "required": ["name", "gateway", "sources"],
                        "properties": TRUNK_FIELDS, "description": _STRICT},
        "TrunkPatch": {"type": "object", "additionalProperties": False, "properties": TRUNK_FIELDS,
                       "description": "Only the fields sent change. " + _STRICT},
        "Trunk": {"type": "object", "additionalProperties": False, "required": list(TRUNK_FIELDS),
                  "properties": TRUNK_FIELDS},
    }


def _crud(plural: str, kind: str, key: str, what: str) -> dict[str, Any]:
    """Paths of a collection like /extensions: list, create, get, patch, delete."""
    shape = {"$ref": f"#/components/schemas/{kind}"}
    writes = {"400": _ref("Invalid"), "413": _ref("TooLarge"), "415": _ref("NotJson")}
    missing = _error(f"No {what} with this {key} (not_found).")
    conflict = _error(f"The {what} changed under this request too many times in a row (conflict); retry.")
    return {
        f"/{plural}": {
            "get": {"operationId": f"list{kind}s", "summary": f"List {plural}",
                    "responses": _authed(**{"200": _json({"type": "array", "items": shape}, f"Every {what}")})},
            "post": {"operationId": f"create{kind}", "summary": f"Create a {what}",
                     "requestBody": _body(f"{kind}Create"),
                     "responses": _authed(**writes, **{"201": _json(shape, "Created"), "409": _error(
                         f"The {key} is taken (duplicate, field {key}).")})},
        },
        f"/{plural}/{{{key}}}": {
            "parameters": [{"name": key, "in": "path", "required": True, "schema": {"type": "string"}}],
            "get": {"operationId": f"get{kind}", "summary": f"One {what}",
                    "responses": _authed(**{"200": _json(shape, f"The {what}"), "404": missing})},
            "patch": {"operationId": f"update{kind}", "summary": f"Change some settings of a {what}",
                      "requestBody": _body(f"{kind}Patch"),
                      "responses": _authed(**writes, **{"200": _json(shape, "As changed"), "404": missing,
                                                        "409": conflict})},
            "delete": {"operationId": f"delete{kind}", "summary": f"Delete a {what}",
                       "responses": _authed(**{"204": {"description": "Deleted"}, "404": missing, "409": conflict})},
        },
    }


def _phone_paths() -> dict[str, Any]:
    text = {"type": "string"}
    filters = [
        {"name": "since", "in": "query", "schema": {**text, "format": "date-time"},
         "description": "Started at or after (ISO 8601; UTC unless a zone is given)."},
        {"name": "until", "in": "query", "schema": {**text, "format": "date-time"}, "description": "Started before."},
        {"name": "extension", "in": "query", "schema": text, "description": "Billed to or placed by this extension."},
        {"name": "number", "in": "query", "schema": text, "description": "Called or calling number."},
        {"name": "call", "in": "query", "schema": text, "description": "Legs of one call or room."},
        {"name": "disposition", "in": "query", "schema": {"type": "string", "enum": list(Disposition)}},
        {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIST,
                                                    "default": 100}},
    ]
    cdr = {"type": "object", "properties": {
        "id": text, "call": {**text, "description": "The room or \"#\" call the leg belonged to"},
        "kind": {"type": "string", "enum": list(LegKind), "description": "original: the call a # conference was "
                 "built on; added: a number # consulted; invited: a number *8 invited"},
        "caller": text, "callee": text,
        "billed_to": {**text, "description": "The extension billed for an outgoing call; empty if none"},
        "status": {"type": "integer", "description": "Final SIP status"},
        "disposition": {"type": "string", "enum": list(Disposition)},
        "start": {**text, "format": "date-time"}, "answer": {"type": ["string", "null"], "format": "date-time"},
        "end": {**text, "format": "date-time"}, "billable_seconds": {"type": "integer"}, "node": text}}
    return {
        **_crud("extensions", "Extension", "number", "extension"), **_crud("trunks", "Trunk", "name", "trunk"),
        "/cdrs": {"get": {"operationId": "listCdrs", "summary": "Call detail records of the legs bridge nodes "
                          "dialled, newest first", "parameters": filters,
                          "responses": _authed(**{"200": _json({"type": "array", "items": cdr}, "Records"),
                                                  "400": _ref("Invalid")})}},
    }


_PERSON = {"type": "object", "additionalProperties": False, "properties": {
    "number": {**_NUMBER, "type": ["string", "null"], "description": "Extension or external number to call"},
    "email": {"type": ["string", "null"], "format": "email"}, "name": {"type": "string"},
    "zone": {"type": ["string", "null"], "description": "IANA zone of the times in mail to this person "
                                                       "(default: the owner's)"}},
    "description": "A number, an e-mail address, or both."}
CONFERENCE_FIELDS: dict[str, Any] = {
    "topic": {"type": "string", "maxLength": rooms.MAX_NAME_LENGTH},
    "owner": {**_PERSON, "description": "Enters without waiting (the chair); others hear music until it does. "
                                        "Needs a number."},
    "zone": {"type": "string", "description": "The owner's IANA time zone; date, start and end are wall "
                                              "times there (stored in UTC). A time the clocks skip is refused; "
                                              "one they pass twice means the first."},
    "date": {"type": "string", "format": "date"}, "start": {"type": "string", "pattern": "^[0-2][0-9]:[0-5][0-9]$"},
    "end": {"type": "string", "pattern": "^[0-2][0-9]:[0-5][0-9]$", "description": "After start, same day."},
    "immediate": {"type": "boolean", "description": "Start now, for an hour (instead of date/start/end)."},
    "participants": {"type": "array", "items": _PERSON},
    "greeting_sound_id": {"type": ["integer", "null"], "description": "Played to each on answer."},
    "chair_password": {"type": ["string", "null"], "pattern": "^[0-9]{1,16}$",
                       "description": "Dial-in password of the chair; kept as given, since every mail gives it."},
    "guest_password": {"type": ["string", "null"], "pattern": "^[0-9]{1,16}$",
                       "description": "Dial-in password of guests; none: guests enter without."},
    "max_participants": {"type": "integer", "minimum": 0, "description": "0 = unlimited"},
    "auto_invite": {"type": "boolean", "default": True, "description": "Call everyone at the start."},
    "auto_extend": {"type": "integer", "enum": [0, 15, 30, 45, 60], "default": 0,
                    "description": "Minutes added (and announced) at the end while someone is in."},
    "reminder_minutes": {"type": "integer", "minimum": 0, "default": 0,
                         "description": "Mail a reminder this long before the start; 0 = none."},
}


def _conference_schemas() -> dict[str, Any]:
    shown = {**CONFERENCE_FIELDS, "code": {"type": "string", "description": "The unique dial-in code"},
             "state": {"type": "string", "enum": ["scheduled", "current", "past", "cancelled"]},
             "start_utc": {"type": "string", "format": "date-time"}, "end_utc": {"type": "string",
                                                                                 "format": "date-time"},
             "locked": {"type": "boolean"}, "ended_at": {"type": ["string", "null"], "format": "date-time"},
             "dial_in": {"type": "string", "description": "The number to call, then the code and *"}}
    shown.pop("immediate")
    return {
        "ConferenceCreate": {"type": "object", "additionalProperties": False,
                             "properties": {**CONFERENCE_FIELDS, "template": {
                                 "type": "string", "description": "Start from this template's fields"}},
                             "description": "topic, owner and zone, and date, start and end unless immediate, "
                                            "are required (from the template too). " + _STRICT},
        "ConferencePatch": {"type": "object", "additionalProperties": False, "properties": CONFERENCE_FIELDS,
                            "description": "Only while scheduled; the participants get an update mail. " + _STRICT},
        "Conference": {"type": "object", "properties": shown},
    }


def _conference_paths() -> dict[str, Any]:
    code = [{"name": "code", "in": "path", "required": True, "schema": {"type": "string"}}]
    one = {"$ref": "#/components/schemas/Conference"}
    state = _error("Not in the state this needs (conflict): edits and cancelling only while scheduled, "
                   "repeat only when past, lock/extend/end only while current.")
    missing = _error("No conference with this code (not_found).")
    writes = {"400": _ref("Invalid"), "413": _ref("TooLarge"), "415": _ref("NotJson")}
    live = {"200": _json(one, "As it is now"), "404": missing, "409": state, **writes}
    listing = {"type": "object", "properties": {
        "counts": {"type": "object", "additionalProperties": {"type": "integer"},
                   "description": 'How many in each state, e.g. {"current": 1, "scheduled": 4, ...}'},
        "conferences": {"type": "array", "items": one}}}
    text = {"type": "string"}
    return {
        "/conferences": {
            "get": {"operationId": "listConferences", "summary": "Scheduled conferences, earliest first",
                    "parameters": [
                        {"name": "state", "in": "query", "schema": {
                            "type": "string", "enum": ["scheduled", "current", "past", "cancelled"]}},
                        {"name": "year", "in": "query", "schema": {"type": "integer"},
                         "description": "Of the local start date"},
                        {"name": "month", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 12}}],
                    "responses": _authed(**{"200": _json(listing, "Counts (of the period) and conferences"),
                                            "400": _ref("Invalid")})},
            "post": {"operationId": "createConference", "summary": "Schedule a conference; everyone with an "
                     "address is mailed an invitation with a calendar entry", "requestBody": _body("ConferenceCreate"),
                     "responses": _authed(**writes, **{"201": _json(one, "Created"),
                                                       "404": _error("No such template (not_found).")})},
        },
        "/conferences/{code}": {
            "parameters": code,
            "get": {"operationId": "getConference", "summary": "One conference",
                    "responses": _authed(**{"200": _json(one, "It"), "404": missing})},
            "patch": {"operationId": "updateConference", "summary": "Change it (while scheduled)",
                      "requestBody": _body("ConferencePatch"), "responses": _authed(**live)},
            "delete": {"operationId": "cancelConference", "summary": "Cancel it (while scheduled); the "
                       "participants are mailed the cancellation", "responses": _authed(**{
                           "204": {"description": "Cancelled"}, "404": missing, "409": state})},
        },
        "/conferences/{code}/repeat": {"parameters": code, "post": {
            "operationId": "repeatConference", "summary": "A past conference again, today at its times; the "
            "body (optional) changes fields", "responses": _authed(**{**live, "201": _json(one, "Created")})}},
        "/conferences/{code}/lock": {"parameters": code, "post": {
            "operationId": "lockConference", "summary": "Lock or unlock entry ({\"locked\": true})",
            "responses": _authed(**live)}},
        "/conferences/{code}/extend": {"parameters": code, "post": {
            "operationId": "extendConference", "summary": "Move the end on ({\"minutes\": 15})",
            "responses": _authed(**live)}},
        "/conferences/{code}/end": {"parameters": code, "post": {
            "operationId": "endConference", "summary": "End it now", "responses": _authed(**live)}},
        "/conferences/{code}/mail": {"parameters": code, "get": {
            "operationId": "conferenceMail", "summary": "What was mailed about it and whether it went",
            "responses": _authed(**{"200": _json({"type": "array", "items": {"type": "object"}}, "Mail"),
                                    "404": missing})}},
        "/conferences/{code}/attendance": {"parameters": code, "get": {
            "operationId": "conferenceAttendance", "summary": "Who joined, when, how (called or dial-in), "
            "and when they left", "responses": _authed(**{"200": _json({"type": "array", "items": {
                "type": "object"}}, "Attendance"), "404": missing})}},
        "/history": {"get": {
            "operationId": "history", "summary": "Conferences that started in [since, until), with attendance",
            "parameters": [{"name": "since", "in": "query", "required": True, "schema": {**text, "format": "date"}},
                           {"name": "until", "in": "query", "required": True, "schema": {**text, "format": "date"}}],
            "responses": _authed(**{"200": _json({"type": "array", "items": one}, "Conferences"),
                                    "400": _ref("Invalid")})}},
        "/templates": {
            "get": {"operationId": "listTemplates", "summary": "Conference templates",
                    "responses": _authed(**{"200": _json({"type": "array", "items": {"type": "object"}}, "All")})},
            "post": {"operationId": "createTemplate", "summary": "Save conference fields under a name "
                     "(date and times are not kept)", "responses": _authed(**writes, **{
                         "201": _json({"type": "object"}, "Saved"), "409": _error("The name is taken (duplicate).")})},
        },
        "/templates/{name}": {
            "parameters": [{"name": "name", "in": "path", "required": True, "schema": text}],
            "delete": {"operationId": "deleteTemplate", "summary": "Delete a template",
                       "responses": _authed(**{"204": {"description": "Deleted"},
                                               "404": _error("No such template (not_found).")})},
        },
    }


def document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "kamconf API", "version": "1",
            "description": (
                "Conference rooms of a kamconf system and its sound library. Every path under /api/v1 except "
                "this document and signing in (POST /session) needs credentials. " + openapi_access.SECURITY + " "
                "Every error, whatever its status, has the Error shape; unknown paths under /api/v1 answer 404 "
                "not_found and unsupported methods 405 method_not_allowed (with Allow). Each change of a room is "
                "written to SQL and to the live state KEMI and the bridge read (Redis) as one unit, or not at all."),
            "license": {"name": "GPL-2.0-or-later", "identifier": "GPL-2.0-or-later"},
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}, {"session": []}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"},
                                "session": {"type": "apiKey", "in": "cookie", "name": "kamconf_session"}},
            "schemas": _schemas(),
            "responses": _RESPONSES,
        },
        "paths": {**_paths(), **_sound_paths(), **_phone_paths(), **_conference_paths(), **openapi_access.paths(),
                  **openapi_live.paths()},
    }
