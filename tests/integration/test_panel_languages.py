"""Both languages of the panel: the Russian catalogue translates every message the panel's code
and templates say (walked by Babel's own extractor), its compiled form is up to date, every
page renders in each language without an untranslated message left on it, and an account's choice
is kept with the account in SQL (migration 0010)."""

from __future__ import annotations

import re
from pathlib import Path

import redis
from alembic import command
from alembic.config import Config as AlembicConfig
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import inspect, text

from store import live, migrations
from store.accounts import Account
from store.migrations import upgrade
from store.sql import make_engine
from tests.integration.conftest import ADMIN_PASSWORD, OPERATOR_PASSWORD, auth_services
from tests.integration.test_panel import html, sign_in
from web.panel.language import NAMES

PANEL = Path(__file__).resolve().parents[2] / "web" / "panel"
CATALOGUE = PANEL / "translations" / "ru" / "LC_MESSAGES"
METHODS = [("**/templates/**.html", "jinja2"), ("**.py", "python")]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}
# GET pages, with an example of each URL argument (made by the test below).
ARGUMENTS = {"number": "5100", "name": "carrier", "account_id": "1", "code": "CODE"}


def extracted() -> set[str]:
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(PANEL, METHODS, keywords=KEYWORDS):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


def test_the_russian_catalogue_translates_every_message() -> None:
    with (CATALOGUE / "messages.po").open("rb") as handle:
        catalogue = read_po(handle)
    said = extracted()
    assert len(said) > 100
    translated = {}
    for message in catalogue:
        if message.id:
            key = message.id[0] if isinstance(message.id, tuple) else message.id
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            assert all(strings) and not message.fuzzy, key
            translated[key] = strings
    assert sorted(said - set(translated)) == []
    assert sorted(set(translated) - said) == []  # nothing stale either
    for key, strings in translated.items():  # a placeholder lost in translation would fail at runtime
        for string in strings:
            assert placeholders(str(string)) <= placeholders(str(key)) | {"num"}, key


def placeholders(message: str) -> set[str]:
    return set(re.findall(r"%\((\w+)\)", message))


def test_the_compiled_catalogue_is_the_catalogue() -> None:
    with (CATALOGUE / "messages.po").open("rb") as po, (CATALOGUE / "messages.mo").open("rb") as mo:
        source, compiled = read_po(po), read_mo(mo)
    def pairs(catalogue: Catalog) -> set[tuple[object, object]]:
        return {(_frozen(m.id), _frozen(m.string)) for m in catalogue if m.id}

    assert pairs(source) == pairs(compiled)


def _frozen(value: object) -> object:
    return tuple(value) if isinstance(value, (list, tuple)) else value


def pages(app: Flask) -> list[str]:
    found = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("panel.") and "GET" in (rule.methods or ()) and rule.endpoint != "panel.static":
            path = re.sub(r"<(\w+)>", lambda m: ARGUMENTS[m.group(1)], rule.rule)
            found.append(path.replace("/extensions/5100", "/extensions/2001").replace("/menus/5100", "/menus/700"))
    return sorted(found)


def test_every_page_renders_in_both_languages_with_nothing_left_untranslated(
    app: Flask, api: FlaskClient, people: dict[str, Account], client: redis.Redis,
    headers: dict[str, dict[str, str]],
) -> None:
    trunk = {"name": "carrier", "gateway": "192.0.2.50", "sources": ["192.0.2.50"], "inbound": {"+100": "2001"}}
    assert api.post("/api/v1/trunks", json=trunk, headers=headers["admin"]).status_code == 201
    menu = {"number": "700", "options": {"1": "2001"}, "hours": ["mon-fri 09:00-18:00"]}
    assert api.post("/api/v1/menus", json=menu, headers=headers["admin"]).status_code == 201
    with (CATALOGUE / "messages.po").open("rb") as handle:
        english = [m.id for m in read_po(handle) if isinstance(m.id, str) and len(m.id) > 12 and "%" not in m.id]
    live.put_participant(client, "5100", "p1", {"id": "p1", "caller": "sip:a@127.0.0.1", "role": "user",
                                                "state": "in_conference", "joined_at": 1.0})
    for language in ("en", "ru"):
        fresh = app.test_client()
        assert sign_in(fresh, "boss", ADMIN_PASSWORD, language).status_code == 302
        token = re.search(r'name="csrf_token" value="([^"]+)"', html(fresh.get("/", follow_redirects=True)))
        assert token
        fresh.post("/language", data={"csrf_token": token.group(1), "language": language})
        fresh.post("/rooms/new", data={"csrf_token": token.group(1), "number": "5100", "user_pin": "1234"})
        made = fresh.post("/portal/schedule", data={"csrf_token": token.group(1), "topic": "Now", "immediate": "on",
                                                    "zone": "UTC", "owner": "2001"})
        code = made.headers["Location"].rsplit("/", 1)[-1]  # a running conference: its roster and actions show
        live.put_participant(client, f"conf-{code}", "p1", {"id": "p1", "caller": "sip:2001@127.0.0.1",
                                                            "role": "admin", "state": "in_conference",
                                                            "joined_at": 1.0})
        for path in [p.replace("CODE", code) for p in pages(app) if p not in ("/logout", "/live/events")]:
            page = fresh.get(path)
            assert page.status_code in (200, 302), (language, path, page.status_code)
            assert "Traceback" not in html(page)
            text = html(page)
            if language == "ru" and page.status_code == 200:
                left = [message for message in english if message in text]
                assert left == [], (path, left)
                assert '<html lang="ru">' in text or path in ("/live/rooms", "/cdrs.csv") or path.endswith("/roster")
            if language == "en":
                assert not re.search("[\u0400-\u04ff]", text.replace(NAMES["ru"], "")), path


def test_the_chosen_language_is_kept_with_the_account(
    app: Flask, people: dict[str, Account], client: redis.Redis
) -> None:
    first, second = app.test_client(), app.test_client()
    assert sign_in(first, "op", OPERATOR_PASSWORD, "en").status_code == 302
    token = re.search(r'name="csrf_token" value="([^"]+)"', html(first.get("/rooms")))
    assert token
    assert first.post("/language", data={"csrf_token": token.group(1), "language": "xx"}).status_code == 302
    assert auth_services(app).accounts.get(people["operator"].id).language is None  # not a panel language
    first.post("/language", data={"csrf_token": token.group(1), "language": "ru"})
    assert auth_services(app).accounts.get(people["operator"].id).language == "ru"  # in SQL, with the account

    client.flushdb()  # live state lost: the choice is not in it
    assert sign_in(second, "op", OPERATOR_PASSWORD, "en").status_code == 302  # another browser, asking for English
    assert '<html lang="ru">' in html(second.get("/rooms"))
    assert auth_services(app).accounts.get(people["admin"].id).language is None  # others keep their browsers'


def test_migration_0010_adds_the_language_and_takes_it_back(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'kamconf.db'}")
    config = AlembicConfig()
    config.set_main_option("script_location", str(migrations.HERE))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0009")
        connection.execute(text("UPDATE accounts SET name = 'boss'"))  # an account made before 0010
    upgrade(engine)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT name, language FROM accounts")).all() == [("boss", None)]
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0009")
    assert "language" not in {column["name"] for column in inspect(engine).get_columns("accounts")}
