"""`record`: one file of the mix per session, listed and downloadable, never lost when the node stops or dies;
`record_tracks`: a file per participant beside it, lined up with the mix; a muted voice is recorded nowhere."""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from stack.prompts import prompt_file
from stack.supervisor import wait_for
from store import live
from tests.support.audio import band_db, duration, levels, read_wav, similarity, write_tone
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


def onset(path: Path, freq: float, step: float = 0.05) -> float:
    """When the tone is first heard in the file, in seconds (to `step`)."""
    samples, rate = read_wav(path)
    size = int(step * rate)
    for first in range(0, len(samples) - size, size):
        if band_db(samples[first : first + size], rate, freq) > -30.0:
            return first / rate
    raise AssertionError(f"{freq} Hz never heard in {path.name}")


def test_each_participant_has_a_track_lined_up_with_the_mix_and_a_muted_voice_is_recorded_nowhere(
    stack: Stack, phones: Callable[..., TestPhone], audio_dir: Path
) -> None:
    stack.create_room("6400", record=True, record_tracks=True, mute_notifications=True)
    first = join(stack, phones, audio_dir, "6400", 600.0)
    stack.wait_in_conference("6400", 1)
    time.sleep(2)  # alone: the second track starts later
    second = join(stack, phones, audio_dir, "6400", 1000.0)
    stack.wait_in_conference("6400", 2)
    time.sleep(2)
    client = live.connect(stack.config.redis_url)
    (muted,) = [p["id"] for p in live.participants(client, "6400") if f"phone-{first.proc.pid}@" in p["caller"]]
    assert stack.request("POST", f"/rooms/6400/participants/{muted}/mute")[0] == 202
    assert wait_for(lambda: any(p["state"] == "muted" for p in live.participants(client, "6400")), timeout=10)
    muted_at = time.time()
    time.sleep(2.5)
    unmuted_at = time.time()
    assert stack.request("POST", f"/rooms/6400/participants/{muted}/unmute")[0] == 202
    time.sleep(2)
    for phone in (first, second):
        phone.hangup()
        phone.wait_for("recorded", timeout=15)
    assert wait_for(lambda: len(recordings_of(stack, "6400")) == 1, timeout=15)
    (recording,) = recordings_of(stack, "6400")
    mix = downloaded(stack, recording, audio_dir)
    tracks = {}
    for track in recording["tracks"]:
        tracks[track["participant"]] = audio_dir / f"track-{track['track']}.wav"
        tracks[track["participant"]].write_bytes(
            stack.download(f"/recordings/{recording['id']}/tracks/{track['track']}/audio"))
    (mine,) = [t for caller, t in tracks.items() if f"phone-{first.proc.pid}@" in caller]
    (theirs,) = [t for caller, t in tracks.items() if f"phone-{second.proc.pid}@" in caller]
    assert len(tracks) == 2

    # Each track holds its own participant's voice only.
    assert levels(mine, [600.0], 0.5, 3.5)[600.0] > -25.0
    assert max(levels(mine, [1000.0], 0.5, duration(mine) - 0.2).values()) < -50.0
    assert max(levels(theirs, [600.0], 0.5, duration(theirs) - 0.2).values()) < -50.0
    # The later track starts silent, as long as its participant was not in, and lines up with the mix.
    started = datetime.fromisoformat(recording["start"]).timestamp()
    assert 1.5 < onset(theirs, 1000.0) == pytest.approx(onset(mix, 1000.0), abs=0.1)
    # Muted: its voice is in neither file (and back once unmuted).
    quiet = (muted_at - started + 0.3, unmuted_at - started - 0.3)
    for path in (mix, mine):
        assert levels(path, [600.0], *quiet)[600.0] < -50.0, path.name
        assert levels(path, [600.0], unmuted_at - started + 0.7, unmuted_at - started + 1.5)[600.0] > -25.0, path.name
    assert levels(mix, [1000.0], *quiet)[1000.0] > -25.0  # the mix went on meanwhile
