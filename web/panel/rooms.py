"""Rooms: the list with search, create, edit and delete (with a confirmation page).

The forms go through web.rooms' create and update, the API's own path: the same rules
(conference.rooms), the same greeting check and the same shared number space."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from conference.fields import FieldError
from conference.rooms import BOOLEANS, LANGUAGES, RULES, RoomSettings
from store.accounts import Role
from store.projected import ConflictError, ExistsError
from web import rooms as room_service
from web.access import requires
from web.panel import blueprint
from web.panel.forms import ROOM_FIELDS, SECRET, SOUNDS, field_error, room_payload
from web.services import services
from web.sounds import library

_REFUSALS = (FieldError, ExistsError, ConflictError)


def _matches(room: RoomSettings, query: str) -> bool:
    query = query.casefold()
    return not query or query in room.number or query in room.name.casefold()


@blueprint.get("/rooms")
@requires(Role.OPERATOR)
def rooms() -> ResponseReturnValue:
    query = request.args.get("q", "").strip()[:100]
    found = [room for room in services().rooms.list() if _matches(room, query)]
    return render_template("rooms.html", rooms=found, query=query, sounds=_sound_names())


def _sound_names() -> dict[int, str]:
    return {sound.id: sound.name for sound in library().list()}


def _form(room: RoomSettings, creating: bool, errors: dict[str, str] | None = None,
          typed: dict[str, Any] | None = None, status: int = 200) -> ResponseReturnValue:
    return render_template("room_form.html", room=room, creating=creating, fields=ROOM_FIELDS, rules=RULES,
                           booleans=BOOLEANS, errors=errors or {}, typed=typed or {}, languages=LANGUAGES,
                           sounds=library().list(), sound_fields=SOUNDS), status


@blueprint.get("/rooms/new")
@requires(Role.OPERATOR)
def new_room() -> ResponseReturnValue:
    return _form(RoomSettings(number=""), creating=True)


@blueprint.post("/rooms/new")
@requires(Role.OPERATOR)
def create_room() -> ResponseReturnValue:
    try:
        room = room_service.create(room_payload(request.form, creating=True))
    except _REFUSALS as err:
        field, message = field_error(err)
        shown = RoomSettings(number=request.form.get("number", "")[:64])
        return _form(shown, True, {field: message}, _typed(), 400)
    flash(_("Room %(number)s is created.", number=room.number))
    return redirect(url_for("panel.rooms"))


@blueprint.get("/rooms/<number>/edit")
@requires(Role.OPERATOR)
def edit_room(number: str) -> ResponseReturnValue:
    return _form(services().rooms.get(number), creating=False)


@blueprint.post("/rooms/<number>/edit")
@requires(Role.OPERATOR)
def update_room(number: str) -> ResponseReturnValue:
    current = services().rooms.get(number)
    try:
        room_service.update(number, room_payload(request.form, creating=False))
    except _REFUSALS as err:
        field, message = field_error(err)
        return _form(current, False, {field: message}, _typed(), 400)
    flash(_("Room %(number)s is saved.", number=number))
    return redirect(url_for("panel.rooms"))


def _typed() -> dict[str, Any]:
    """What the form had, shown again beside its error (never the PINs)."""
    return {key: value for key, value in request.form.items() if key not in ("csrf_token", *SECRET)}


@blueprint.get("/rooms/<number>/delete")
@requires(Role.OPERATOR)
def confirm_delete_room(number: str) -> ResponseReturnValue:
    return render_template("room_delete.html", room=services().rooms.get(number))


@blueprint.post("/rooms/<number>/delete")
@requires(Role.OPERATOR)
def delete_room(number: str) -> ResponseReturnValue:
    services().rooms.delete(number)
    flash(_("Room %(number)s is deleted.", number=number))
    return redirect(url_for("panel.rooms"))
