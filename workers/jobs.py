"""RQ jobs. Each takes ids, builds what it needs, and is safe to run twice."""

from __future__ import annotations

from sqlalchemy import select

import settings
from stack.prompts import RATES, speak
from store.cdrs import CdrRepository
from store.migrations import migrated_engine
from store.queue import QUEUE as QUEUE  # re-exported until workers/main.py imports it from store.queue
from store.queue import enqueue_cdr as enqueue_cdr  # re-exported until bridge/ imports it from store.queue
from store.queue import enqueue_import as enqueue_import  # likewise
from store.recordings import RecordingRepository
from store.sql import Extension, make_sessions


def recordings_folder(config: settings.Config) -> RecordingRepository:
    return RecordingRepository(make_sessions(migrated_engine(config)), config.var_path / "recordings")


def import_recording(recording_id: str) -> bool:
    """File a finished recording in SQL (the bridge enqueues this when a session ends)."""
    return recordings_folder(settings.load()).import_one(recording_id)


def cdr_spool(config: settings.Config) -> CdrRepository:
    return CdrRepository(make_sessions(migrated_engine(config)), config.var_path / "cdrs")


def import_cdr(record_id: str) -> bool:
    """File a call detail record the bridge spooled when a leg ended."""
    return cdr_spool(settings.load()).import_one(record_id)


def speak_name(number: str) -> bool:
    """Synthesize an extension's display name for local conferences that announce callers
    (sounds/names/<number>-<rate>.wav); no extension or no name: no file. True if spoken."""
    config = settings.load()
    folder = config.var_path / "sounds" / "names"
    with make_sessions(migrated_engine(config))() as session:
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
