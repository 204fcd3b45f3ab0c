"""Extensions and voice menus (operators), trunks (admins): list, create, edit, delete, through the API's
own functions (web.phones, web.menus): the same rules, the same shared number space, the same spoken
names and greetings."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from conference.extensions import MAX_LIST, MAX_PASSWORD, MIN_PASSWORD, Presentation
from conference.fields import FieldError
from conference.menus import MAX_GREETING_TEXT, MAX_TRIES, MenuSettings
from conference.rooms import MAX_NAME_LENGTH, MAX_NUMBER_LENGTH, MAX_PIN_LENGTH, MIN_PIN_LENGTH
from store.accounts import Role
from store.projected import ConflictError, ExistsError
from web import menus, phones
from web.access import requires
from web.panel import blueprint
from web.panel.fields import FormField, Kind, payload, refusal, stored
from web.services import services

REFUSALS = (FieldError, ExistsError, ConflictError)
_LANGUAGES = (("en", _l("English")), ("ru", _l("Russian")))
_PRESENTATIONS = ((Presentation.PAI.value, _l("The P-Asserted-Identity header")),
                  (Presentation.PAI_AND_FROM.value, _l("The P-Asserted-Identity and From headers")))

EXTENSION_FIELDS = (
    FormField("number", _l("Number"), _l("The extension's number: %(min)d to %(max)d digits, not a room's.",
                                         min=1, max=MAX_NUMBER_LENGTH), key=True),
    FormField("password", _l("SIP password"), _l("What the phone registers with: %(min)d to %(max)d printable "
                                                 "characters. Also the employee's panel password.",
                                                 min=MIN_PASSWORD, max=MAX_PASSWORD), kind=Kind.SECRET),
    FormField("display_name", _l("Name"), _l("The employee's name, up to %(max)d characters; it is spoken too.",
                                             max=MAX_NAME_LENGTH)),
    FormField("language", _l("Language"), _l("Of the voice prompts in its own conference."),
              kind=Kind.CHOICE, choices=_LANGUAGES),
    FormField("consult_merge", _l("Consult and merge with #"),
              _l("During a call, # consults another number and # again makes it a conference."), kind=Kind.FLAG),
    FormField("external_calls", _l("Outside calls"), _l("May call numbers behind the trunks."), kind=Kind.FLAG),
    FormField("forward_to", _l("Forward every call to"), _l("An extension, room or outside number. Empty: no "
                                                            "forwarding."), kind=Kind.OPTIONAL),
    FormField("conference_pin", _l("Conference PIN"), _l("Others type it to join its *8 conference: %(min)d to "
                                                         "%(max)d digits. Empty: no PIN.",
                                                         min=MIN_PIN_LENGTH, max=MAX_PIN_LENGTH),
              kind=Kind.SECRET, clearable=True),
    FormField("conference_end_on_exit", _l("End its conference when it leaves"),
              _l("Everyone is hung up on when the extension leaves its *8 conference."), kind=Kind.FLAG),
    FormField("conference_announce_caller_name", _l("Announce callers' names"),
              _l("Its conference says who joins."), kind=Kind.FLAG),
    FormField("direct_media", _l("Direct media"),
              _l("Its calls to conferences send audio straight to the bridge, without rtpengine, when they need "
                 "no encryption, NAT help or transcoding: for phones on the LAN. Off: always through rtpengine."),
              kind=Kind.FLAG),
)
TRUNK_FIELDS = (
    FormField("name", _l("Name"), _l("1 to 32 lowercase letters, digits, - or _."), key=True),
    FormField("gateway", _l("Gateway"), _l("Where calls go: host or host:port.")),
    FormField("sources", _l("Source addresses"), _l("The IPv4 addresses (optionally :port) its calls come from, "
                                                    "one per line, up to %(max)d.", max=MAX_LIST), kind=Kind.LINES),
    FormField("prefixes", _l("Outbound prefixes"), _l("Numbers starting so go out through this trunk, one per line."),
              kind=Kind.LINES),
    FormField("inbound", _l("Inbound numbers"), _l("One per line: its number = the local extension or room."),
              kind=Kind.PAIRS),
    FormField("trusted", _l("Trusted"), _l("Its calls keep their own caller identity (P-Asserted-Identity, "
                                           "Remote-Party-ID, Diversion) when forwarded out through a trunk."),
              kind=Kind.FLAG),
    FormField("caller_id", _l("Caller ID"), _l("The number calls out through this trunk show, e.g. the company's "
                                               "main number: digits, optionally after +. Empty: the caller's "
                                               "own (the extension's, the customer's, the installation's)."),
              kind=Kind.OPTIONAL),
    FormField("present_as", _l("Number shown in"), _l("Many carriers read only the From header."),
              kind=Kind.CHOICE, choices=_PRESENTATIONS),
    FormField("callback", _l("Call back"), _l("Inbound numbers whose callers hear busy and are called back, one per "
                                              "line; once they answer they are put through to what the number leads "
                                              "to (a menu, a room, an extension)."), kind=Kind.LINES),
    FormField("callback_owner", _l("Call back for"), _l("The extension the calls back are made for: on its rights "
                                                        "and billed to it."), kind=Kind.OPTIONAL),
    FormField("callback_per_hour", _l("Calls back an hour"), _l("To one number, at most, 1 to 20."),
              kind=Kind.INTEGER),
    FormField("direct_media", _l("Direct media"),
              _l("Its calls to conferences send audio straight to the bridge, without rtpengine, when they need "
                 "no encryption, NAT help or transcoding: for carriers that reach the bridge without NAT. Off: "
                 "always through rtpengine."), kind=Kind.FLAG),
)
MENU_FIELDS = (
    FormField("number", _l("Number"), _l("What callers dial (or a trunk's inbound number leads to): %(min)d to "
                                         "%(max)d digits, not a room's or an extension's.", min=1,
                                         max=MAX_NUMBER_LENGTH), key=True),
    FormField("name", _l("Name"), _l("A name to tell menus apart, up to %(max)d characters.", max=MAX_NAME_LENGTH)),
    FormField("language", _l("Language"), _l("Of its prompts and its spoken greeting."), kind=Kind.CHOICE,
              choices=_LANGUAGES),
    FormField("greeting_text", _l("Greeting"), _l("Spoken to every caller, e.g. \"For sales press 1\", up to "
                                                  "%(max)d characters.", max=MAX_GREETING_TEXT)),
    FormField("greeting_sound_id", _l("Greeting sound"),
              _l("The id of a library sound played instead of the spoken greeting. Empty: none."),
              kind=Kind.OPTIONAL_INTEGER),
    FormField("options", _l("Keys"), _l("One per line: a key (0-9, *, #) = where it sends the caller: a room, an "
                                        "extension, another menu or an outside number."), kind=Kind.PAIRS),
    FormField("owner", _l("Owner extension"), _l("Callers are sent on with its rights (outside numbers only if it "
                                                 "may call them). Empty: an operator's rights."), kind=Kind.OPTIONAL),
    FormField("timeout_seconds", _l("Wait for a key"), _l("Seconds of silence after the greeting, %(min)d to "
                                                          "%(max)d.", min=2, max=60), kind=Kind.INTEGER),
    FormField("timeout_destination", _l("After the silence"), _l("Where a caller who pressed nothing goes. Empty: "
                                                                 "the greeting again."), kind=Kind.OPTIONAL),
    FormField("tries", _l("Tries"), _l("Wrong keys (and silences) before the caller is sent to the next field's "
                                       "number, 1 to %(max)d.", max=MAX_TRIES), kind=Kind.INTEGER),
    FormField("invalid_destination", _l("After the last try"), _l("Empty: goodbye."), kind=Kind.OPTIONAL),
    FormField("time_zone", _l("Time zone"), _l("Of the opening hours, e.g. Europe/Moscow.")),
    FormField("hours", _l("Opening hours"), _l("One span per line, e.g. mon-fri 09:00-18:00. Empty: always open."),
              kind=Kind.LINES),
    FormField("closed_destination", _l("When closed"), _l("Where callers go outside the opening hours. Empty: "
                                                          "they hear that it is closed."), kind=Kind.OPTIONAL),
)


def _form(title: str, fields: tuple[FormField, ...], values: dict[str, Any], action: str, back: str,
          creating: bool, errors: dict[str, str] | None = None, status: int = 200) -> ResponseReturnValue:
    return render_template("entity_form.html", title=title, fields=fields, values=values, action=action,
                           back=back, creating=creating, errors=errors or {}), status


def _typed(fields: tuple[FormField, ...]) -> dict[str, Any]:
    """The form as sent, shown again beside its error (never a secret)."""
    return {f.name: (f.name in request.form) if f.kind is Kind.FLAG else request.form.get(f.name, "")
            for f in fields if f.kind is not Kind.SECRET}


def _save(fields: tuple[FormField, ...], creating: bool, apply: Callable[[dict[str, Any]], Any],
          title: str, back: str, done: str) -> ResponseReturnValue:
    try:
        apply(payload(fields, request.form, creating))
    except REFUSALS as err:
        field, message = refusal(fields, err)
        return _form(title, fields, _typed(fields), request.path, back, creating, {field: message}, 400)
    flash(done)
    return redirect(back)


# Extensions ------------------------------------------------------------------------------------


@blueprint.get("/extensions")
@requires(Role.OPERATOR)
def extensions() -> ResponseReturnValue:
    return render_template("extensions.html", extensions=services().extensions.list())


@blueprint.route("/extensions/new", methods=["GET", "POST"])
@requires(Role.OPERATOR)
def new_extension() -> ResponseReturnValue:
    back, title = url_for("panel.extensions"), _("New extension")
    if request.method == "GET":
        return _form(title, EXTENSION_FIELDS, {"external_calls": True, "language": "en"}, request.path, back, True)
    return _save(EXTENSION_FIELDS, True, phones.add_extension, title, back,
                 _("Extension %(number)s is created.", number=request.form.get("number", "")))


@blueprint.route("/extensions/<number>/edit", methods=["GET", "POST"])
@requires(Role.OPERATOR)
def edit_extension(number: str) -> ResponseReturnValue:
    current = services().extensions.get(number)
    back, title = url_for("panel.extensions"), _("Extension %(number)s", number=number)
    if request.method == "GET":
        return _form(title, EXTENSION_FIELDS, stored(EXTENSION_FIELDS, current.as_dict()), request.path, back, False)
    return _save(EXTENSION_FIELDS, False, lambda data: phones.change_extension(number, data), title, back,
                 _("Extension %(number)s is saved.", number=number))


@blueprint.route("/extensions/<number>/delete", methods=["GET", "POST"])
@requires(Role.OPERATOR)
def delete_extension(number: str) -> ResponseReturnValue:
    services().extensions.get(number)  # 404 for an unknown one
    if request.method == "GET":
        return render_template("confirm_delete.html", question=_("Delete extension %(number)s?", number=number),
                               action=request.path, back=url_for("panel.extensions"))
    phones.remove_extension(number)
    flash(_("Extension %(number)s is deleted.", number=number))
    return redirect(url_for("panel.extensions"))


# Trunks ----------------------------------------------------------------------------------------


@blueprint.get("/trunks")
@requires(Role.ADMIN)
def trunks() -> ResponseReturnValue:
    return render_template("trunks.html", trunks=services().trunks.list())


@blueprint.route("/trunks/new", methods=["GET", "POST"])
@requires(Role.ADMIN)
def new_trunk() -> ResponseReturnValue:
    back, title = url_for("panel.trunks"), _("New trunk")
    if request.method == "GET":
        return _form(title, TRUNK_FIELDS, {"present_as": Presentation.PAI.value}, request.path, back, True)
    return _save(TRUNK_FIELDS, True, phones.add_trunk, title, back,
                 _("Trunk %(name)s is created.", name=request.form.get("name", "")))


@blueprint.route("/trunks/<name>/edit", methods=["GET", "POST"])
@requires(Role.ADMIN)
def edit_trunk(name: str) -> ResponseReturnValue:
    current = services().trunks.get(name)
    back, title = url_for("panel.trunks"), _("Trunk %(name)s", name=name)
    if request.method == "GET":
        return _form(title, TRUNK_FIELDS, stored(TRUNK_FIELDS, current.as_dict()), request.path, back, False)
    return _save(TRUNK_FIELDS, False, lambda data: phones.change_trunk(name, data), title, back,
                 _("Trunk %(name)s is saved.", name=name))


@blueprint.route("/trunks/<name>/delete", methods=["GET", "POST"])
@requires(Role.ADMIN)
def delete_trunk(name: str) -> ResponseReturnValue:
    services().trunks.get(name)
    if request.method == "GET":
        return render_template("confirm_delete.html", question=_("Delete trunk %(name)s?", name=name),
                               action=request.path, back=url_for("panel.trunks"))
    services().trunks.delete(name)
    flash(_("Trunk %(name)s is deleted.", name=name))
    return redirect(url_for("panel.trunks"))


# Voice menus -----------------------------------------------------------------------------------


@blueprint.get("/menus")
@requires(Role.OPERATOR)
def menus_page() -> ResponseReturnValue:
    return render_template("menus.html", menus=services().menus.list())


@blueprint.route("/menus/new", methods=["GET", "POST"])
@requires(Role.OPERATOR)
def new_menu() -> ResponseReturnValue:
    back, title = url_for("panel.menus_page"), _("New voice menu")
    if request.method == "GET":
        return _form(title, MENU_FIELDS, stored(MENU_FIELDS, MenuSettings("").as_dict()), request.path, back, True)
    return _save(MENU_FIELDS, True, menus.add_menu, title, back,
                 _("Voice menu %(number)s is created.", number=request.form.get("number", "")))


@blueprint.route("/menus/<number>/edit", methods=["GET", "POST"])
@requires(Role.OPERATOR)
def edit_menu(number: str) -> ResponseReturnValue:
    current = services().menus.get(number)
    back, title = url_for("panel.menus_page"), _("Voice menu %(number)s", number=number)
    if request.method == "GET":
        return _form(title, MENU_FIELDS, stored(MENU_FIELDS, current.as_dict()), request.path, back, False)
    return _save(MENU_FIELDS, False, lambda data: menus.change_menu(number, data), title, back,
                 _("Voice menu %(number)s is saved.", number=number))


@blueprint.route("/menus/<number>/delete", methods=["GET", "POST"])
@requires(Role.OPERATOR)
def delete_menu(number: str) -> ResponseReturnValue:
    services().menus.get(number)
    if request.method == "GET":
        return render_template("confirm_delete.html", question=_("Delete voice menu %(number)s?", number=number),
                               action=request.path, back=url_for("panel.menus_page"))
    menus.remove_menu(number)
    flash(_("Voice menu %(number)s is deleted.", number=number))
    return redirect(url_for("panel.menus_page"))
