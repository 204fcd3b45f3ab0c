"""Recordings in SQL, imported from the sidecar files the bridge leaves next to each WAV."""

from __future__ import annotations

import json
import re
import wave
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from store.sql import Recording, from_epoch, iso

# Ids are made by the bridge; anything else is never turned into a path.
_ID = re.compile(r"^[0-9]{1,32}-[0-9]{10,16}-[A-Za-z0-9_.-]{1,64}$")


def valid_id(recording_id: str) -> bool:
    return bool(_ID.match(recording_id))


class RecordingRepository:
    def __init__(self, sessions: sessionmaker[Session], directory: Path) -> None:
        self.sessions, self.directory = sessions, directory

    def audio(self, recording_id: str) -> Path | None:
        if not valid_id(recording_id):
            return None
        path = self.directory / f"{recording_id}.wav"
        return path if path.is_file() else None

    def import_one(self, recording_id: str) -> bool:
        """File a finished recording from its sidecar (idempotent); False if there is none yet."""
        sidecar = self.directory / f"{recording_id}.json"
        audio = self.audio(recording_id)
        if audio is None or not sidecar.is_file():
            return False
        meta = json.loads(sidecar.read_text())
        with wave.open(str(audio)) as wav:
            duration_ms = round(1000 * wav.getnframes() / wav.getframerate())
        row = Recording(id=recording_id, room=str(meta["room"]), node=str(meta["node"]),
                        started_at=from_epoch(meta["started_at"]), ended_at=from_epoch(meta["ended_at"]),
                        duration_ms=duration_ms, participants=json.dumps(list(meta["participants"])))
        with self.sessions() as session:
            session.merge(row)
            session.commit()
        return True

    def import_all(self) -> int:
        """File every sidecar not filed yet (the recovery path when the queue was down)."""
        with self.sessions() as session:
            known = set(session.scalars(select(Recording.id)))
        pending = [p.stem for p in self.directory.glob("*.json") if p.stem not in known and valid_id(p.stem)]
        return sum(self.import_one(recording_id) for recording_id in pending)

    def list(self, room: str | None = None) -> list[dict[str, Any]]:
        query = select(Recording).order_by(Recording.started_at.desc())
        if room is not None:
            query = query.where(Recording.room == room)
        with self.sessions() as session:
            return [public(row) for row in session.scalars(query)]

    def get(self, recording_id: str) -> dict[str, Any] | None:
        with self.sessions() as session:
            row = session.get(Recording, recording_id)
            return None if row is None else public(row)


def public(row: Recording) -> dict[str, Any]:
    return {"id": row.id, "room": row.room, "start": iso(row.started_at), "end": iso(row.ended_at),
            "duration_seconds": row.duration_ms / 1000, "participants": json.loads(row.participants)}

