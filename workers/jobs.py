"""RQ jobs. Each takes ids, builds what it needs, and is safe to run twice."""

from __future__ import annotations

import functools

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

import settings
from stack.prompts import RATES, speak
from store import live
from store.cdrs import CdrRepository
from store.directory import menu_of
from store.recordings import RecordingRepository
from store.sql import Extension, Menu, make_engine, make_sessions


@functools.cache
def config() -> settings.Config:
    """This process's configuration, read once."""
    return settings.load()


@functools.cache
def sessions() -> sessionmaker[Session]:
    """The database, read once per process and never migrated here: the schema is brought up to date
    by store.bootstrap, the `before` step the supervisor runs (for the web app) before it starts the
    worker. RQ forks a work horse per job, so there this lives for one job."""
    return make_sessions(make_engine(config().database_url))


def import_recording(recording_id: str) -> bool:
    """File a finished recording in SQL (the bridge enqueues this when a session ends), and tell the
    room event stream that it can be downloaded (`recording_ready`, for webhooks)."""
    repository = RecordingRepository(sessions(), config().var_path / "recordings")
    if not repository.import_one(recording_id):
        return False
    filed = repository.get(recording_id)
    if filed is not None:
        live.room_event(live.connect(config().redis_url, timeout=2.0), "recording_ready", filed["room"],
                        recording=recording_id, duration_ms=round(filed["duration_seconds"] * 1000))
    return True


def import_cdr(record_id: str) -> bool:
    """File a call detail record the bridge spooled when a leg ended."""
    return CdrRepository(sessions(), config().var_path / "cdrs").import_one(record_id)


def speak_menu(number: str) -> bool:
    """Synthesize a voice menu's greeting_text (sounds/menus/<number>-<rate>.wav), played when it has
    no greeting sound; no menu or no text: no file. True if spoken."""
    folder = config().var_path / "sounds" / "menus"
    if not (number.isascii() and number.isdigit()):
        return False  # never a path made of anything else
    with sessions()() as session:
        row = session.scalars(select(Menu).where(Menu.number == number)).first()
        menu = None if row is None else menu_of(row)
    if menu is None or not menu.greeting_text.strip():
        for rate in RATES:
            (folder / f"{number}-{rate}.wav").unlink(missing_ok=True)
        return False
    speak(menu.greeting_text.strip(), menu.language, folder, number)
    return True


def speak_name(number: str) -> bool:
    """Synthesize an extension's display name for local conferences that announce callers
    (sounds/names/<number>-<rate>.wav); no extension or no name: no file. True if spoken."""
    folder = config().var_path / "sounds" / "names"
    with sessions()() as session:
        extension = session.scalars(select(Extension).where(Extension.number == number)).first()
        name, language = (extension.display_name.strip(), extension.language) if extension else ("", "en")
    if not (number.isascii() and number.isdigit()):
        return False  # never a path made of anything else
    if not name:
        for rate in RATES:
            (folder / f"{number}-{rate}.wav").unlink(missing_ok=True)
        return False
    speak(name, language, folder, number)
    return True
