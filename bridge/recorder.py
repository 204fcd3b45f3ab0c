"""Recording a conference session (first join to last leave) as one WAV of the mix, and, when the
room asks for it, one WAV per participant beside it (a track: what that participant said).

While it runs the file is `<id>.recording.wav`; when the session ends the
recorder is closed (PJSIP completes the WAV header), the file renamed to
`<id>.wav` and a sidecar `<id>.json` written, which the worker imports into
SQL. A node that died mid-session leaves a `.recording.wav` whose header
`recover()` completes from the file's size at the next start, so no audio is lost.

Only voices the others hear are recorded: a muted or listen-only participant is not. A PJSIP file
takes frames only while something transmits to it, so the node's looping silence transmits to
every file: the mix and each track keep time through moments nobody is heard. A track starts when
its participant enters; its name carries that offset into the mix (`<id>.t<n>-<ms>`), so even a
track a dead node left behind can be lined up. The worker pads each track's start with that much
silence when it files the recording (store.recordings), off the bridge's audio thread.
"""

from __future__ import annotations

import json
import logging
import os
import re
import struct
import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pjsua2 as pj

log = logging.getLogger("kamconf.bridge")

RUNNING = ".recording.wav"
RAW = ".raw.wav"  # a finished track as recorded, before the worker lines it up with the mix (store.recordings)
DAMAGED = "damaged"  # left-running files that could not be completed, kept for a person to look at
WAV_HEADER = 44
# `<recording id>.t<track>-<offset ms>`: a track's stem while it runs and once finished (RAW).
TRACK = re.compile(r"^(?P<recording>.+)\.t(?P<track>[0-9]{1,6})-(?P<offset>[0-9]{1,12})$")


@dataclass
class Track:
    number: int
    participant: str  # the caller
    offset_ms: int  # where in the mix it starts
    path: Path
    recorder: pj.AudioMediaRecorder | None

    def close(self) -> None:
        """Finish the file: PJSIP writes the final WAV header when the recorder goes."""
        if self.recorder is not None:
            self.recorder = None
            os.replace(self.path, raw_path(self.path))

    def meta(self) -> dict[str, Any]:
        return {"track": self.number, "participant": self.participant, "offset_ms": self.offset_ms}


class SessionRecording:
    def __init__(self, directory: Path, room: str, node: str, clock: pj.AudioMedia, tracks: bool = False) -> None:
        self.started = time.time()
        self.id = f"{room}-{int(self.started * 1000)}-{node}"
        self.room, self.node = room, node
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self.clock = clock
        self.paused = False
        self.paused_since = 0.0
        self.paused_for = 0.0  # seconds paused so far, before the current pause: not in the files
        self.path = directory / f"{self.id}{RUNNING}"
        self.recorder = self._file(self.path)
        self.recorded: set[str] = set()  # members whose voice goes into the files now
        self.participants: list[str] = []  # everyone who was in, in order
        self.tracks: dict[str, Track] | None = {} if tracks else None  # member -> its track
        self.finished: list[Track] = []  # tracks of members who left

    def _file(self, path: Path) -> pj.AudioMediaRecorder:
        recorder = pj.AudioMediaRecorder()
        recorder.createRecorder(str(path))
        if not self.paused:
            self.clock.startTransmit(recorder)
        return recorder

    def follow(self, members: Mapping[str, tuple[str, pj.AudioMedia]], heard: Collection[str],
               paused: bool = False) -> None:
        """Follow the members now in the conference (id -> (caller, port)): record what the room hears,
        the voices of those `heard` (not a muted one's, a listener's nor a whisper), give each newcomer
        its track, finish the tracks of those who left. Nothing at all while `paused`: with nothing
        sending to them PJSIP's bridge hands the files empty frames, of which the WAV writer writes
        nothing, so each file holds its recorded spans back to back (and the tracks still line up)."""
        if paused != self.paused:
            self._pause(paused)
        self.recorded &= set(members)  # the ports of those gone are gone, and their links with them
        for member, (caller, port) in members.items():
            if not paused and caller not in self.participants:
                self.participants.append(caller)
            if self.tracks is not None and member not in self.tracks:
                self.tracks[member] = self._track(caller)
            files = [self.recorder, *self._track_file(member)]
            wanted = member in heard and not paused
            if wanted and member not in self.recorded:
                for file in files:
                    port.startTransmit(file)
                self.recorded.add(member)
            elif not wanted and member in self.recorded:
                for file in files:
                    port.stopTransmit(file)
                self.recorded.discard(member)
        for member in set(self.tracks or ()) - set(members):
            self._finish_track(member)

    def _pause(self, paused: bool) -> None:
        now = time.time()
        if paused:
            self.paused_since = now
        else:
            self.paused_for += now - self.paused_since
        self.paused = paused
        for file in [self.recorder, *(t.recorder for t in (self.tracks or {}).values() if t.recorder is not None)]:
            if paused:
                self.clock.stopTransmit(file)
            else:
                self.clock.startTransmit(file)

    def _recorded_ms(self) -> int:
        """How much the mix holds by now: the time since the start, less the pauses."""
        now = time.time()
        pausing = now - self.paused_since if self.paused else 0.0
        return max(0, round((now - self.started - self.paused_for - pausing) * 1000))

    def _track(self, caller: str) -> Track:
        number = len(self.finished) + len(self.tracks or ()) + 1
        offset_ms = self._recorded_ms()
        path = self.directory / f"{self.id}.t{number}-{offset_ms}{RUNNING}"
        return Track(number, caller, offset_ms, path, self._file(path))

    def _track_file(self, member: str) -> list[pj.AudioMediaRecorder]:
        track = (self.tracks or {}).get(member)
        return [] if track is None or track.recorder is None else [track.recorder]

    def _finish_track(self, member: str) -> None:
        track = (self.tracks or {}).pop(member)
        track.close()
        self.finished.append(track)

    def close(self) -> dict[str, Any]:
        """Finish the files and leave their sidecar; the metadata written."""
        for member in list(self.tracks or ()):
            self._finish_track(member)
        del self.recorder  # PJSIP writes the final WAV header when the recorder goes
        ended = time.time()
        final = self.directory / f"{self.id}.wav"
        os.replace(self.path, final)
        meta = {"id": self.id, "room": self.room, "node": self.node, "started_at": self.started,
                "ended_at": ended, "participants": self.participants, "file": final.name,
                "tracks": [track.meta() for track in sorted(self.finished, key=lambda t: t.number)]}
        write_sidecar(self.directory, meta)
        return meta


def raw_path(running: Path) -> Path:
    return running.with_name(running.name[: -len(RUNNING)] + RAW)


def write_sidecar(directory: Path, meta: dict[str, Any]) -> None:
    partial = directory / f".{meta['id']}.json.tmp"
    partial.write_text(json.dumps(meta))
    os.replace(partial, directory / f"{meta['id']}.json")


def recover(directory: Path, node: str) -> list[str]:
    """Complete the recordings node `node` left running when it died (the host's other nodes'
    are theirs); their ids. One that cannot be (no audio, not a WAV file, a name not of ours) is
    set aside in `damaged/` and logged: it never stops a start."""
    recovered = []
    tracks = _recover_tracks(directory, node)
    for running in sorted(directory.glob(f"*{RUNNING}")):
        recording_id = running.name[: -len(RUNNING)]
        if TRACK.match(recording_id):
            continue  # another node's track, or one that could not be completed (set aside)
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
                                  "ended_at": final.stat().st_mtime, "participants": [], "file": final.name,
                                  "tracks": tracks.get(recording_id, [])})
        recovered.append(recording_id)
    return recovered


def _recover_tracks(directory: Path, node: str) -> dict[str, list[dict[str, Any]]]:
    """Complete the tracks node `node` left running, as recover() does the mix; every finished track of
    each of its recordings, by recording id (who spoke on each is not known any more)."""
    found: dict[str, list[dict[str, Any]]] = {}
    for running in sorted(directory.glob(f"*{RUNNING}")):
        track = TRACK.match(running.name[: -len(RUNNING)])
        if track is None or not _of_node(track["recording"], node):
            continue
        try:
            _complete_header(running)
            os.replace(running, raw_path(running))
        except (OSError, ValueError) as exc:
            _set_aside(directory, running, exc)
    for raw in sorted(directory.glob(f"*{RAW}")):
        track = TRACK.match(raw.name[: -len(RAW)])
        if track is not None and _of_node(track["recording"], node):
            found.setdefault(track["recording"], []).append(
                {"track": int(track["track"]), "participant": "", "offset_ms": int(track["offset"])})
    return {recording: sorted(tracks, key=lambda t: t["track"]) for recording, tracks in found.items()}


def _of_node(recording_id: str, node: str) -> bool:
    parts = recording_id.split("-", 2)
    return len(parts) == 3 and parts[2] == node


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
