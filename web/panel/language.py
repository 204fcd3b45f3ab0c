"""The panel's language: the account's choice (kept with the account in SQL, store.accounts), else
what the browser asks for (the sign-in page, and an account that never chose)."""

from __future__ import annotations

from flask import g, request
from flask_babel import get_locale

from store.accounts import PANEL_LANGUAGES as LANGUAGES

NAMES = {"en": "English", "ru": "Русский"}


def select() -> str:
    """Flask-Babel's locale selector. The signed-in account was read for this request already."""
    who = g.get("panel_caller")
    if who is not None and who.account.language:
        return str(who.account.language)
    return request.accept_languages.best_match(LANGUAGES) or LANGUAGES[0]


def current() -> str:
    return str(get_locale() or LANGUAGES[0])
