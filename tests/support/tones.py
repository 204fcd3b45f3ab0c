"""Three phones in one room, each playing its own tone: everyone must hear both others and not
themselves (judged by FFT band levels). The core promise, and the yardstick other tests hold a
call to while they do something else to the stack."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tests.support.audio import duration, levels, write_tone
from tests.support.phone import TestPhone
from tests.support.stack import Stack

TONES = [600.0, 1000.0, 1500.0]
# Each phone must hear both others clearly and itself at least this much weaker.
OTHERS_ABOVE_DBFS = -25.0
OWN_BELOW_OTHERS_DB = 30.0


@dataclass
class Member:
    phone: TestPhone
    call_id: str
    recording: Path
    tone: float
    started: float  # time.monotonic() as its call was placed: the recording's time 0, about


def join_three(stack: Stack, phones: Callable[[str], TestPhone], room: str, audio_dir: Path) -> list[Member]:
    """Three phones join `room` (made with join notices muted: they would mask the tones)."""
    stack.create_room(room, mute_notifications=True)
    members: list[Member] = []
    for index, tone in enumerate(TONES):
        phone = phones(f"tones{room}-{index}")
        recording = audio_dir / f"heard{room}-{index}.wav"
        started = time.monotonic()
        phone.call(stack.room_uri(room), play=write_tone(audio_dir / f"tone{index}.wav", tone, 30), record=recording)
        members.append(Member(phone, phone.wait_state("CONFIRMED")["call_id"], recording, tone, started))
    stack.wait_in_conference(room, 3)
    return members


def hang_up(members: list[Member]) -> None:
    for member in members:
        member.phone.hangup()
    for member in members:
        member.phone.wait_for("recorded", timeout=15)


def assert_clean(member: Member, start: float, end: float) -> None:
    """Between start and end (seconds into its recording) the member heard both others and not itself."""
    heard = levels(member.recording, TONES, start, end)
    own = heard[member.tone]
    for tone in TONES:
        if tone != member.tone:
            assert heard[tone] > OTHERS_ABOVE_DBFS, (member.phone.name, start, end, heard)
            assert heard[tone] - own > OWN_BELOW_OTHERS_DB, (member.phone.name, start, end, heard)


def assert_clean_throughout(members: list[Member], since: float, until: float, window: float = 2.0) -> None:
    """Every `window` seconds between the monotonic times since..until, each member heard clean tones."""
    for member in members:
        start = since - member.started
        end = min(until - member.started, duration(member.recording) - 0.5)
        assert end - start >= window, (member.phone.name, start, end)
        while start + window <= end:
            assert_clean(member, start, start + window)
            start += window
