"""Spooling a call detail record to a file: what the bridge does when a leg ends.

Apart from store.cdrs (which files records in SQL) so the bridge loads no SQL library. While an
answered leg lasts its record waits in `open/<node>/`, so a node that dies still leaves it: its next
start closes it at the last moment the node was known alive (`open/<node>/.alive`, touched every
heartbeat). Nodes of one host share the folder, each its own part.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

OPEN = "open"
ALIVE = ".alive"


def spool(directory: Path, cdr: dict[str, Any]) -> None:
    """Write one record atomically (the bridge, when a leg ends), and drop it from the open ones."""
    _write(directory, cdr)
    (_open(directory, str(cdr["node"])) / f"{cdr['id']}.json").unlink(missing_ok=True)


def open_record(directory: Path, cdr: dict[str, Any]) -> None:
    """The record of a leg just answered, as it would read if it ended now."""
    _write(_open(directory, str(cdr["node"])), cdr)


def mark_alive(directory: Path, node: str) -> None:
    folder = _open(directory, node)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / ALIVE).touch()


def left_open(directory: Path, node: str) -> tuple[list[dict[str, Any]], float | None]:
    """The records node `node` left open when it died, and when it was last known alive (None:
    unknown). A record that cannot be read is left where it is, for a person to look at."""
    folder = _open(directory, node)
    records = []
    for path in sorted(folder.glob("*.json")):
        try:
            records.append(json.loads(path.read_text()))
        except (OSError, ValueError):
            continue
    try:
        alive: float | None = (folder / ALIVE).stat().st_mtime
    except OSError:
        alive = None
    return records, alive


def _open(directory: Path, node: str) -> Path:
    return directory / OPEN / node  # a node id from kamconf.toml, never from a caller


def _write(directory: Path, cdr: dict[str, Any]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".cdr-", suffix=".tmp")
    with os.fdopen(handle, "w") as out:
        json.dump(cdr, out)
        out.flush()
        os.fsync(out.fileno())
    os.replace(temporary, directory / f"{cdr['id']}.json")
