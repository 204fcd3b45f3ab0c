"""Spooling a call detail record to a file: what the bridge does when a leg ends.

Apart from store.cdrs (which files records in SQL) so the bridge loads no SQL library.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any


def spool(directory: Path, cdr: dict[str, Any]) -> None:
    """Write one record atomically (the bridge, when a leg ends)."""
    directory.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".cdr-", suffix=".tmp")
    with os.fdopen(handle, "w") as out:
        json.dump(cdr, out)
        out.flush()
        os.fsync(out.fileno())
    os.replace(temporary, directory / f"{cdr['id']}.json")
