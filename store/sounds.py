"""The sound library: a SQL row per sound, and its audio converted for the bridge
into `<id>-8000.wav` and `<id>-16000.wav` under one folder.

File names come only from the numeric id; the uploaded name is display text in
SQL. Every file is written under a temporary name in the same folder and renamed
into place, so a half-written file is never visible, and a failed upload leaves
neither a row nor a file behind.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, sessionmaker

from store import audio
from store.audio import RATES, AudioError
from store.sql import Room, Sound, reading

log = logging.getLogger("kamconf.store.sounds")

MIN_SECONDS = 0.5  # shorter is a mistake (a click), not a greeting
TEMP_PREFIX = ".tmp-"  # hidden, and never a name sound_path() could give


class SoundNotFoundError(Exception):
    pass


class SoundInUseError(Exception):
    def __init__(self, sound_id: int, rooms: list[str]) -> None:
        super().__init__(sound_id)
        self.sound_id, self.rooms = sound_id, rooms


@dataclass(frozen=True)
class SoundInfo:
    id: int
    name: str
    original_filename: str
    format: str
    duration_ms: int
    size_bytes: int
    created_at: datetime


@dataclass(frozen=True)
class Upload:
    """An upload already staged (see SoundRepository.stage) and sniffed."""

    path: Path
    kind: str  # "wav" or "mp3"
    size: int
    name: str
    original_filename: str


def to_info(row: Sound) -> SoundInfo:
    # SQLite hands back naive datetimes; they were written in UTC.
    created = row.created_at if row.created_at.tzinfo else row.created_at.replace(tzinfo=UTC)
    return SoundInfo(row.id, row.name, row.original_filename, row.format, row.duration_ms, row.size_bytes, created)


class SoundRepository:
    def __init__(self, sessions: sessionmaker[Session], folder: Path) -> None:
        self.sessions = sessions
        self.folder = folder

    def sound_path(self, sound_id: int, rate: int) -> Path:
        return self.folder / f"{int(sound_id)}-{int(rate)}.wav"

    def list(self) -> list[SoundInfo]:
        with reading(self.sessions) as session:
            return [to_info(row) for row in session.scalars(select(Sound).order_by(Sound.id))]

    def get(self, sound_id: int) -> SoundInfo:
        with reading(self.sessions) as session:
            row = session.get(Sound, sound_id)
            if row is None:
                raise SoundNotFoundError(sound_id)
            return to_info(row)

    def exists(self, sound_id: int) -> bool:
        with reading(self.sessions) as session:
            return session.get(Sound, sound_id) is not None

    def audio(self, sound_id: int, rate: int) -> Path:
        """The converted file of a sound that exists."""
        self.get(sound_id)
        path = self.sound_path(sound_id, rate)
        if not path.is_file():
            raise SoundNotFoundError(sound_id)
        return path

    def stage(self, stream: IO[bytes]) -> Path:
        """Copy an upload into a temporary file in the library folder (for sox to read)."""
        path = self._temp_path("")
        try:
            with path.open("wb") as out:
                shutil.copyfileobj(stream, out)
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        return path

    def add(self, upload: Upload) -> SoundInfo:
        """Convert a staged upload and record it; the staged file is gone afterwards, whatever happens."""
        converted: dict[int, Path] = {}
        try:
            for rate in RATES:
                converted[rate] = self._temp_path(".wav")
                audio.convert(upload.path, upload.kind, converted[rate], rate)
            seconds = audio.duration(converted[RATES[0]])
            if seconds < MIN_SECONDS:
                raise AudioError(f"the audio lasts {seconds:.2f} s; at least {MIN_SECONDS} s is needed")
            return self._insert(upload, round(seconds * 1000), converted)
        finally:
            for path in (upload.path, *converted.values()):
                path.unlink(missing_ok=True)

    def delete(self, sound_id: int) -> None:
        """Delete a sound no room uses as its greeting or music (else SoundInUseError), then its files."""
        with reading(self.sessions) as session:
            row = session.get(Sound, sound_id)
            if row is None:
                raise SoundNotFoundError(sound_id)
            rooms = list(session.scalars(
                select(Room.number).where(or_(Room.greeting_sound_id == sound_id, Room.music_sound_id == sound_id))
                .order_by(Room.number)))
            if rooms:
                raise SoundInUseError(sound_id, rooms)
            session.delete(row)
            session.commit()
        # Only once the row is gone: a failed commit must not lose the audio.
        for rate in RATES:
            self.sound_path(sound_id, rate).unlink(missing_ok=True)

    def _insert(self, upload: Upload, duration_ms: int, converted: dict[int, Path]) -> SoundInfo:
        with reading(self.sessions) as session:
            row = Sound(name=upload.name, original_filename=upload.original_filename, format=upload.kind,
                        duration_ms=duration_ms, size_bytes=upload.size)
            session.add(row)
            session.flush()  # assigns the id the file names need
            final = [self.sound_path(row.id, rate) for rate in converted]
            try:
                for source, target in zip(converted.values(), final, strict=True):
                    os.replace(source, target)  # atomic within one folder
                session.commit()
            except BaseException:
                session.rollback()
                for path in final:
                    path.unlink(missing_ok=True)
                raise
            return to_info(row)

    def _temp_path(self, suffix: str) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=suffix, dir=self.folder)
        os.close(handle)
        return Path(name)
