"""The portal's profile: an employee's e-mail (its conferences' mail to it), time zone (of its
forms), the panel's language, and its password, which for a `user` is its extension's SIP password
(what its phone registers with): changed only after the current one is typed again, checked like a
sign-in (counted towards the same lockout)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from conference.fields import FieldError, clean
from conference.schedule import PERSON, RULES
from store.accounts import Role
from store.signin import LockedError, WrongCredentialsError
from web.access import requires
from web.auth import auth, principal
from web.panel import blueprint, language
from web.phones import change_extension

PROFILE = {"email": PERSON["email"], "zone": RULES["zone"]}


def _page(errors: dict[str, str] | None = None, typed: dict[str, str] | None = None,
          status: int = 200) -> ResponseReturnValue:
    account = principal().account
    values = typed or {"email": account.email or "", "zone": account.zone or ""}
    return render_template("portal_profile.html", values=values, errors=errors or {},
                           languages=language.NAMES, is_user=account.role is Role.USER), status


@blueprint.get("/portal/profile")
@requires(Role.USER)
def profile() -> ResponseReturnValue:
    return _page()


@blueprint.post("/portal/profile")
@requires(Role.USER)
def save_profile() -> ResponseReturnValue:
    account = principal().account
    typed = {name: request.form.get(name, "").strip()[:400] for name in ("email", "zone")}
    chosen = request.form.get("language", "")
    try:
        fields = clean({name: value or None for name, value in typed.items() if name == "email" or value}, PROFILE)
    except FieldError as err:
        return _page({err.field or "": _("Check this field: %(reason)s", reason=str(err))}, typed, 400)
    auth().accounts.set_profile(account.id, fields.get("email"), fields.get("zone"))
    if chosen in language.NAMES:
        auth().accounts.choose_language(account.id, chosen)
    flash(_("Profile saved."))
    return redirect(url_for("panel.profile"))


@blueprint.post("/portal/profile/password")
@requires(Role.USER)
def change_password() -> ResponseReturnValue:
    account = principal().account
    if account.role is not Role.USER:
        return _page({"password": _("Change this account's password on the Accounts page.")}, status=400)
    current, new = request.form.get("current_password", ""), request.form.get("new_password", "")
    try:
        auth().signin.sign_in(account.name, current[:200], request.remote_addr or "unknown")
    except (WrongCredentialsError, LockedError):
        return _page({"current_password": _("This is not your current password.")}, status=400)
    try:
        change_extension(account.name, {"password": new})
    except FieldError as err:
        return _page({"new_password": _("Check this field: %(reason)s", reason=str(err))}, status=400)
    # The sessions of the old password end with it (store.accounts): sign in again with the new one.
    flash(_("Password changed: your phone needs the new one too. Sign in again."))
    return redirect(url_for("panel.login"))
