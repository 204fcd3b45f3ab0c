"""What each /api/v1 view requires: the least role, declared once per blueprint or per route.

    blueprint = ApiBlueprint("rooms", __name__, role=Role.OPERATOR)  # every route of it

    @blueprint.get("/extensions/<number>")
    @requires(Role.OPERATOR, unless=own_extension)  # this route: also the extension's own user

    @blueprint.post("/session")
    @public  # no credentials at all

A view that declares nothing is refused to everyone (web.auth.guard), and a test walks the URL
map so that a new endpoint cannot be left without a declaration.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import Blueprint, Flask

from store.accounts import Account, Role
from store.projected import NotFoundError

F = TypeVar("F", bound=Callable[..., Any])
_ATTRIBUTE = "kamconf_access"

Ownership = Callable[[Account, dict[str, Any]], bool]  # (account, the URL's arguments) -> is it its own?


@dataclass(frozen=True)
class Access:
    role: Role | None  # None: public
    unless: Ownership | None = None  # lets an account with a lesser role through for what is its own

    def allows(self, account: Account, view_args: dict[str, Any]) -> bool:
        if self.role is None or account.role.includes(self.role):
            return True
        return self.unless is not None and self.unless(account, view_args)


PUBLIC = Access(None)


def requires(role: Role, unless: Ownership | None = None) -> Callable[[F], F]:
    """This route needs `role` (whatever its blueprint says), or what `unless` allows."""
    def declare(view: F) -> F:
        setattr(view, _ATTRIBUTE, Access(role, unless))
        return view
    return declare


def public(view: F) -> F:
    """This route needs no credentials: signing in, the OpenAPI document."""
    setattr(view, _ATTRIBUTE, PUBLIC)
    return view


class ApiBlueprint(Blueprint):
    """A blueprint whose routes need `role` unless a route declares otherwise."""

    def __init__(self, name: str, import_name: str, role: Role) -> None:
        super().__init__(name, import_name)
        self.role = role

    def add_url_rule(self, rule: str, endpoint: str | None = None, view_func: Callable[..., Any] | None = None,
                     provide_automatic_options: bool | None = None, **options: Any) -> None:
        if view_func is not None and not hasattr(view_func, _ATTRIBUTE):
            setattr(view_func, _ATTRIBUTE, Access(self.role))
        super().add_url_rule(rule, endpoint, view_func, provide_automatic_options, **options)


def access_of(app: Flask, endpoint: str | None) -> Access | None:
    """What the endpoint declared; None if nothing (or no such endpoint)."""
    view = app.view_functions.get(endpoint) if endpoint else None
    found: Access | None = getattr(view, _ATTRIBUTE, None)
    return found


def own_extension(account: Account, view_args: dict[str, Any]) -> bool:
    """A user's own extension: the one whose number names the account."""
    return account.role is Role.USER and view_args.get("number") == account.name


def number_of(kind: str, text: str) -> int:
    """An id from the URL. A plain <id> rule, not <int:id>, so that anything else answers the
    API's own 404 (and is guarded like every other path)."""
    if not (text.isascii() and text.isdigit() and len(text) <= 18):
        raise NotFoundError(kind, text)
    return int(text)
