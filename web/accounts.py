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
from web.apidoc import documented
from web.auth import auth, principal
from web.rooms import json_body

log = logging.getLogger("kamconf.web")
blueprint = ApiBlueprint("accounts", __name__, role=Role.ADMIN)
LAST = "The last enabled admin cannot be deleted, disabled or demoted (last_admin)."


@blueprint.get("/accounts")
@documented("Every account (admin)", ["Account"])
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
@documented("Create an account (admin)", "Account", status=201, body="AccountCreate",
            errors={409: "The name is taken (duplicate, field name)."})
def create_account() -> ResponseReturnValue:
    account = add_account(json_body())
    return jsonify(account.as_dict()), 201, {"Location": url_for(".get_account", account_id=account.id)}


@blueprint.get("/accounts/<account_id>")
@documented("One account (admin)", "Account")
def get_account(account_id: str) -> ResponseReturnValue:
    return jsonify(auth().accounts.get(number_of("account", account_id)).as_dict())


@blueprint.patch("/accounts/<account_id>")
@documented("Change role or password, disable or enable (admin)", "Account", body="AccountPatch",
            errors={409: LAST})
def patch_account(account_id: str) -> ResponseReturnValue:
    return jsonify(change_account(number_of("account", account_id), json_body()).as_dict())


@blueprint.delete("/accounts/<account_id>")
@documented("Delete an account and its tokens (admin)", status=204, errors={409: LAST})
def delete_account(account_id: str) -> ResponseReturnValue:
    remove_account(number_of("account", account_id))
    return "", 204
