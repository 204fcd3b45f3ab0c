"""/api/v1/accounts: admins create, list, change, disable and delete accounts.

Rules and storage in store.accounts: passwords 10-128 characters, hashed with argon2, never
returned; the last enabled admin cannot be deleted, disabled or demoted (409 last_admin).
"""

from __future__ import annotations

import logging
from typing import Any

from flask import jsonify, url_for
from flask.typing import ResponseReturnValue

from store.accounts import Account, Role, validate_change, validate_new
from web.access import ApiBlueprint, number_of
from web.auth import auth, principal
from web.rooms import json_body

log = logging.getLogger("kamconf.web")
blueprint = ApiBlueprint("accounts", __name__, role=Role.ADMIN)


@blueprint.get("/accounts")
def list_accounts() -> ResponseReturnValue:
    return jsonify([account.as_dict() for account in auth().accounts.list()])


def add_account(payload: Any) -> Account:
    """A new account from a payload (the API's JSON, the panel's form), by the same rules."""
    account = auth().accounts.create(validate_new(payload))
    log.info("account %s (%s) created by %s", account.name, account.role, principal().account.name)
    return account


def change_account(account_id: int, payload: Any) -> Account:
    account = auth().accounts.change(account_id, validate_change(auth().accounts.get(account_id), payload))
    log.info("account %s changed by %s: %s", account.name, principal().account.name, ", ".join(sorted(payload)))
    return account


def remove_account(account_id: int) -> None:
    name = auth().accounts.get(account_id).name
    auth().accounts.delete(account_id)
    log.info("account %s deleted by %s", name, principal().account.name)


@blueprint.post("/accounts")
def create_account() -> ResponseReturnValue:
    account = add_account(json_body())
    return jsonify(account.as_dict()), 201, {"Location": url_for(".get_account", account_id=account.id)}


@blueprint.get("/accounts/<account_id>")
def get_account(account_id: str) -> ResponseReturnValue:
    return jsonify(auth().accounts.get(number_of("account", account_id)).as_dict())


@blueprint.patch("/accounts/<account_id>")
def patch_account(account_id: str) -> ResponseReturnValue:
    return jsonify(change_account(number_of("account", account_id), json_body()).as_dict())


@blueprint.delete("/accounts/<account_id>")
def delete_account(account_id: str) -> ResponseReturnValue:
    remove_account(number_of("account", account_id))
    return "", 204
