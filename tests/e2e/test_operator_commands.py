"""An operator's commands to a live room (what the panel and the API send): mute, unmute and drop one
participant, judged by what the other participant hears."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from store import live
from tests.support.audio import levels, write_tone
from tests.support.phone import TestPhone
from tests.support.stack import Stack

ALICE, BOB = 700.0, 1300.0
HEARD, SILENT = -25.0, -50.0


def test_an_operator_mutes_unmutes_and_drops_a_participant(
    stack: Stack, phones: Callable[..., TestPhone], audio_dir: Path
) -> None:
    room = "4300"
    stack.create_room(room, announce_count=False, mute_notifications=True)
    client = live.connect(stack.config.redis_url)
    alice, bob = phones("alice"), phones("bob")
    heard_by_bob = audio_dir / "bob-heard.wav"
    alice.call(stack.room_uri(room), play=write_tone(audio_dir / "alice.wav", ALICE, 60))
    stack.wait_in_conference(room, 1)
    bob.call(stack.room_uri(room), play=write_tone(audio_dir / "bob.wav", BOB, 60), record=heard_by_bob)
    bob.wait_for("media")
    start = time.monotonic()  # bob's recording starts with his media
    stack.wait_in_conference(room, 2)
    (speaker,) = [p for p in live.participants(client, room) if p["caller"].startswith(f"sip:phone-{alice.proc.pid}@")]

    def at() -> float:
        return time.monotonic() - start

    time.sleep(3)
    muted = at()
    assert live.room_command(client, room, "mute", speaker["id"])
    time.sleep(3)
    unmuted = at()
    assert [p["state"] for p in live.participants(client, room) if p["id"] == speaker["id"]] == ["muted"]
    assert live.room_command(client, room, "unmute", speaker["id"])
    time.sleep(3)
    dropped = at()
    (listener,) = [p for p in live.participants(client, room) if p["id"] != speaker["id"]]
    assert live.room_command(client, room, "drop", listener["id"])
    assert bob.wait_state("DISCONNECTED")["code"] == 200  # a BYE from the bridge
    bob.wait_for("recorded", 10)

    assert levels(heard_by_bob, [ALICE], muted - 2, muted)[ALICE] > HEARD
    assert levels(heard_by_bob, [ALICE], muted + 1, unmuted)[ALICE] < SILENT
    assert levels(heard_by_bob, [ALICE], unmuted + 1, dropped)[ALICE] > HEARD
    assert not live.room_command(client, "4399", "end")  # not live: nothing to command
    alice.hangup()
