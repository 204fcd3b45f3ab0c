"""The employee portal (seeds 001, 004): a user's own conferences, scheduled and listed, its history,
address book and help. Operators and admins use the same pages and see every conference.

Every change goes through web.conferences and web.contacts, the API's own paths: the same rules
(conference.schedule), the same ownership (a user's conference is its extension's) and mail.
The running conference's page is web.panel.running."""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from conference.fields import FieldError
from conference.schedule import AUTO_EXTEND_STEPS, Meeting, Person, State, counts, repeat_payload
from store.accounts import Account, Role
from store.projected import ConflictError, ExistsError, NotFoundError
from web import conferences, contacts
from web.access import requires
from web.auth import auth, principal
from web.conferences import OWN, meetings, own_conference, owner_only
from web.errors import ApiError
from web.panel import blueprint, language
from web.services import services
from web.sounds import library

REMINDERS = (0, 15, 60, 24 * 60)  # minutes before the start the reminder goes
PASSWORD_DIGITS = 6
DEFAULT_ZONE = "Europe/Moscow"
TABS = (State.CURRENT, State.SCHEDULED, State.PAST)
MAX_FOUND = 20  # directory search results shown


def may_see(code: str) -> bool:
    account = principal().account
    return account.role.includes(Role.OPERATOR) or own_conference(account, {"code": code})


def shown(meeting: Meeting) -> dict[str, Any]:
    """A conference as the pages show it: the API's view, and whether the caller owns it."""
    data = conferences.public(meeting, conferences.now())
    data["mine"] = meeting.owner.number == principal().account.name
    return data


@blueprint.get("/portal")
@requires(Role.USER)
def my_conferences() -> ResponseReturnValue:
    today = datetime.now(UTC).date()
    state = request.args.get("state", str(State.SCHEDULED))
    state = state if state in {str(s) for s in TABS} else str(State.SCHEDULED)
    year = _bounded(request.args.get("year", ""), 1970, 9998)
    month = _bounded(request.args.get("month", ""), 1, 12) if year is not None else None
    at = conferences.now()
    mine = [m for m in meetings().listed(None, year, month, at)
            if owner_only(principal().account) in (None, m.owner.number)]
    listed = [shown(m) for m in mine if str(m.state(at)) == state]
    if state == str(State.PAST):
        listed.reverse()  # the newest first
    return render_template("portal_list.html", conferences=listed, counts=counts(mine, at), state=state,
                           tabs=TABS, year=year, month=month, years=range(today.year - 2, today.year + 3))


def _bounded(text: str, low: int, high: int) -> int | None:
    if not (text.isascii() and text.isdigit() and len(text) <= 4):
        return None
    number = int(text)
    return number if low <= number <= high else None


# The schedule form ---------------------------------------------------------------------------


def _profiles() -> dict[str, Account]:
    """The employees' accounts by extension number: their profile's e-mail and language."""
    return {a.name: a for a in auth().accounts.list() if a.role is Role.USER}


def _directory(query: str) -> list[dict[str, str]]:
    """Extensions whose number, name or (their employee's profile) e-mail holds the query."""
    query = query.strip().casefold()[:64]
    if not query:
        return []
    profiles = _profiles()
    found = []
    for extension in services().extensions.list():
        email = profiles[extension.number].email or "" if extension.number in profiles else ""
        if query in extension.number or query in extension.display_name.casefold() or query in email.casefold():
            found.append({"number": extension.number, "name": extension.display_name, "email": email})
    return found[:MAX_FOUND]


def _people(form: MultiDict[str, str]) -> list[dict[str, Any]]:
    """Picked from the directory and the contacts ("number:..." or "email:..."), and typed, one per line.
    An extension's employee gets the mail at its profile's address, in its language."""
    people: list[dict[str, Any]] = []
    profiles = _profiles() if form.getlist("pick") else {}
    for picked in form.getlist("pick"):
        kind, _sep, value = picked.partition(":")
        found = profiles.get(value) if kind == "number" else None
        if found is not None and found.email:
            people.append({"number": value, "email": found.email,
                           **({"language": found.language} if found.language else {})})
        elif kind in ("number", "email") and value:
            people.append({kind: value})
    for line in form.get("others", "").splitlines():
        person: dict[str, Any] = {}
        for token in line.split():
            kind = "email" if "@" in token else "number"
            if kind in person:
                raise FieldError("participants", "invalid_field",
                                 "one number and one e-mail address per line at most")
            person[kind] = token
        if person:
            people.append(person)
    unique: list[dict[str, Any]] = []
    for person in people:
        if person not in unique:
            unique.append(person)
    return unique


def form_payload(form: MultiDict[str, str], creating: bool) -> dict[str, Any]:
    """The form as the API's payload, for conference.schedule's rules to judge."""
    payload: dict[str, Any] = {"topic": form.get("topic", "").strip(), "zone": form.get("zone", "").strip(),
                               "participants": _people(form), "auto_invite": "auto_invite" in form}
    if "immediate" in form and creating:
        payload["immediate"] = True
    else:
        payload.update({name: form.get(name, "").strip() for name in ("date", "start", "end")})
    for name in ("auto_extend", "reminder_minutes"):
        text = form.get(name, "0")
        payload[name] = int(text) if text.isascii() and text.isdigit() and len(text) <= 6 else text
    sound = form.get("greeting_sound_id", "")
    payload["greeting_sound_id"] = int(sound) if sound.isascii() and sound.isdigit() and len(sound) <= 9 else None
    for name in ("chair_password", "guest_password"):
        if form.get(name, "").strip():
            payload[name] = form.get(name, "").strip()
    payload["open_dial_in"] = "open_dial_in" in form
    if payload["open_dial_in"]:  # the box is the owner's explicit choice: no guest password
        payload["guest_password"] = None
    own = owner_only(principal().account)
    if own is not None and creating:  # mail to people without a language of their own is in the page's
        email = principal().account.email
        payload["owner"] = {"number": own, "language": language.current(), **({"email": email} if email else {})}
    elif own is None and form.get("owner", "").strip():
        payload["owner"] = {"number": form.get("owner", "").strip()}  # an operator's: whose it is
    return payload


def generated_passwords(payload: dict[str, Any]) -> dict[str, Any]:
    """Chair and guest passwords drawn for the owner when it typed none (different from each other);
    no guest password when it chose open dial-in."""
    drawn = dict(payload)
    if not drawn.get("chair_password"):
        drawn["chair_password"] = _drawn(drawn.get("guest_password"))
    if not drawn.get("open_dial_in") and not drawn.get("guest_password"):
        drawn["guest_password"] = _drawn(drawn["chair_password"])
    return drawn


def _drawn(other: str | None) -> str:
    """A random password, not `other` (the conference's other one)."""
    while (password := "".join(secrets.choice("0123456789") for _ in range(PASSWORD_DIGITS))) == other:
        pass
    return password


def _form(values: dict[str, Any], code: str | None = None, errors: dict[str, str] | None = None,
          found: list[dict[str, str]] | None = None, query: str = "", status: int = 200) -> ResponseReturnValue:
    account = principal().account
    templates = (meetings().personal_templates(account.id) if account.role is Role.USER
                 else meetings().templates())
    book = contacts.contacts().list(principal().account.id)
    shown_keys = {f"number:{p['number']}" for p in found or []} | {
        f"number:{c['number']}" if c["number"] else f"email:{c['email']}" for c in book}
    kept = [key for key in values.get("picked", []) if key not in shown_keys]  # picked by an earlier search
    return render_template("portal_schedule.html", values=values, code=code, errors=errors or {}, found=found or [],
                           query=query, contacts=book, kept=kept,
                           sounds=library().list(), steps=AUTO_EXTEND_STEPS, reminders=REMINDERS,
                           templates=[t["name"] for t in templates]), status


def _values(payload: dict[str, Any]) -> dict[str, Any]:
    """A payload (a template's, a conference's) as the form shows it."""
    people = payload.get("participants") or []
    others = "\n".join(" ".join(str(p[k]) for k in ("number", "email") if p.get(k)) for p in people)
    owner = (payload.get("owner") or {}).get("number") or ""
    return {"zone": principal().account.zone or DEFAULT_ZONE, "auto_invite": True, "auto_extend": 0,
            "reminder_minutes": 0,
            **{k: v for k, v in payload.items() if k not in ("participants", "owner")}, "others": others,
            "owner": owner}


@blueprint.get("/portal/schedule")
@requires(Role.USER)
def schedule_form() -> ResponseReturnValue:
    today = {"date": datetime.now(UTC).date().isoformat()}
    values: dict[str, Any] = dict(today)
    template, repeated = request.args.get("template", ""), request.args.get("repeat", "")
    try:
        if template:
            values = {**today, **conferences.template(template[:100])}
        elif repeated and may_see(repeated):
            past = meetings().get(repeated)
            values = repeat_payload(past, past.local(conferences.now()).date())
        elif principal().account.role is Role.USER and _has_default():
            values = {**today, **meetings().personal_template(principal().account.id)}  # its default
    except NotFoundError:
        flash(_("There is no such template or conference."), "error")
    return _form(_values(values))


def _has_default() -> bool:
    return any(t["default"] for t in meetings().personal_templates(principal().account.id))


@blueprint.post("/portal/schedule")
@requires(Role.USER)
def schedule_conference() -> ResponseReturnValue:
    form = request.form
    if form.get("action") == "search":  # the directory search keeps what was typed
        return _form(_typed(form), found=_directory(form.get("q", "")), query=form.get("q", "")[:64])
    if form.get("action") == "template":  # the form's fields saved under a name, not scheduled
        try:
            conferences.save_template({**form_payload(form, creating=False), "name": form.get("template_name", ""),
                                       "default": "template_default" in form})
        except (FieldError, ApiError, ConflictError, ExistsError) as err:
            field, said = _refusal(err)
            return _form(_typed(form), errors={"template_name" if field == "name" else field: said}, status=400)
        flash(_("Saved as the template %(name)s.", name=form.get("template_name", "")))
        return _form(_typed(form))
    try:
        meeting = conferences.create(generated_passwords(form_payload(form, creating=True)))
    except (FieldError, ConflictError, ApiError, NotFoundError) as err:
        return _form(_typed(form), errors=dict([_refusal(err)]), status=400)
    flash(_("Conference %(code)s is scheduled.", code=meeting.code))
    return redirect(url_for("panel.conference_page", code=meeting.code))


def _typed(form: MultiDict[str, str]) -> dict[str, Any]:
    typed: dict[str, Any] = {k: form.get(k, "") for k in ("topic", "zone", "date", "start", "end", "others", "owner",
                                                            "auto_extend", "reminder_minutes", "greeting_sound_id")}
    typed.update({"auto_invite": "auto_invite" in form, "immediate": "immediate" in form,
                  "open_dial_in": "open_dial_in" in form,
                  "picked": form.getlist("pick")})
    return typed


def _refusal(err: Exception) -> tuple[str, str]:
    if isinstance(err, FieldError):
        return err.field or "", _("Check this field: %(reason)s", reason=str(err))
    if isinstance(err, ConflictError):  # ConflictError and NotFoundError are kinds of ExistsError
        return "", _("It was being changed at the same moment. Send the form again.")
    if isinstance(err, NotFoundError):
        return "", _("There is no such template or conference.")
    if isinstance(err, ExistsError):
        return "name", _("This is taken already.")
    if isinstance(err, ApiError) and err.status == 409:
        return "", _("This conference can no longer be changed: it has started or is over.")
    return (err.field or "") if isinstance(err, ApiError) else "", _("This is not allowed.")


@blueprint.get("/portal/conferences/<code>/edit")
@OWN
def edit_conference(code: str) -> ResponseReturnValue:
    meeting = meetings().get(code)
    data = conferences.public(meeting, conferences.now())
    if meeting.state(conferences.now()) is not State.SCHEDULED:
        flash(_("This conference can no longer be changed: it has started or is over."), "error")
        return redirect(url_for("panel.conference_page", code=code))
    return _form(_values(data), code=code)


@blueprint.post("/portal/conferences/<code>/edit")
@OWN
def update_conference(code: str) -> ResponseReturnValue:
    if request.form.get("action") == "search":
        return _form(_typed(request.form), code=code, found=_directory(request.form.get("q", "")),
                     query=request.form.get("q", "")[:64])
    try:
        payload = form_payload(request.form, creating=False)
        current = meetings().get(code)
        payload["participants"] = _kept(payload["participants"], current.participants)
        if not payload["open_dial_in"] and current.guest_password is None:  # open no more: a password now
            payload["guest_password"] = _drawn(current.chair_password)
        conferences.update(code, payload)
    except (FieldError, ConflictError, ApiError) as err:
        return _form(_typed(request.form), code=code, errors=dict([_refusal(err)]), status=400)
    flash(_("Conference %(code)s is changed; its participants are mailed.", code=code))
    return redirect(url_for("panel.conference_page", code=code))


def _kept(people: list[dict[str, Any]], before: tuple[Person, ...]) -> list[dict[str, Any]]:
    """An edit's participants: a line left as it was keeps what the form does not show (name, zone,
    language of a participant picked from the directory)."""
    known = {(p.number, p.email): p.as_dict() for p in before}
    return [known.get((person.get("number"), person.get("email")), person) for person in people]


@blueprint.post("/portal/conferences/<code>/delete")
@OWN
def delete_conference(code: str) -> ResponseReturnValue:
    try:
        conferences.cancel(code)
    except ApiError:
        flash(_("This conference can no longer be changed: it has started or is over."), "error")
        return redirect(url_for("panel.conference_page", code=code))
    flash(_("Conference %(code)s is cancelled; its participants are mailed.", code=code))
    return redirect(url_for("panel.my_conferences"))


# History, contacts, help --------------------------------------------------------------------


@blueprint.get("/portal/history")
@requires(Role.USER)
def portal_history() -> ResponseReturnValue:
    until = _day(request.args.get("until", "")) or datetime.now(UTC).date() + timedelta(days=1)
    since = _day(request.args.get("since", "")) or until - timedelta(days=31)
    first = datetime.combine(since, datetime.min.time(), UTC)
    last = datetime.combine(until, datetime.min.time(), UTC)
    held = [m for m in meetings().between(first, last) if owner_only(principal().account) in (None, m.owner.number)]
    return render_template("portal_history.html", since=since, until=until,
                           conferences=[{**shown(m), "attendance": meetings().attendance(m.code)} for m in held])


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text) if len(text) == 10 else None
    except ValueError:
        return None


@blueprint.get("/portal/contacts")
@requires(Role.USER)
def portal_contacts() -> ResponseReturnValue:
    return _contacts_page()


def _contacts_page(errors: dict[str, str] | None = None, typed: dict[str, str] | None = None,
                   status: int = 200) -> ResponseReturnValue:
    return render_template("portal_contacts.html", contacts=contacts.contacts().list(principal().account.id),
                           errors=errors or {}, typed=typed or {}), status


@blueprint.post("/portal/contacts")
@requires(Role.USER)
def add_contact() -> ResponseReturnValue:
    typed = {name: request.form.get(name, "").strip() for name in ("name", "number", "email")}
    try:
        contacts.create({name: value or (None if name != "name" else "") for name, value in typed.items()})
    except (FieldError, ApiError) as err:
        return _contacts_page(dict([_refusal(err)]), typed, status=400)
    flash(_("Contact saved."))
    return redirect(url_for("panel.portal_contacts"))


@blueprint.post("/portal/contacts/<contact_id>/delete")
@requires(Role.USER)
def delete_contact(contact_id: str) -> ResponseReturnValue:
    if contact_id.isascii() and contact_id.isdigit() and len(contact_id) <= 18:
        try:
            contacts.contacts().delete(principal().account.id, int(contact_id))
        except NotFoundError:  # gone already, or never this account's: one answer for both
            flash(_("There is no such contact."), "error")
        else:
            flash(_("Contact deleted."))
    return redirect(url_for("panel.portal_contacts"))


@blueprint.get("/portal/help")
@requires(Role.USER)
def portal_help() -> ResponseReturnValue:
    return render_template("portal_help.html", dial_in=services().dial_in)
