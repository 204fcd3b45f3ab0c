"""Recording a conference session (first join to last leave) as one WAV of the mix.

While it runs the file is `<id>.recording.wav`; when the session ends the
recorder is closed (PJSIP completes the WAV header), the file renamed to
`<id>.wav` and a sidecar `<id>.json` written, which the worker imports into
SQL. A node that died mid-session leaves a `.recording.wav` whose header
`recover()` completes from the file's size at the next start, so no audio is lost.
"""

from __future__ import annotations

import json
import os
import struct
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pjsua2 as pj

RUNNING = ".recording.wav"
WAV_HEADER = 44


class SessionRecording:
    def __init__(self, directory: Path, room: str, node: str) -> None:
        self.started = time.time()
        self.id = f"{room}-{int(self.started * 1000)}-{node}"
        self.room, self.node = room, node
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / f"{self.id}{RUNNING}"
        self.recorder = pj.AudioMediaRecorder()
        self.recorder.createRecorder(str(self.path))
        self.recorded: set[str] = set()  # members whose voice goes into the file
        self.participants: list[str] = []  # everyone who was in, in order

    def follow(self, members: Mapping[str, tuple[str, pj.AudioMedia]]) -> None:
        """Record exactly the members now in the conference (id -> (caller, port))."""
        for member, (caller, port) in members.items():
            if member not in self.recorded:
                port.startTransmit(self.recorder)
                self.recorded.add(member)
                if caller not in self.participants:
                    self.participants.append(caller)
        self.recorded &= set(members)

    def close(self) -> dict[str, Any]:
        """Finish the file and leave its sidecar; the metadata written."""
        del self.recorder  # PJSIP writes the final WAV header when the recorder goes
        ended = time.time()
        final = self.directory / f"{self.id}.wav"
        os.replace(self.path, final)
        meta = {"id": self.id, "room": self.room, "node": self.node, "started_at": self.started,
                "ended_at": ended, "participants": self.participants, "file": final.name}
        write_sidecar(self.directory, meta)
        return meta


def write_sidecar(directory: Path, meta: dict[str, Any]) -> None:
    partial = directory / f".{meta['id']}.json.tmp"
    partial.write_text(json.dumps(meta))
    os.replace(partial, directory / f"{meta['id']}.json")


def recover(directory: Path) -> list[str]:
    """Complete recordings a dead node left running; their ids."""
    recovered = []
    for running in sorted(directory.glob(f"*{RUNNING}")):
        recording_id = running.name[: -len(RUNNING)]
        size = running.stat().st_size
        if size >= WAV_HEADER:
            with running.open("r+b") as wav:
                wav.seek(4)
                wav.write(struct.pack("<I", size - 8))
                wav.seek(40)
                wav.write(struct.pack("<I", size - WAV_HEADER))
        final = directory / f"{recording_id}.wav"
        os.replace(running, final)
        room, started_ms, node = recording_id.split("-", 2)
        write_sidecar(directory, {"id": recording_id, "room": room, "node": node,
                                  "started_at": int(started_ms) / 1000, "ended_at": final.stat().st_mtime,
                                  "participants": [], "file": final.name})
        recovered.append(recording_id)
    return recovered
