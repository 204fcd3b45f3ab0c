"""`record`: one file of the mix per session, listed and downloadable, never lost when the node stops or dies."""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from stack.prompts import prompt_file
from stack.supervisor import wait_for
from tests.support.audio import levels, similarity, write_tone
from tests.support.phone import TestPhone
from tests.support.stack import Stack


def recordings_of(stack: Stack, room: str) -> list[dict[str, Any]]:
    status, found = stack.request("GET", f"/recordings?room={room}")
    assert status == 200
    return list(found)


def downloaded(stack: Stack, recording: dict[str, Any], audio_dir: Path) -> Path:
    path = audio_dir / f"{recording['id']}.wav"
    path.write_bytes(stack.download(f"/recordings/{recording['id']}/audio"))
    return path


def join(stack: Stack, phones: Callable[..., TestPhone], audio_dir: Path, room: str, tone: float) -> TestPhone:
    phone = phones(f"{room}-{tone:.0f}")
    phone.call(stack.room_uri(room), play=write_tone(audio_dir / f"{tone:.0f}.wav", tone, 60),
               record=audio_dir / f"heard-{tone:.0f}.wav")
    phone.wait_state("CONFIRMED")
    return phone


def test_the_session_is_recorded_with_everyone_and_announced(
    stack: Stack, phones: Callable[..., TestPhone], audio_dir: Path
) -> None:
    stack.create_room("6100", record=True, mute_notifications=True)
    first = join(stack, phones, audio_dir, "6100", 600.0)
    second = join(stack, phones, audio_dir, "6100", 1000.0)
    stack.wait_in_conference("6100", 2)
    time.sleep(3)  # the conversation being recorded
    for phone in (first, second):
        phone.hangup()
        phone.wait_for("recorded", timeout=15)
    assert wait_for(lambda: len(recordings_of(stack, "6100")) == 1, timeout=15)
    (recording,) = recordings_of(stack, "6100")
    assert recording["duration_seconds"] > 3.0
    assert len(recording["participants"]) == 2
    audio = downloaded(stack, recording, audio_dir)
    heard = levels(audio, [600.0, 1000.0], 1.0, recording["duration_seconds"] - 0.5)
    assert min(heard.values()) > -30.0, heard
    notice = prompt_file("en", 8000, "recording_notice")
    for tone in (600, 1000):
        assert similarity(audio_dir / f"heard-{tone}.wav", notice) > 0.75


def test_stopping_the_node_finishes_the_recording(
    stack: Stack, phones: Callable[..., TestPhone], audio_dir: Path
) -> None:
    stack.create_room("6260", record=True)
    phone = join(stack, phones, audio_dir, "6260", 700.0)
    stack.wait_in_conference("6260", 1)
    time.sleep(3)
    assert stack.supervisor.stop_one("bridge") == 0  # what `make down` does to it
    phone.wait_state("DISCONNECTED")
    stack.supervisor.start_one("bridge")
    assert wait_for(lambda: len(recordings_of(stack, "6260")) == 1, timeout=15)
    (recording,) = recordings_of(stack, "6260")
    audio = downloaded(stack, recording, audio_dir)
    assert levels(audio, [700.0], 0.5, 2.5)[700.0] > -30.0


def test_a_node_killed_mid_session_loses_no_recording(
    stack: Stack, phones: Callable[..., TestPhone], audio_dir: Path
) -> None:
    stack.create_room("6360", record=True)
    join(stack, phones, audio_dir, "6360", 900.0)
    stack.wait_in_conference("6360", 1)
    time.sleep(3)
    bridge = stack.supervisor.procs["bridge"]
    bridge.send_signal(signal.SIGKILL)
    bridge.wait()
    stack.supervisor.start_one("bridge")  # completes what the dead node left, and files it
    assert wait_for(lambda: len(recordings_of(stack, "6360")) == 1, timeout=15)
    (recording,) = recordings_of(stack, "6360")
    assert recording["duration_seconds"] > 2.0
    audio = downloaded(stack, recording, audio_dir)
    assert levels(audio, [900.0], 0.5, recording["duration_seconds"] - 0.2)[900.0] > -30.0
