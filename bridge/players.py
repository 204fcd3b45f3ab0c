"""Prompt playback on the bridge: pieces -> files -> a pjsua2 playlist whose end becomes an event."""

from __future__ import annotations

import wave
from dataclasses import dataclass
from pathlib import Path

import pjsua2 as pj

from stack.prompts import OUTPUT, prompt_file


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
        names = pj.StringVector()
        for path in files:
            names.append(str(path))
        self.player = pj.AudioMediaPlayer()
        self.player.createPlaylist(names, "prompt", pj.PJMEDIA_FILE_NO_LOOP)

    def play_to(self, call_audio: pj.AudioMedia) -> None:
        self.player.startTransmit(call_audio)


def _seconds(path: Path) -> float:
    with wave.open(str(path)) as wav:
        return wav.getnframes() / wav.getframerate()


class PieceFiles:
    """Where each piece of a prompt is: synthesized prompts by language, library sounds by id."""

    def __init__(self, rate: int, library: Path, prompts: Path = OUTPUT) -> None:
        self.rate, self.library, self.prompts = rate, library, prompts

    def resolve(self, pieces: tuple[str, ...], language: str) -> list[Path]:
        files = []
        for piece in pieces:
            if piece.startswith("sound:"):
                # ids only, never names: an uploaded file's name is never a path
                path = self.library / f"{int(piece[6:])}-{self.rate}.wav"
                fallback = prompt_file(language, self.rate, "welcome", self.prompts)
                files.append(path if path.exists() else fallback)
            else:
                files.append(prompt_file(language, self.rate, piece, self.prompts))
        return files
