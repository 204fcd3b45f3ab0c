"""/api/v1/extensions (operators; a user reads its own) and /api/v1/trunks (admins): thin views;
rules in conference.extensions, storage in store.directory. Rooms and extensions share one number space."""

from __future__ import annotations

from typing import Any

from flask import jsonify, url_for
from flask.typing import ResponseReturnValue

from conference.extensions import (
    ExtensionSettings,
    TrunkSettings,
    patch_extension,
    patch_trunk,
    public_extension,
    validate_extension,
    validate_trunk,
)
from conference.fields import FieldError
from store.accounts import Role
from store.projected import NotFoundError
from web.access import ApiBlueprint, own_extension, requires
from web.apidoc import documented
from web.rooms import CHANGING, json_body
from web.services import services

blueprint = ApiBlueprint("phones", __name__, role=Role.OPERATOR)
trunks = ApiBlueprint("trunks", __name__, role=Role.ADMIN)  # carriers: what every call may cost
TAKEN = "The number is taken by a room, an extension or a service (duplicate, field number)."


@blueprint.get("/extensions")
@documented("List extensions", ["Extension"])
def list_extensions() -> ResponseReturnValue:
    return jsonify([public_extension(e) for e in services().extensions.list()])


def add_extension(payload: Any) -> ExtensionSettings:
    """A new extension from a payload (the API's JSON, the panel's form), by the same rules."""
    extension = validate_extension(payload, services().realm)
    services().check_number_free(extension.number)
    services().extensions.create(extension)
    services().speak_name_later(extension.number)
    return extension


def change_extension(number: str, payload: Any) -> ExtensionSettings:
    realm = services().realm

    def change(current: ExtensionSettings) -> ExtensionSettings:
        return patch_extension(current, payload, realm)

    changed = services().extensions.update(number, change)
    services().speak_name_later(number)
    return changed


def remove_extension(number: str) -> None:
    services().extensions.delete(number)
    services().speak_name_later(number)  # which removes the spoken name


def add_trunk(payload: Any) -> TrunkSettings:
    return services().trunks.create(_owner_known(validate_trunk(payload)))


def change_trunk(name: str, payload: Any) -> TrunkSettings:
    return services().trunks.update(name, lambda current: _owner_known(patch_trunk(current, payload)))


def _owner_known(trunk: TrunkSettings) -> TrunkSettings:
    """The extension its calls back are made for must be one (a storage fact, so checked here)."""
    if trunk.callback_owner is not None:
        try:
            services().extensions.get(trunk.callback_owner)
        except NotFoundError as exc:
            raise FieldError("callback_owner", "invalid_field", f"no extension {trunk.callback_owner}") from exc
    return trunk


@blueprint.post("/extensions")
@documented("Create an extension", "Extension", status=201, body="ExtensionCreate", errors={409: TAKEN})
def create_extension() -> ResponseReturnValue:
    extension = add_extension(json_body())
    return jsonify(public_extension(extension)), 201, {"Location": url_for(".get_extension", number=extension.number)}


@blueprint.get("/extensions/<number>")
@documented("One extension (its own, for a user)", "Extension")
@requires(Role.OPERATOR, unless=own_extension)
def get_extension(number: str) -> ResponseReturnValue:
    return jsonify(public_extension(services().extensions.get(number)))


@blueprint.patch("/extensions/<number>")
@documented("Change some settings of an extension", "Extension", body="ExtensionPatch", errors={409: CHANGING})
def patch_extension_view(number: str) -> ResponseReturnValue:
    return jsonify(public_extension(change_extension(number, json_body())))


@blueprint.delete("/extensions/<number>")
@documented("Delete an extension", status=204, errors={409: CHANGING})
def delete_extension(number: str) -> ResponseReturnValue:
    remove_extension(number)
    return "", 204


@trunks.get("/trunks")
@documented("List trunks", ["Trunk"])
def list_trunks() -> ResponseReturnValue:
    return jsonify([t.as_dict() for t in services().trunks.list()])


@trunks.post("/trunks")
@documented("Create a trunk", "Trunk", status=201, body="TrunkCreate",
            errors={409: "The name is taken (duplicate, field name)."})
def create_trunk() -> ResponseReturnValue:
    trunk = add_trunk(json_body())
    return jsonify(trunk.as_dict()), 201, {"Location": url_for(".get_trunk", name=trunk.name)}


@trunks.get("/trunks/<name>")
@documented("One trunk", "Trunk")
def get_trunk(name: str) -> ResponseReturnValue:
    return jsonify(services().trunks.get(name).as_dict())


@trunks.patch("/trunks/<name>")
@documented("Change some settings of a trunk", "Trunk", body="TrunkPatch", errors={409: CHANGING})
def patch_trunk_view(name: str) -> ResponseReturnValue:
    return jsonify(change_trunk(name, json_body()).as_dict())


@trunks.delete("/trunks/<name>")
@documented("Delete a trunk", status=204, errors={409: CHANGING})
def delete_trunk(name: str) -> ResponseReturnValue:
    services().trunks.delete(name)
    return "", 204
