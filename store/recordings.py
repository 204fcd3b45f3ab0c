"""Recordings in SQL, imported from the sidecar files the bridge leaves next to each WAV.

A recording's tracks (one per participant, bridge.recorder) arrive as recorded: each starts when its
participant entered. Filing pads each with that much silence (`<id>.t<n>.wav`), so every track lines
up with the mix in any audio editor, and removes the raw file.
"""

from __future__ import annotations

import json
import logging
import os
import re
import wave
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from store.sql import Recording, from_epoch, iso

log = logging.getLogger("kamconf.store")

# Ids are made by the bridge; anything else is never turned into a path.
_ID = re.compile(r"^[0-9]{1,32}-[0-9]{10,16}-[A-Za-z0-9_.-]{1,64}$")
MAX_TRACK = 999_999  # bridge.recorder.TRACK
_CHUNK = 65536  # frames copied at a time: a track of hours never sits in memory whole


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

    def track_audio(self, recording_id: str, track: int) -> Path | None:
        if not valid_id(recording_id) or not 1 <= track <= MAX_TRACK:
            return None
        path = self.directory / f"{recording_id}.t{track}.wav"
        return path if path.is_file() else None

    def import_one(self, recording_id: str) -> bool:
        """File a finished recording from its sidecar (idempotent); False if there is none yet."""
        sidecar = self.directory / f"{recording_id}.json"
        audio = self.audio(recording_id)
        if audio is None or not sidecar.is_file():
            return False
        meta = json.loads(sidecar.read_text())
        tracks = [filed for track in meta.get("tracks", []) if (filed := self._line_up(recording_id, track))]
        row = Recording(id=recording_id, room=str(meta["room"]), node=str(meta["node"]),
                        started_at=from_epoch(meta["started_at"]), ended_at=from_epoch(meta["ended_at"]),
                        duration_ms=_duration_ms(audio), participants=json.dumps(list(meta["participants"])),
                        tracks=json.dumps(tracks))
        with self.sessions() as session:
            session.merge(row)
            session.commit()
        return True

    def _line_up(self, recording_id: str, track: dict[str, Any]) -> dict[str, Any] | None:
        """The track of the sidecar padded to line up with the mix (once: a second import finds it
        done); what SQL keeps of it. None, logged, if its audio is missing."""
        number, offset_ms = int(track["track"]), int(track["offset_ms"])
        raw = self.directory / f"{recording_id}.t{number}-{offset_ms}.raw.wav"
        final = self.directory / f"{recording_id}.t{number}.wav"
        if raw.is_file():
            _pad(raw, final, offset_ms)
            raw.unlink()
        if not final.is_file():
            log.error("recording %s: track %d has no audio; filed without it", recording_id, number)
            return None
        return {"track": number, "participant": str(track.get("participant", "")), "offset_ms": offset_ms,
                "duration_ms": _duration_ms(final)}

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
    tracks = [{"track": t["track"], "participant": t["participant"], "starts_at_seconds": t["offset_ms"] / 1000,
               "duration_seconds": t["duration_ms"] / 1000} for t in json.loads(row.tracks)]
    return {"id": row.id, "room": row.room, "start": iso(row.started_at), "end": iso(row.ended_at),
            "duration_seconds": row.duration_ms / 1000, "participants": json.loads(row.participants),
            "tracks": tracks}


def _duration_ms(path: Path) -> int:
    with wave.open(str(path)) as wav:
        return round(1000 * wav.getnframes() / wav.getframerate())


def _pad(raw: Path, final: Path, offset_ms: int) -> None:
    """Write `raw` to `final` after `offset_ms` of silence, whole or not at all."""
    partial = final.with_name(f".{final.name}.tmp")
    with wave.open(str(raw)) as source, wave.open(str(partial), "wb") as target:
        target.setparams(source.getparams())
        frame = source.getsampwidth() * source.getnchannels()
        silence = round(offset_ms * source.getframerate() / 1000)
        while silence > 0:
            chunk = min(silence, _CHUNK)
            target.writeframes(bytes(chunk * frame))
            silence -= chunk
        while data := source.readframes(_CHUNK):
            target.writeframes(data)
    os.replace(partial, final)

