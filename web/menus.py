"""/api/v1/menus (operators): voice menus; rules in conference.menus, storage in store.directory.

A menu shares the number space of rooms and extensions. What it may forward callers to is checked as
it is saved, by the number plan on its owner's rights (an operator's when it has none), and again by
the bridge node as each caller is forwarded: a menu is never a way out that its owner lacks.
"""

from __future__ import annotations

from typing import Any

from flask import jsonify, url_for
from flask.typing import ResponseReturnValue

from conference import numberplan
from conference.fields import FieldError
from conference.menus import MenuSettings, validate_create, validate_patch
from store import live
from store.accounts import Role
from web.access import ApiBlueprint
from web.apidoc import documented
from web.rooms import CHANGING, json_body
from web.services import services
from web.sounds import check_sound

blueprint = ApiBlueprint("menus", __name__, role=Role.OPERATOR)
TAKEN = "The number is taken by a room, an extension, a menu or a service (duplicate, field number)."
_DESTINATIONS = ("options", "timeout_destination", "invalid_destination", "closed_destination")


def rights(menu: MenuSettings, directory: numberplan.Directory) -> numberplan.Caller:
    """Whose rights forward the menu's callers: its owner extension's, else an operator's."""
    if menu.owner is None:
        return numberplan.operator(services().operator_outside_calls)
    owner = directory.extension(menu.owner)
    if owner is None:
        raise FieldError("owner", "invalid_field", f"no extension {menu.owner}")
    return numberplan.Caller(numberplan.CallerKind.EXTENSION, owner)


def checked(menu: MenuSettings, current: MenuSettings | None = None) -> MenuSettings:
    """The menu, if its greeting is in the library and the number plan lets its owner reach each destination."""
    check_sound("greeting_sound_id", menu.greeting_sound_id, current.greeting_sound_id if current else None)
    directory = live.Directory(services().client)
    caller = rights(menu, directory)
    for field in _DESTINATIONS:
        value = getattr(menu, field)
        numbers = list(value.values()) if isinstance(value, dict) else [value] if value else []
        for number in numbers:
            if number == services().dial_in:
                continue  # the scheduled conferences' service is open to anyone
            decision = numberplan.decide(caller, number, directory)
            if isinstance(decision, numberplan.Refuse):
                whose = f"extension {menu.owner}" if menu.owner else "an operator"
                raise FieldError(field, "invalid_field", f"{number} cannot be reached on the rights of {whose} "
                                 f"({decision.code} {decision.reason})")
    return menu


@blueprint.get("/menus")
@documented("List voice menus", ["Menu"], about="Shorter numbers first, then in digit order (9 before 10).")
def list_menus() -> ResponseReturnValue:
    return jsonify([menu.as_dict() for menu in services().menus.list()])


def add_menu(payload: Any) -> MenuSettings:
    """A new menu from a payload (the API's JSON, the panel's form), by the same rules."""
    menu = checked(validate_create(payload))
    services().check_number_free(menu.number)
    services().menus.create(menu)
    services().speak_menu_later(menu.number)
    return menu


def change_menu(number: str, payload: Any) -> MenuSettings:
    changed = services().menus.update(number, lambda current: checked(validate_patch(current, payload), current))
    services().speak_menu_later(number)
    return changed


def remove_menu(number: str) -> None:
    services().menus.delete(number)
    services().speak_menu_later(number)  # which removes the spoken greeting


@blueprint.post("/menus")
@documented("Create a voice menu", "Menu", status=201, body="MenuCreate",
            errors={409: TAKEN, 400: "A field is invalid, or a destination its owner may not reach (invalid_field, "
                                     "naming the field)."})
def create_menu() -> ResponseReturnValue:
    menu = add_menu(json_body())
    return jsonify(menu.as_dict()), 201, {"Location": url_for(".get_menu", number=menu.number)}


@blueprint.get("/menus/<number>")
@documented("One voice menu", "Menu")
def get_menu(number: str) -> ResponseReturnValue:
    return jsonify(services().menus.get(number).as_dict())


@blueprint.patch("/menus/<number>")
@documented("Change some settings of a voice menu", "Menu", body="MenuPatch", errors={409: CHANGING})
def patch_menu(number: str) -> ResponseReturnValue:
    return jsonify(change_menu(number, json_body()).as_dict())


@blueprint.delete("/menus/<number>")
@documented("Delete a voice menu", status=204, errors={409: CHANGING})
def delete_menu(number: str) -> ResponseReturnValue:
    remove_menu(number)
    return "", 204
