"""Prompt playback on the bridge: pieces -> files -> a pjsua2 playlist whose end becomes an event."""

from __future__ import annotations

import logging
import wave
from dataclasses import dataclass
from pathlib import Path

import pjsua2 as pj

from stack.prompts import OUTPUT, prompt_file

log = logging.getLogger("kamconf.bridge")


@dataclass(frozen=True)
class PromptEnded:
    player: Prompt


class Prompt:
    """A playlist played once. Its end is known from the files' lengths and noticed by the
    loop, never from PJSIP's end-of-file callback, which runs on a PJSIP thread. The player
    is a plain pjsua2 object, not a subclass, so PJSIP never calls into Python for it."""

    def __init__(self, files: list[Path], member: str, overlay: bool) -> None:
        self.member, self.overlay = member, overlay
        self.seconds = sum(_seconds(path) for path in files)
        self.player: pj.AudioMediaPlayer | None = None  # None: nothing to say; it ends at once
        if files:
            names = pj.StringVector()
            for path in files:
                names.append(str(path))
            player = pj.AudioMediaPlayer()
            try:
                player.createPlaylist(names, "prompt", pj.PJMEDIA_FILE_NO_LOOP)
            except pj.Error as exc:  # out of players: the call goes on without this prompt
                log.error("prompt not played: %s", exc.info())
                self.seconds = 0.0
                return
            self.player = player

    def play_to(self, call_audio: pj.AudioMedia) -> None:
        if self.player is not None:
            self.player.startTransmit(call_audio)


def _seconds(path: Path) -> float:
    with wave.open(str(path)) as wav:
        return wav.getnframes() / wav.getframerate()


class PieceFiles:
    """Where each piece of a prompt is: prompts (recorded or synthesized) by language, library sounds by id."""

    def __init__(self, rate: int, sounds: Path, prompts: Path = OUTPUT) -> None:
        self.rate, self.prompts = rate, prompts
        self.library, self.names, self.menus = sounds / "library", sounds / "names", sounds / "menus"

    def sound(self, sound_id: int) -> Path:
        # ids only, never names: an uploaded file's name is never a path
        return self.library / f"{int(sound_id)}-{self.rate}.wav"

    def resolve(self, pieces: tuple[str, ...], language: str) -> list[Path]:
        """The files to play; a missing one is left out (and logged), so a prompt never stalls a call."""
        files = []
        for piece in pieces:
            if piece.startswith("sound:"):
                path = self.sound(int(piece[6:]))
                if not path.exists():
                    path = prompt_file(language, self.rate, "welcome", self.prompts)
            elif piece.startswith(("name:", "menu:")):
                # an extension's spoken name, a menu's spoken greeting_text: by number (digits, as the API
                # checked, and checked again: never a path), leading zeros kept
                number = piece[5:]
                folder = self.names if piece.startswith("name:") else self.menus
                path = folder / f"{number if number.isascii() and number.isdigit() else 'none'}-{self.rate}.wav"
            else:
                path = prompt_file(language, self.rate, piece, self.prompts)
            if path.exists():
                files.append(path)
            elif not piece.startswith("name:"):
                log.error("prompt piece %s has no file %s", piece, path)
        return files
