"""Call detail records: spooled as files by the bridge, filed in SQL by the worker (or at start).

A record is a file first (`<id>.json`, written whole or not at all), so neither a
Redis outage nor a stopped worker loses one; filing is idempotent.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, sessionmaker

from store.sql import Cdr, from_epoch, iso, reading

_ID = re.compile(r"^[0-9a-f]{32}$")  # made by the bridge (uuid4 hex); nothing else becomes a path
MAX_LIST = 1000
QUALITY = ("mos_avg", "mos_min", "loss_percent_avg", "loss_percent_max", "jitter_ms_avg", "jitter_ms_max")


@dataclass(frozen=True)
class CdrFilter:
    since: datetime | None = None
    until: datetime | None = None
    extension: str | None = None  # billed to it, or placed by it
    number: str | None = None  # called or calling
    call: str | None = None
    disposition: str | None = None
    limit: int = 100


class CdrRepository:
    def __init__(self, sessions: sessionmaker[Session], directory: Path) -> None:
        self.sessions, self.directory = sessions, directory

    def import_one(self, record_id: str) -> bool:
        """File a spooled record (idempotent), then drop its file; False if there is none."""
        if not _ID.match(record_id):
            return False
        path = self.directory / f"{record_id}.json"
        if not path.is_file():
            return False
        data = json.loads(path.read_text())
        row = Cdr(id=record_id, call=str(data["call"]), kind=str(data["kind"]), caller=str(data["caller"])[:255],
                  callee=str(data["callee"]), billed_to=str(data["billed_to"]), node=str(data["node"]),
                  status=int(data["status"]), disposition=str(data["disposition"]),
                  started_at=from_epoch(data["started_at"]),
                  answered_at=None if data["answered_at"] is None else from_epoch(data["answered_at"]),
                  ended_at=from_epoch(data["ended_at"]), billable_seconds=int(data["billable_seconds"]),
                  **quality_of(data))
        with self.sessions() as session:
            session.merge(row)
            session.commit()
        path.unlink(missing_ok=True)
        return True

    def import_all(self) -> int:
        """File every spooled record (the recovery path when the queue was down)."""
        if not self.directory.is_dir():
            return 0
        return sum(self.import_one(path.stem) for path in sorted(self.directory.glob("*.json")))

    def list(self, where: CdrFilter) -> list[dict[str, Any]]:
        query = select(Cdr).order_by(Cdr.started_at.desc(), Cdr.id).limit(min(where.limit, MAX_LIST))
        if where.since is not None:
            query = query.where(Cdr.started_at >= where.since)
        if where.until is not None:
            query = query.where(Cdr.started_at < where.until)
        if where.extension is not None:
            query = query.where(or_(Cdr.billed_to == where.extension, Cdr.caller == where.extension))
        if where.number is not None:
            query = query.where(or_(Cdr.callee == where.number, Cdr.caller == where.number))
        if where.call is not None:
            query = query.where(Cdr.call == where.call)
        if where.disposition is not None:
            query = query.where(Cdr.disposition == where.disposition)
        with reading(self.sessions) as session:
            return [public(row) for row in session.scalars(query)]


def quality_of(data: dict[str, Any]) -> dict[str, float | None]:
    """The record's call quality; a record spooled before quality was measured has none."""
    return {name: None if data.get(name) is None else float(data[name]) for name in QUALITY}


def public(row: Cdr) -> dict[str, Any]:
    return {"id": row.id, "call": row.call, "kind": row.kind, "caller": row.caller, "callee": row.callee,
            "billed_to": row.billed_to, "status": row.status, "disposition": row.disposition,
            "start": iso(row.started_at), "answer": None if row.answered_at is None else iso(row.answered_at),
            "end": iso(row.ended_at),
            "billable_seconds": row.billable_seconds, "node": row.node,
            **{name: getattr(row, name) for name in QUALITY}}

