"""PJSIP's conference bridge as rooms use it (bridge.edge.Mixer): links between ports,
prompts played once, sessions recorded, music and silence looping for whoever waits.

Music is one player per track on the node (the standard track, and each library sound a room
picked, made when first heard): every room with that track hears the same playback, which PJSIP
reads only while someone listens, so it never restarts on a caller's change of state.

It keeps a reference to every player it hands to PJSIP until `close()`, which must come
before libDestroy.
"""

from __future__ import annotations

import heapq
import logging
import time
import weakref
from collections.abc import Sequence
from pathlib import Path

import pjsua2 as pj

from bridge import sip
from bridge.players import PieceFiles, Prompt
from bridge.recorder import SessionRecording
from conference.mixing import DRAIN, MUSIC, music_sound
from conference.room import SILENCE
from stack.sounds import LIBRARY_MUSIC_GAIN, ensure_music, ensure_silence

log = logging.getLogger("kamconf.bridge")

SPARE_PORTS = 4  # kept free for music and recorders: PJSIP aborts the process when its mixer is full


class BridgeMixer:
    def __init__(self, endpoint: pj.Endpoint, clock_rate: int, sounds: Path, recordings: Path, node_id: str) -> None:
        self.endpoint = endpoint
        self.loops: dict[str, pj.AudioMediaPlayer] = {
            MUSIC: sip.create_music(str(ensure_music(sounds, clock_rate))),
            SILENCE: sip.create_music(str(ensure_silence(sounds, clock_rate))),
        }
        self.files = PieceFiles(clock_rate, sounds)
        self.recordings, self.node_id = recordings, node_id
        # (when, tie-breaker, prompt): weak, so a prompt replaced early stops playing at once
        self.prompt_ends: list[tuple[float, int, weakref.ref[Prompt]]] = []
        self.prompt_count = 0
        self.voices: dict[int, tuple[int, float]] = {}  # port id -> (talk_db, automatic gain in dB)

    def background(self, name: str) -> pj.AudioMedia:
        if name == DRAIN:
            # The mixer's port 0, the (null) sound device: what it hears is read every frame and dropped.
            return self.endpoint.audDevManager().getPlaybackDevMedia()
        if name not in self.loops:
            self.loops[name] = self._library_music(name)
        return self.loops[name]

    def _library_music(self, name: str) -> pj.AudioMediaPlayer:
        """A library sound looped as a room's music, under the prompts like the standard track; the
        standard track if the sound has no file here or the mixer has no port to spare (kept for the
        name, so the links already made with it stay valid)."""
        sound = music_sound(name)
        path = None if sound is None else self.files.sound(sound)
        if path is None or not path.is_file() or not self.has_free_port():
            log.error("music %s: no file %s or no free port; the standard music plays instead", name, path)
            return self.loops[MUSIC]
        try:
            player = sip.create_music(str(path))
        except pj.Error as exc:
            log.error("music %s: %s; the standard music plays instead", name, exc.info())
            return self.loops[MUSIC]
        player.adjustTxLevel(LIBRARY_MUSIC_GAIN)  # "tx": what the player sends into the mixer
        log.info("music on hold %s: library file %s", name, path.name)
        return player

    def connect(self, source: pj.AudioMedia, sink: pj.AudioMedia) -> None:
        source.startTransmit(sink)

    def disconnect(self, source: pj.AudioMedia, sink: pj.AudioMedia) -> None:
        source.stopTransmit(sink)

    def adjust(self, port: pj.AudioMedia, hear_db: int, talk_db: int) -> None:
        # pjsua2 names the levels from the port's side: its "rx" is what the bridge sends to the port
        # (the call hears), its "tx" what the port sends into the bridge (the call's voice).
        port.adjustRxLevel(_factor(hear_db))
        self._voice(port, talk_db=talk_db)

    def set_gain(self, port: pj.AudioMedia, gain_db: float) -> None:
        """The automatic gain of the port's voice (conference.gain), on top of its own talk_db."""
        self._voice(port, gain_db=gain_db)

    def voice(self, port: pj.AudioMedia) -> tuple[int, float]:
        """(talk_db, automatic gain) the port's voice has in the mix now."""
        return self.voices.get(port.getPortId(), (0, 0.0))

    def new_port(self, port: pj.AudioMedia) -> None:
        """A call's media just joined the mixer: PJSIP gives its port unity gain, whatever a call
        that had the same port number before was given."""
        self.voices.pop(port.getPortId(), None)

    def _voice(self, port: pj.AudioMedia, talk_db: int | None = None, gain_db: float | None = None) -> None:
        talk, gain = self.voice(port)
        talk = talk if talk_db is None else talk_db
        gain = gain if gain_db is None else gain_db
        self.voices[port.getPortId()] = (talk, gain)
        # The participant's own keys and the automatic gain add up (within -24..+24 dB: the keys
        # reach -12..+6, conference.gain -12..+18); pjmedia takes any factor for a port's voice
        # (conference.c asks only that it is not negative) and clips the samples it makes too loud.
        port.adjustTxLevel(10 ** ((talk + gain) / 20))

    def play(self, pieces: tuple[str, ...], language: str, to: Sequence[pj.AudioMedia], member: str,
             overlay: bool) -> Prompt:
        files = self.files.resolve(pieces, language)
        if not self.has_free_port():
            log.error("mixer full: prompt %s for %s not played", "+".join(pieces), member)
            files = []
        prompt = Prompt(files, member, overlay)
        for port in to:
            prompt.play_to(port)
        self.prompt_count += 1
        heapq.heappush(self.prompt_ends, (time.monotonic() + prompt.seconds, self.prompt_count, weakref.ref(prompt)))
        return prompt

    def ended_prompts(self, now: float) -> list[Prompt]:
        """Prompts that have played to their end by `now`, and are still wanted."""
        ended = []
        while self.prompt_ends and self.prompt_ends[0][0] <= now:
            prompt = heapq.heappop(self.prompt_ends)[2]()
            if prompt is not None:
                ended.append(prompt)
        return ended

    def record(self, room: str, tracks: bool) -> SessionRecording | None:
        if not self.has_free_port():
            return None
        return SessionRecording(self.recordings, room, self.node_id, self.loops[SILENCE], tracks)

    def has_free_port(self) -> bool:
        return int(self.endpoint.mediaActivePorts()) + SPARE_PORTS < int(self.endpoint.mediaMaxPorts())

    def close(self) -> None:
        """Drop every player: PJSIP asserts if one outlives the library."""
        self.prompt_ends.clear()
        self.loops = {}


def _factor(db: int) -> float:
    """A level change in dB of what a call hears as PJSIP's factor: 1.0 unchanged, at most 255/128 (+6 dB,
    the keys' top)."""
    return min(10 ** (db / 20), 255 / 128)
