"""Accounts (admins) and one's own API tokens, through the API's own functions (web.accounts,
web.signin): the same rules, the same last-admin guard, the same logs."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from conference.fields import FieldError
from store import tokens
from store.accounts import MAX_PASSWORD, MIN_PASSWORD, LastAdminError, Role
from web import accounts as account_service
from web import signin as token_service
from web.access import number_of, requires
from web.auth import auth, principal
from web.panel import blueprint
from web.panel.fields import FormField, Kind, payload, refusal, stored
from web.panel.phones import REFUSALS

_ROLES = (("operator", _l("operator")), ("admin", _l("administrator")), ("user", _l("user")))
_NAME = FormField("name", _l("Name"), _l("A login name (a lowercase letter, then letters, digits, . _ -) or, for a "
                                         "user, the employee's extension number."), key=True)
_ROLE = FormField("role", _l("Role"), _l("Administrators may do everything; operators run rooms, live calls, "
                                         "sounds, recordings, call records and extensions; users see their own."),
                  kind=Kind.CHOICE, choices=_ROLES)
_PASSWORD = FormField("password", _l("Password"), _l("%(min)d to %(max)d printable characters. A user signs in "
                                                     "with its extension's password: leave it empty.",
                                                     min=MIN_PASSWORD, max=MAX_PASSWORD), kind=Kind.SECRET)
_DISABLED = FormField("disabled", _l("Disabled"), _l("It cannot sign in, and its tokens stop working."),
                      kind=Kind.FLAG)
NEW_ACCOUNT_FIELDS = (_NAME, _ROLE, _PASSWORD)
ACCOUNT_FIELDS = (_NAME, _ROLE, _PASSWORD, _DISABLED)
TOKEN_FIELDS = (
    FormField("name", _l("Name"), _l("What it is for, up to %(max)d characters.", max=tokens.MAX_NAME)),
    FormField("expires_in_days", _l("Valid for (days)"), _l("1 to %(max)d days; empty: until revoked.",
                                                            max=tokens.MAX_DAYS), kind=Kind.OPTIONAL),
)
_ACCOUNT_REFUSALS = (*REFUSALS, LastAdminError)


def _form(title: str, fields: tuple[FormField, ...], values: dict[str, Any], creating: bool,
          errors: dict[str, str] | None = None, status: int = 200) -> ResponseReturnValue:
    return render_template("entity_form.html", title=title, fields=fields, values=values, action=request.path,
                           back=url_for("panel.accounts"), creating=creating, errors=errors or {}), status


def _save(fields: tuple[FormField, ...], creating: bool, apply: Any, title: str, done: str) -> ResponseReturnValue:
    try:
        apply(payload(fields, request.form, creating))
    except _ACCOUNT_REFUSALS as err:
        field, message = refusal(fields, err)
        typed = {f.name: (f.name in request.form) if f.kind is Kind.FLAG else request.form.get(f.name, "")
                 for f in fields if f.kind is not Kind.SECRET}
        return _form(title, fields, typed, creating, {field: message}, 400)
    flash(done)
    return redirect(url_for("panel.accounts"))


@blueprint.get("/accounts")
@requires(Role.ADMIN)
def accounts() -> ResponseReturnValue:
    return render_template("accounts.html", accounts=auth().accounts.list())


@blueprint.route("/accounts/new", methods=["GET", "POST"])
@requires(Role.ADMIN)
def new_account() -> ResponseReturnValue:
    title = _("New account")
    if request.method == "GET":
        return _form(title, NEW_ACCOUNT_FIELDS, {"role": "operator"}, True)
    return _save(NEW_ACCOUNT_FIELDS, True, account_service.add_account, title,
                 _("Account %(name)s is created.", name=request.form.get("name", "")))


@blueprint.route("/accounts/<account_id>/edit", methods=["GET", "POST"])
@requires(Role.ADMIN)
def edit_account(account_id: str) -> ResponseReturnValue:
    current = auth().accounts.get(number_of("account", account_id))
    title = _("Account %(name)s", name=current.name)
    if request.method == "GET":
        values = stored(ACCOUNT_FIELDS, {**current.as_dict(), "password": None})
        values["password_set"] = current.has_password
        return _form(title, ACCOUNT_FIELDS, values, False)
    return _save(ACCOUNT_FIELDS, False, lambda data: account_service.change_account(current.id, data), title,
                 _("Account %(name)s is saved.", name=current.name))


@blueprint.route("/accounts/<account_id>/delete", methods=["GET", "POST"])
@requires(Role.ADMIN)
def delete_account(account_id: str) -> ResponseReturnValue:
    current = auth().accounts.get(number_of("account", account_id))
    if request.method == "GET":
        return render_template("confirm_delete.html", question=_("Delete account %(name)s?", name=current.name),
                               action=request.path, back=url_for("panel.accounts"))
    try:
        account_service.remove_account(current.id)
    except LastAdminError:
        flash(_("This is the last enabled administrator: make another one first."), "error")
    else:
        flash(_("Account %(name)s is deleted.", name=current.name))
    return redirect(url_for("panel.accounts"))


# One's own API tokens --------------------------------------------------------------------------


def _token_payload() -> dict[str, Any]:
    data = payload(TOKEN_FIELDS, request.form, creating=True)
    days = data.pop("expires_in_days")
    if days is not None:
        if not (days.isascii() and days.isdigit() and len(days) <= 6):
            raise FieldError("expires_in_days", "invalid_field", "expires_in_days must be a whole number")
        data["expires_in_days"] = int(days)
    return data


@blueprint.route("/tokens", methods=["GET", "POST"])
@requires(Role.USER)
def api_tokens() -> ResponseReturnValue:
    errors: dict[str, str] = {}
    secret = None
    if request.method == "POST":
        try:
            secret = token_service.new_token(_token_payload())[1]
        except FieldError as err:
            errors = dict([refusal(TOKEN_FIELDS, err)])
    listed = auth().tokens.list(principal().account.id)
    # The secret is shown this once: never cached, never stored in a form.
    return render_template("tokens.html", tokens=listed, fields=TOKEN_FIELDS, errors=errors, secret=secret,
                           typed=request.form), 400 if errors else 200, {"Cache-Control": "no-store"}


@blueprint.post("/tokens/<token_id>/revoke")
@requires(Role.USER)
def revoke_token(token_id: str) -> ResponseReturnValue:
    token_service.revoke(number_of("token", token_id))
    flash(_("The token is revoked."))
    return redirect(url_for("panel.api_tokens"))
