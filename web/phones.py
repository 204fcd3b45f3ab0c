"""/api/v1/extensions (operators; a user reads its own) and /api/v1/trunks (admins): thin views;
rules in conference.extensions, storage in store.directory. Rooms and extensions share one number space."""

from __future__ import annotations

from flask import jsonify, url_for
from flask.typing import ResponseReturnValue

from conference.extensions import (
    ExtensionSettings,
    patch_extension,
    patch_trunk,
    public_extension,
    validate_extension,
    validate_trunk,
)
from store.accounts import Role
from web.access import ApiBlueprint, own_extension, requires
from web.rooms import json_body
from web.services import services

blueprint = ApiBlueprint("phones", __name__, role=Role.OPERATOR)
trunks = ApiBlueprint("trunks", __name__, role=Role.ADMIN)  # carriers: what every call may cost


@blueprint.get("/extensions")
def list_extensions() -> ResponseReturnValue:
    return jsonify([public_extension(e) for e in services().extensions.list()])


@blueprint.post("/extensions")
def create_extension() -> ResponseReturnValue:
    extension = validate_extension(json_body(), services().realm)
    services().check_number_free(extension.number)
    services().extensions.create(extension)
    services().speak_name_later(extension.number)
    return jsonify(public_extension(extension)), 201, {"Location": url_for(".get_extension", number=extension.number)}


@blueprint.get("/extensions/<number>")
@requires(Role.OPERATOR, unless=own_extension)
def get_extension(number: str) -> ResponseReturnValue:
    return jsonify(public_extension(services().extensions.get(number)))


@blueprint.patch("/extensions/<number>")
def patch_extension_view(number: str) -> ResponseReturnValue:
    body, realm = json_body(), services().realm

    def change(current: ExtensionSettings) -> ExtensionSettings:
        return patch_extension(current, body, realm)

    changed = services().extensions.update(number, change)
    services().speak_name_later(number)
    return jsonify(public_extension(changed))


@blueprint.delete("/extensions/<number>")
def delete_extension(number: str) -> ResponseReturnValue:
    services().extensions.delete(number)
    services().speak_name_later(number)  # which removes the spoken name
    return "", 204


@trunks.get("/trunks")
def list_trunks() -> ResponseReturnValue:
    return jsonify([t.as_dict() for t in services().trunks.list()])


@trunks.post("/trunks")
def create_trunk() -> ResponseReturnValue:
    trunk = services().trunks.create(validate_trunk(json_body()))
    return jsonify(trunk.as_dict()), 201, {"Location": url_for(".get_trunk", name=trunk.name)}


@trunks.get("/trunks/<name>")
def get_trunk(name: str) -> ResponseReturnValue:
    return jsonify(services().trunks.get(name).as_dict())


@trunks.patch("/trunks/<name>")
def patch_trunk_view(name: str) -> ResponseReturnValue:
    body = json_body()
    return jsonify(services().trunks.update(name, lambda current: patch_trunk(current, body)).as_dict())


@trunks.delete("/trunks/<name>")
def delete_trunk(name: str) -> ResponseReturnValue:
    services().trunks.delete(name)
    return "", 204
