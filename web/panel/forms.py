"""The room form: its fields in plain words, the form turned into the API's payload (so the same
rules of conference.rooms judge it), and each refusal said next to its field in the page's language."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict

from conference.fields import FieldError
from conference.rooms import (
    BOOLEANS,
    MAX_LISTED_PINS,
    MAX_NAME_LENGTH,
    MAX_NUMBER_LENGTH,
    MAX_PARTICIPANTS,
    MAX_PIN_LENGTH,
    MIN_PIN_LENGTH,
    PIN_LISTS,
)
from store.projected import ConflictError, ExistsError
from web.panel.fields import FormField, refusal

_PINS_ERROR = _l("Enter up to %(most)d different PINs of %(min)d to %(max)d digits, separated by spaces, all "
                 "different from the room's other PINs.", most=MAX_LISTED_PINS, min=MIN_PIN_LENGTH, max=MAX_PIN_LENGTH)
_PIN_ERROR = _l("Enter %(min)d to %(max)d digits, or leave it empty.", min=MIN_PIN_LENGTH, max=MAX_PIN_LENGTH)
ROOM_FIELDS = (
    FormField("number", _l("Number"), _l("What callers dial to enter the room: %(min)d to %(max)d digits. "
                                     "It cannot change later.", min=1, max=MAX_NUMBER_LENGTH),
          _l("Enter %(min)d to %(max)d digits.", min=1, max=MAX_NUMBER_LENGTH), key=True),
    FormField("name", _l("Name"), _l("A name to tell rooms apart, up to %(max)d characters.", max=MAX_NAME_LENGTH)),
    FormField("language", _l("Voice prompts language"), _l("The language the room speaks to callers in.")),
    FormField("user_pin", _l("Participant PIN"), _l("Callers type it to join: %(min)d to %(max)d digits. "
                                                "Empty: anyone may join.", min=MIN_PIN_LENGTH, max=MAX_PIN_LENGTH),
          _PIN_ERROR),
    FormField("admin_pin", _l("Moderator PIN"), _l("Moderators type it instead: %(min)d to %(max)d digits, not the "
                                               "participant PIN. Empty: no moderators.", min=MIN_PIN_LENGTH,
                                               max=MAX_PIN_LENGTH), _PIN_ERROR),
    FormField("record", _l("Record all calls"), _l("Every conference in the room is recorded.")),
    FormField("record_tracks", _l("A track per participant"),
              _l("When the room records, each participant's voice is also kept in a file of its own, lined up with "
                 "the recording.")),
    FormField("announce_count", _l("Announce the number of participants"),
          _l("A newcomer hears how many people are already in.")),
    FormField("music_on_hold", _l("Music while waiting"), _l("Someone alone or waiting hears music, not silence.")),
    FormField("music_sound_id", _l("Music"), _l("A sound of the library played over and over as the music, "
                                                "instead of the standard music.")),
    FormField("end_on_admin_exit", _l("End when the moderator leaves"),
          _l("Everyone is hung up on when the last moderator leaves.")),
    FormField("mute_notifications", _l("No join and leave announcements"),
          _l("Nobody hears when someone joins or leaves.")),
    FormField("wait_for_admin", _l("Wait for the moderator"),
          _l("Participants wait, with music, until a moderator joins.")),
    FormField("max_participants", _l("Most participants"),
          _l("How many may be in at once, up to %(max)d. 0: no limit.", max=MAX_PARTICIPANTS),
          _l("Enter a whole number from 0 to %(max)d.", max=MAX_PARTICIPANTS)),
    FormField("greeting_sound_id", _l("Greeting"), _l("A sound of the library played to every caller on answer, "
                                                  "instead of the standard welcome.")),
    FormField("user_pins", _l("More participant PINs"), _l("Up to %(most)d more PINs for participants, separated by "
                                                       "spaces.", most=MAX_LISTED_PINS), _PINS_ERROR),
    FormField("admin_pins", _l("More moderator PINs"), _l("Up to %(most)d more PINs for moderators, separated by "
                                                      "spaces.", most=MAX_LISTED_PINS), _PINS_ERROR),
    FormField("listener_pins", _l("Listener PINs"), _l("Up to %(most)d PINs of listeners, separated by spaces: they "
                                                   "hear the conference and are never heard.", most=MAX_LISTED_PINS),
              _PINS_ERROR),
    FormField("listen_only", _l("Participants only listen"),
              _l("Everyone but the moderators hears the conference and is never heard.")),
    FormField("users_join_muted", _l("Participants join muted"), _l("They unmute themselves with *1.")),
    FormField("admins_join_muted", _l("Moderators join muted"), _l("They unmute themselves with *1.")),
    FormField("start_muted_at", _l("Join muted from"),
              _l("Participants join muted once this many are in (they unmute themselves with *1). 0: never."),
              _l("Enter a whole number from 0 to %(max)d.", max=MAX_PARTICIPANTS)),
    FormField("lobby", _l("Lobby"), _l("Participants wait, with music, until a moderator lets them in one by one "
                                       "(*97, or Let in on the Live page).")),
)
PINS = ("user_pin", "admin_pin")
SECRET = (*PINS, *PIN_LISTS)  # never shown again on a refused form
SOUNDS = ("greeting_sound_id", "music_sound_id")  # drop-downs of the sound library


def room_payload(form: MultiDict[str, str], creating: bool) -> dict[str, Any]:
    """The API's JSON payload from the form. Editing, an empty PIN keeps the PIN (the page never
    knows it: only its hash is stored); its "remove" box takes it away."""
    payload: dict[str, Any] = {"name": form.get("name", ""), "language": form.get("language", "en")}
    if creating:
        payload["number"] = form.get("number", "").strip()
    for name in PINS:
        typed = form.get(name, "").strip()
        if typed:
            payload[name] = typed
        elif creating or form.get(f"remove_{name}"):
            payload[name] = None
    for name in PIN_LISTS:
        listed = form.get(name, "").replace(",", " ").split()
        if listed or creating or form.get(f"remove_{name}"):
            payload[name] = listed
    payload.update({name: name in form for name in BOOLEANS})
    payload["max_participants"] = _whole_number(form, "max_participants", "0")
    payload["start_muted_at"] = _whole_number(form, "start_muted_at", "0")
    for name in SOUNDS:
        payload[name] = _whole_number(form, name, "") if form.get(name, "") else None
    return payload


def _whole_number(form: MultiDict[str, str], name: str, default: str) -> int:
    text = form.get(name, default).strip() or default
    if not (text.isascii() and text.isdigit() and len(text) <= 9):
        raise FieldError(name, "invalid_field", f"{name} must be a whole number")
    return int(text)


def field_error(err: Exception) -> tuple[str, str]:
    """(the field, what to say next to it) for a refusal of the room form."""
    if isinstance(err, ExistsError):
        return "number", _("This number is taken already (by a room, an extension or a service).")
    if isinstance(err, ConflictError):
        return "", _("The room was being changed at the same moment. Send the form again.")
    if isinstance(err, FieldError) and err.field in SECRET and "must differ" in err.message:
        return err.field, _("Every PIN of the room must differ from the others.")
    if isinstance(err, FieldError) and err.field in SOUNDS:
        return err.field, _("Pick a sound of the library.")
    return refusal(ROOM_FIELDS, err)
