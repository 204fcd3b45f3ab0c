"""The bridge reports who is in a room, and joined / talking / left / ended, in Redis."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from stack.supervisor import wait_for
from store import live
from tests.support.audio import write_tone
from tests.support.phone import TestPhone
from tests.support.stack import Stack


def events_of(stack: Stack, room: str) -> list[dict[str, Any]]:
    entries: Any = live.connect(stack.config.redis_url).xrange(live.EVENTS)
    return [fields for _, fields in entries if fields.get("room") == room]


def caller_of(phone: TestPhone) -> str:
    return f"phone-{phone.proc.pid}@127.0.0.1"


def kinds(stack: Stack, room: str) -> list[str]:
    return [event["type"] for event in events_of(stack, room)]


def test_join_talk_leave_end(stack: Stack, phones: Callable[..., TestPhone], audio_dir: Path) -> None:
    stack.create_room("4100")
    client = live.connect(stack.config.redis_url)
    quiet, speaker = phones("quiet"), phones("speaker")
    quiet.call(stack.room_uri("4100"))
    quiet.wait_state("CONFIRMED")
    assert wait_for(lambda: len(live.participants(client, "4100")) == 1, timeout=5)
    speaker.call(stack.room_uri("4100"), play=write_tone(audio_dir / "voice.wav", 500.0, 20))
    speaker.wait_state("CONFIRMED")
    assert wait_for(lambda: len(live.participants(client, "4100")) == 2, timeout=5)
    people = live.participants(client, "4100")  # in order of joining
    assert [p["caller"] for p in people] == [f"sip:{name}" for name in (caller_of(quiet), caller_of(speaker))]
    assert {p["role"] for p in people} == {"user"} and {p["state"] for p in people} == {"in_conference"}

    assert wait_for(lambda: "talking" in kinds(stack, "4100"), timeout=5)
    talking = {e["participant"] for e in events_of(stack, "4100") if e["type"] == "talking"}
    assert talking == {people[1]["id"]}  # the speaker; the quiet phone sends silence only

    speaker.hangup()
    assert wait_for(lambda: len(live.participants(client, "4100")) == 1, timeout=5)
    quiet.hangup()
    assert wait_for(lambda: "ended" in kinds(stack, "4100"), timeout=5)
    assert live.participants(client, "4100") == []
    sequence = [k for k in kinds(stack, "4100") if k not in ("not_talking", "quality")]
    assert sequence == ["started", "joined", "joined", "talking", "left", "left", "ended"]
