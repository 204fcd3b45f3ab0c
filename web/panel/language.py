"""The panel's language: the account's choice, else what the browser asks for (the sign-in page).

The choice is kept in Redis under one key per account: the accounts table has no column for it
yet (store/ belongs to the accounts schema; moving it there is a migration of its own).
"""

from __future__ import annotations

import redis
from flask import g, request
from flask_babel import get_locale

LANGUAGES = ("en", "ru")
NAMES = {"en": "English", "ru": "Русский"}
_CHOICE = "kamconf:panel:language:{}"  # string: account id -> "en" | "ru"


def chosen(client: redis.Redis, account_id: int) -> str | None:
    value = client.get(_CHOICE.format(account_id))
    return str(value) if value in LANGUAGES else None


def choose(client: redis.Redis, account_id: int, language: str) -> None:
    if language not in LANGUAGES:
        raise ValueError(language)
    client.set(_CHOICE.format(account_id), language)


def select() -> str:
    """Flask-Babel's locale selector."""
    from web.services import services  # the app's composition, at request time

    who = g.get("panel_caller")
    if who is not None:
        try:
            found = chosen(services().client, who.account.id)
        except redis.RedisError:
            found = None  # a page in the browser's language beats no page
        if found:
            return found
    return request.accept_languages.best_match(LANGUAGES) or LANGUAGES[0]


def current() -> str:
    return str(get_locale() or LANGUAGES[0])
