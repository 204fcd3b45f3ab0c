"""The named schemas of the OpenAPI document (web.openapi), each written once.

A request body is the JSON Schema of the rules that validate it (`object_schema` of the same
`Rule`s `clean` applies), and the shape a thing is shown in is derived from those rules too
(minus what is never returned, plus what stands for it). Shapes with no rules behind them
(what the server reports: sounds, recordings, call records, ...) are written here, next to
the function that builds them named in their description.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from conference import extensions, menus, operator, rooms, roster, schedule, webhooks
from conference.address import Kind
from conference.billing import Disposition, LegKind
from conference.fields import Rule, dataclass_defaults, object_schema
from store import accounts
from store.audio import RATES
from store.cdrs import QUALITY
from store.sounds import MIN_SECONDS
from store.webhooks import State as DeliveryState
from web import callbacks, conferences, contacts, signin
from web.errors import ERROR_IDS
from web.sounds import MAX_FILENAME_LENGTH, MAX_NAME_LENGTH, MAX_SOUND_BYTES

STRICT = ("Validation is strict: JSON types must match exactly (true is not 1, \"5\" is not 5), unknown fields are "
          "refused, and the first fault is answered as 400 with error.field naming it.")
ROLES = {
    "admin": "everything, including accounts and trunks",
    "operator": "rooms, live rooms, scheduled conferences, sounds, recordings, call records, extensions, webhooks",
    "user": "an employee, signed in with its extension number and SIP password: its own extension "
            "(GET /extensions/{its number}), its session and its tokens, its contacts, and the scheduled "
            "conferences it owns (listing, history and templates show it its own; another's answers 403)",
}
ABOUT = (
    "Conference rooms of a kamconf system, its phones, scheduled conferences, sound library, recordings and call "
    "records. Every path under /api/v1 except this document and signing in (POST /session) needs credentials: "
    "`Authorization: Bearer <token>` (a token of an account: POST /tokens, or `python -m web.token` for an admin "
    "one), or the session cookie POST /session sets. A request through the cookie that changes something (POST, "
    "PATCH, PUT, DELETE) also needs the session's CSRF token in the X-CSRF-Token header (403 bad_csrf_token "
    "otherwise). Every endpoint needs a role: " + "; ".join(f"{role}: {what}" for role, what in ROLES.items())
    + ". Without valid credentials 401 unauthorized; with too small a role 403 forbidden. Every error, whatever "
    "its status, has the Error shape; unknown paths under /api/v1 answer 404 not_found and unsupported methods "
    "405 method_not_allowed (with Allow). " + STRICT)

_STRING = {"type": "string"}
_MOMENT = {"type": "string", "format": "date-time"}
_MAYBE_MOMENT = {"type": ["string", "null"], "format": "date-time"}


def _shown(rules: Mapping[str, Rule], hidden: Iterable[str] = (), **added: Mapping[str, Any]) -> dict[str, Any]:
    """A thing as the API shows it: every field of its rules but the hidden ones, and the added ones."""
    properties: dict[str, Mapping[str, Any]] = {name: rule.described() for name, rule in rules.items()
                                               if name not in hidden}
    properties.update(added)
    return {"type": "object", "additionalProperties": False, "required": list(properties), "properties": properties}


def _report(about: str, **properties: Mapping[str, Any]) -> dict[str, Any]:
    return {"type": "object", "additionalProperties": False, "required": list(properties),
            "properties": properties, "description": about}


def _with(shape: Mapping[str, Any], **added: Mapping[str, Any]) -> dict[str, Any]:
    """A shape with more (required) properties."""
    return {**shape, "required": [*shape["required"], *added], "properties": {**shape["properties"], **added}}


def _writes(name: str, rules: Mapping[str, Rule], required: Iterable[str], about: str = "",
            defaults: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """{name}Create and {name}Patch: the fields of a new thing, and those a change may send."""
    return {f"{name}Create": object_schema(rules, required, f"Omitted fields take their defaults. {about}", defaults),
            f"{name}Patch": object_schema(rules, (), f"Only the fields sent change. {about}")}


_HAS_PIN = {"type": "boolean", "description": "Whether the PIN is set (the PIN itself is never returned)"}
_PIN_COUNT = {"type": "integer", "minimum": 0, "description": "How many PINs the list holds (they are never returned)"}
_CONFERENCE = _shown(
    schedule.RULES, ("immediate",), code={**_STRING, "description": "The unique dial-in code"},
    state={"type": "string", "enum": list(schedule.State)}, start_utc=_MOMENT,
    end_utc=_MOMENT, locked={"type": "boolean"}, ended_at=_MAYBE_MOMENT,
    dial_in={**_STRING, "description": "The number to call, then the code and *"})
_ACCOUNT = _shown(
    {name: accounts.RULES[name] for name in ("name", "role", "disabled")}, id={"type": "integer"},
    password_set={"type": "boolean", "description": "false for users (they use their extension's) and for the "
                                                    "built-in admin until `make admin`"},
    created_at=_MOMENT, updated_at=_MOMENT)
_WEBHOOK = _shown(webhooks.RULES, id={"type": "integer"}, created_at=_MOMENT, updated_at=_MOMENT)
_TOKEN = _shown(signin.NEW_TOKEN, ("expires_in_days",), id={"type": "integer"}, created_at=_MOMENT,
                expires_at={**_MAYBE_MOMENT, "description": "null: never"},
                last_used_at={**_MAYBE_MOMENT, "description": "To the minute; null: never used"})

SCHEMAS: dict[str, Any] = {
    "Error": {"type": "object", "required": ["error"], "additionalProperties": False, "properties": {"error": {
        "type": "object", "required": ["id", "message"], "additionalProperties": False, "properties": {
            "id": {"type": "string", "enum": list(ERROR_IDS), "description": "Stable; switch on it."},
            "message": {"type": "string", "description": "For people; may change."},
            "field": {"type": "string", "description": "The request field at fault, when there is one."}}}},
        "description": "web.errors: the one shape of every error."},
    **_writes("Room", rooms.RULES, ["number"], defaults=dataclass_defaults(rooms.RoomSettings)),
    "Room": _shown(rooms.RULES, ("user_pin", "admin_pin", *rooms.PIN_LISTS), has_user_pin=_HAS_PIN,
                   has_admin_pin=_HAS_PIN, **{f"{name}_count": _PIN_COUNT for name in rooms.PIN_LISTS}),
    **_writes("Extension", extensions.EXTENSION_RULES, ["number", "password"],
              defaults=dataclass_defaults(extensions.ExtensionSettings)),
    "Extension": _shown(extensions.EXTENSION_RULES, ("password", "conference_pin"), has_conference_pin=_HAS_PIN),
    **_writes("Trunk", extensions.TRUNK_RULES, ["name", "gateway", "sources"],
              defaults={"trusted": False, "caller_id": None, "present_as": str(extensions.Presentation.PAI),
                        "direct_media": False}),
    "Trunk": _shown(extensions.TRUNK_RULES),
    **_writes("Menu", menus.RULES, ["number"], defaults=dataclass_defaults(menus.MenuSettings)),
    "Menu": _shown(menus.RULES),
    "CallbackCreate": object_schema(callbacks.RULES, ["number", "destination"]),
    "CallbackStarted": _report("web.callbacks: a node calls the number now", number=_STRING, destination=_STRING),
    "ConferenceCreate": object_schema(
        {**schedule.RULES, **conferences.FROM_TEMPLATE}, (),
        "topic, owner and zone, and date, start and end unless immediate, are required (from the template too), "
        "and guest_password unless open_dial_in is true. " + STRICT),
    "ConferencePatch": object_schema(schedule.RULES, (), "Only while scheduled; the participants get an update "
                                                         "mail. " + STRICT),
    "Conference": _CONFERENCE,
    "Attended": _with(_CONFERENCE, attendance={"type": "array", "items": {"$ref": "#/components/schemas/Attendance"}}),
    "Conferences": _report("How many in each state (of the period), and the conferences asked for",
                           counts={"type": "object", "additionalProperties": {"type": "integer"}},
                           conferences={"type": "array", "items": {"$ref": "#/components/schemas/Conference"}}),
    "PlaySound": object_schema(operator.PLAY, operator.PLAY),
    "Whisper": object_schema(operator.WHISPER, operator.WHISPER),
    "InviteNumber": object_schema(operator.INVITE, operator.INVITE),
    "Lock": object_schema(conferences.LOCK, conferences.LOCK),
    "Extend": object_schema(conferences.EXTEND, conferences.EXTEND),
    "TemplateCreate": object_schema({**conferences.TEMPLATE_NAME, **conferences.TEMPLATE_DEFAULT, **schedule.RULES},
                                    conferences.TEMPLATE_NAME,
                                    "A conference's fields under a name; date and times are not kept."),
    "Template": _report("store.conferences", name=_STRING, fields={"type": "object"},
                        default={"type": "boolean", "description": "A user's default template"}),
    "Mail": _report("store.conferences: one mail about a conference", kind=_STRING, to=_STRING,
                    attempts={"type": "integer"}, sent={"type": "boolean"}, last_error={"type": ["string", "null"]}),
    "Attendance": _report("store.conferences: one participant's stay", caller=_STRING, role=_STRING,
                          joined_by={"type": "string", "enum": list(schedule.JoinedBy)}, joined_at=_MOMENT,
                          left_at=_MAYBE_MOMENT),
    "Roster": _report("web.conferences.roster: a running conference now",
                      participants={"type": "array", "items": {"$ref": "#/components/schemas/Participant"}},
                      unanswered={"type": "array", "items": _report(
                          "A number the conference called that did not answer (store.live.failed_calls)",
                          number=_STRING, status={"type": "integer", "description": "Final SIP status"},
                          reason={"type": "string", "enum": list(roster.Reason), "description": "Why, from the status"},
                          attempt={"type": "integer"})}),
    "ContactCreate": object_schema(contacts.RULES, (), "A number, an e-mail address, or both. " + STRICT),
    "ContactPatch": object_schema(contacts.RULES, (), "Only the fields sent change. " + STRICT),
    "Contact": _shown(contacts.RULES, id={"type": "integer"}, created_at=_MOMENT),
    "WebhookCreate": object_schema(webhooks.RULES, ["url", "events"], "enabled defaults to true. " + STRICT),
    "WebhookPatch": object_schema(webhooks.RULES, (), "Only the fields sent change. " + STRICT),
    "Webhook": _WEBHOOK,
    "NewWebhook": _with(_WEBHOOK, secret={**_STRING, "description": "Signs every delivery (X-Kamconf-Signature: "
                                          "t=<unix time>,v1=<hex HMAC-SHA256 of \"<t>.<body>\">); shown this once"}),
    "WebhookDelivery": _report(
        "store.webhooks.shown: one event for one endpoint", id={"type": "integer"},
        event_id={**_STRING, "description": "The room event stream's entry id (also the body's id)"},
        type={"type": "string", "enum": list(webhooks.EVENT_KINDS)},
        state={"type": "string", "enum": list(DeliveryState)},
        attempts={"type": "integer", "description": "Tries of its current series (a replay starts a new one)"},
        last_status={"type": ["integer", "null"], "description": "HTTP status of the last try; null: no answer"},
        next_try_at=_MAYBE_MOMENT, created_at=_MOMENT, delivered_at=_MAYBE_MOMENT,
        body={"type": "object", "description": "What is POSTed: id, type, room, time (Unix), data"},
        tries={"type": "array", "items": _report(
            "One POST", at=_MOMENT, status={"type": ["integer", "null"]},
            error={**_STRING, "description": "Why it failed, or the start of a non-2xx answer's body"},
            milliseconds={"type": "integer"})}),
    "SignIn": object_schema(signin.SIGN_IN, signin.SIGN_IN),
    "Session": _report("web.signin", account={"$ref": "#/components/schemas/Account"},
                       csrf_token={"type": ["string", "null"], "description": "Send it as X-CSRF-Token with every "
                                   "change made through the cookie; null with a token"},
                       via={"type": "string", "enum": ["session", "token"]}),
    "AccountCreate": object_schema({name: accounts.RULES[name] for name in accounts.NEW}, ["name", "role"],
                                   "An admin or operator needs a password; a user is an existing extension's "
                                   "number and has none (it signs in with the extension's)."),
    "AccountPatch": object_schema(accounts.RULES, (), "A new password ends the account's sessions. Users stay "
                                  "users, and others never become users. The last enabled admin cannot be "
                                  "demoted or disabled."),
    "Account": _ACCOUNT,
    "TokenCreate": object_schema(signin.NEW_TOKEN),
    "Token": _TOKEN,
    "NewToken": _with(_TOKEN, token={**_STRING, "description": "The secret: shown this once, kept only hashed"}),
    "Sound": _report(
        "web.sounds.public", id={"type": "integer", "minimum": 1, "description": "Never reused; rooms name it as "
                                                                                 "greeting_sound_id or "
                                                                                 "music_sound_id."},
        name={**_STRING, "maxLength": MAX_NAME_LENGTH}, original_filename={**_STRING, "maxLength": MAX_FILENAME_LENGTH},
        format={"type": "string", "enum": ["wav", "mp3"], "description": "As uploaded, judged by content."},
        duration_seconds={"type": "number", "description": "Of the converted audio, rounded to 0.01 s."},
        size_bytes={"type": "integer"}, created_at=_MOMENT),
    "SoundUpload": {"type": "object", "required": ["file"], "properties": {
        "file": {"type": "string", "contentMediaType": "application/octet-stream",
                 "description": f"WAV or MP3, recognised by its content (never its name), at most "
                                f"{MAX_SOUND_BYTES // 1_000_000} MB and at least {MIN_SECONDS} s long."},
        "name": {**_STRING, "maxLength": MAX_NAME_LENGTH, "description": "Display name; defaults to the file's name. "
                                                                         "No control characters."}}},
    "Recording": _report("store.recordings.public", id=_STRING, room=_STRING, start=_MOMENT, end=_MOMENT,
                         duration_seconds={"type": "number"},
                         participants={"type": "array", "items": _STRING, "description": "Callers, in order"},
                         tracks={"type": "array", "items": {"$ref": "#/components/schemas/Track"},
                                 "description": "One per participant when the room has record_tracks; "
                                                "/recordings/{id}/tracks/{track}/audio downloads each"}),
    "Track": _report("What one participant said while heard (silence while muted), as long as the mix up to its "
                     "leaving: its audio starts with starts_at_seconds of silence, so it lines up with the mix",
                     track={"type": "integer", "minimum": 1}, participant={**_STRING, "description": "The caller; "
                     "empty for a track a dead node left behind"},
                     starts_at_seconds={"type": "number", "description": "When the participant entered the mix"},
                     duration_seconds={"type": "number"}),
    "LiveRoom": _report("web.rooms.live_rooms: a room somebody is in now",
                        room={**_STRING, "description": "Its name for /rooms/{number}/... (conference.address)"},
                        kind={"type": "string", "enum": [str(kind) for kind in Kind if kind != Kind.DIAL_IN]},
                        participants={"type": "array", "items": {"$ref": "#/components/schemas/Participant"}}),
    "Participant": {"type": "object", "description": "As the bridge node reports it (store.live.participants)",
                    "properties": {
                        "id": _STRING, "caller": {**_STRING, "description": "The caller's SIP URI"},
                        "role": {"type": "string", "enum": ["user", "admin", "listener"],
                                 "description": "listener: hears, is never heard"},
                        "state": {"type": "string", "enum": list(roster.Shown), "description":
                                  "conference.roster: a call the room placed is ringing until answered, and "
                                  "answered while a scheduled conference greets it; lobby: waiting for a "
                                  "moderator to let it in (admit)"},
                        "hand": {"type": "integer", "minimum": 0, "description": (
                            "0: no hand raised; else its turn: the lowest is unmuted first (unmute_hand, *96)")},
                        "joined_at": {"type": ["number", "null"], "description": "Unix time; null while ringing"},
                        "node": {**_STRING, "description": "The bridge node mixing the room"}}},
    "Cdr": _report(
        "store.cdrs.public: one leg a bridge node dialled", id=_STRING,
        call={**_STRING, "description": "The room or \"#\" call the leg belonged to"},
        kind={"type": "string", "enum": list(LegKind)}, caller=_STRING, callee=_STRING,
        billed_to={**_STRING, "description": "The extension billed for an outgoing call; empty if none"},
        status={"type": "integer", "description": "Final SIP status"},
        disposition={"type": "string", "enum": list(Disposition)}, start=_MOMENT, answer=_MAYBE_MOMENT, end=_MOMENT,
        billable_seconds={"type": "integer"}, node=_STRING,
        **{name: {"type": ["number", "null"], "description": "RTCP voice quality"} for name in QUALITY}),
    "LiveAction": {"type": "object", "description": "What was sent to the bridge node holding the room",
                   "properties": {"room": _STRING, "participant": _STRING, "op": _STRING}},
    "Health": _report("Both answer", status={"const": "ok"}),
    "OpenApi": {"type": "object", "description": "This document (OpenAPI 3.1)"},
}
AUDIO_RATES = {"type": "integer", "enum": list(RATES), "default": RATES[0]}
