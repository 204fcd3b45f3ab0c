"""/api/v1/accounts: admins create, list, change, disable and delete accounts.

Rules and storage in store.accounts: passwords 10-128 characters, hashed with argon2, never
returned; the last enabled admin cannot be deleted, disabled or demoted (409 last_admin).
"""

from __future__ import annotations

import logging

from flask import jsonify, url_for
from flask.typing import ResponseReturnValue

from store.accounts import Role, validate_change, validate_new
from web.access import ApiBlueprint, number_of
from web.auth import auth, principal
from web.rooms import json_body

log = logging.getLogger("kamconf.web")
blueprint = ApiBlueprint("accounts", __name__, role=Role.ADMIN)


@blueprint.get("/accounts")
def list_accounts() -> ResponseReturnValue:
    return jsonify([account.as_dict() for account in auth().accounts.list()])


@blueprint.post("/accounts")
def create_account() -> ResponseReturnValue:
    account = auth().accounts.create(validate_new(json_body()))
    log.info("account %s (%s) created by %s", account.name, account.role, principal().account.name)
    return jsonify(account.as_dict()), 201, {"Location": url_for(".get_account", account_id=account.id)}


@blueprint.get("/accounts/<account_id>")
def get_account(account_id: str) -> ResponseReturnValue:
    return jsonify(auth().accounts.get(number_of("account", account_id)).as_dict())


@blueprint.patch("/accounts/<account_id>")
def patch_account(account_id: str) -> ResponseReturnValue:
    body, number = json_body(), number_of("account", account_id)
    account = auth().accounts.change(number, validate_change(auth().accounts.get(number), body))
    log.info("account %s changed by %s: %s", account.name, principal().account.name, ", ".join(sorted(body)))
    return jsonify(account.as_dict())


@blueprint.delete("/accounts/<account_id>")
def delete_account(account_id: str) -> ResponseReturnValue:
    number = number_of("account", account_id)
    name = auth().accounts.get(number).name
    auth().accounts.delete(number)
    log.info("account %s deleted by %s", name, principal().account.name)
    return "", 204
