"""Recording a conference session (first join to last leave) as one WAV of the mix.

While it runs the file is `<id>.recording.wav`; when the session ends the
recorder is closed (PJSIP completes the WAV header), the file renamed to
`<id>.wav` and a sidecar `<id>.json` written, which the worker imports into
SQL. A node that died mid-session leaves a `.recording.wav` whose header
`recover()` completes from the file's size at the next start, so no audio is lost.
"""

from __future__ import annotations

import json
import logging
import os
import struct
import time
from collections.abc import Mapping, Set
from pathlib import Path
from typing import Any

import pjsua2 as pj

log = logging.getLogger("kamconf.bridge")

RUNNING = ".recording.wav"
DAMAGED = "damaged"  # left-running files that could not be completed, kept for a person to look at
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
        self.paused = False
        self.clocked = False  # the time-keeping source sends into the file

    def follow(self, members: Mapping[str, tuple[str, pj.AudioMedia]], heard: Set[str], paused: bool,
               clock: pj.AudioMedia | None) -> None:
        """Record what the room hears: the voices of `heard` among the members now in the conference
        (id -> (caller, port)), not a muted one's, a listener's nor a whisper; and `clock`, a silent
        source that keeps the file's time while nobody is heard. Nothing while `paused`: with no port
        sending to it PJSIP's bridge hands the recorder empty frames, of which the WAV writer writes
        nothing, so the file holds the recorded spans back to back."""
        self.paused = paused
        self.recorded &= set(members)  # the ports of those gone are gone, and their links with them
        for member, (caller, port) in members.items():
            wanted = member in heard and not paused
            if wanted and member not in self.recorded:
                port.startTransmit(self.recorder)
                self.recorded.add(member)
            elif not wanted and member in self.recorded:
                port.stopTransmit(self.recorder)
                self.recorded.discard(member)
            if not paused and caller not in self.participants:
                self.participants.append(caller)
        if clock is not None and self.clocked == paused:
            if paused:
                clock.stopTransmit(self.recorder)
            else:
                clock.startTransmit(self.recorder)
            self.clocked = not paused

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


def recover(directory: Path, node: str) -> list[str]:
    """Complete the recordings node `node` left running when it died (the host's other nodes'
    are theirs); their ids. One that cannot be (no audio, not a WAV file, a name not of ours) is
    set aside in `damaged/` and logged: it never stops a start."""
    recovered = []
    for running in sorted(directory.glob(f"*{RUNNING}")):
        recording_id = running.name[: -len(RUNNING)]
        try:
            room, started_ms, owner = recording_id.split("-", 2)
            if owner != node:
                continue
            started_at = int(started_ms) / 1000
            _complete_header(running)
            final = directory / f"{recording_id}.wav"
            os.replace(running, final)
        except (OSError, ValueError) as exc:
            _set_aside(directory, running, exc)
            continue
        write_sidecar(directory, {"id": recording_id, "room": room, "node": owner, "started_at": started_at,
                                  "ended_at": final.stat().st_mtime, "participants": [], "file": final.name})
        recovered.append(recording_id)
    return recovered


def _complete_header(running: Path) -> None:
    """Write the sizes PJSIP writes on close, from the file's length cut to whole sample frames."""
    with running.open("r+b") as wav:
        header = wav.read(WAV_HEADER)
        if len(header) < WAV_HEADER or header[:4] != b"RIFF" or header[8:12] != b"WAVE":
            raise ValueError("not a WAV file, or cut inside its header")
        frame = max(1, struct.unpack_from("<H", header, 32)[0])  # block align
        data = (running.stat().st_size - WAV_HEADER) // frame * frame
        if data == 0:
            raise ValueError("no audio")
        wav.truncate(WAV_HEADER + data)
        wav.seek(4)
        wav.write(struct.pack("<I", WAV_HEADER + data - 8))
        wav.seek(40)
        wav.write(struct.pack("<I", data))


def _set_aside(directory: Path, running: Path, why: Exception) -> None:
    damaged = directory / DAMAGED
    try:
        damaged.mkdir(exist_ok=True)
        os.replace(running, damaged / running.name)
        log.error("recording %s cannot be completed (%s); set aside in %s", running.name, why, damaged)
    except OSError as exc:
        log.error("recording %s cannot be completed (%s) nor set aside (%s)", running.name, why, exc)
