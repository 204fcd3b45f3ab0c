"""The core promise: everyone in a room hears everyone else, and not themselves, through rtpengine."""

from __future__ import annotations

import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

from stack.supervisor import wait_for
from tests.support.audio import last_seconds, levels, write_tone
from tests.support.phone import TestPhone
from tests.support.rtpengine import assert_relayed_by_rtpengine
from tests.support.stack import Stack

TONES = [600.0, 1000.0, 1500.0]
# Each phone must hear both others clearly and itself at least this much weaker.
OTHERS_ABOVE_DBFS = -25.0
OWN_BELOW_OTHERS_DB = 30.0


def test_three_phones_each_hear_the_two_others_and_not_themselves(
    stack: Stack, phones: Callable[[str], TestPhone], audio_dir: Path
) -> None:
    stack.create_room("3100", mute_notifications=True)  # join notices would mask the tones
    joined: list[tuple[TestPhone, str, Path]] = []
    for index, tone in enumerate(TONES):
        phone = phones(f"phone{index}")
        recording = audio_dir / f"heard{index}.wav"
        phone.call(stack.room_uri("3100"), play=write_tone(audio_dir / f"tone{index}.wav", tone, 30), record=recording)
        call_id = phone.wait_state("CONFIRMED")["call_id"]
        joined.append((phone, call_id, recording))
    stack.wait_in_conference("3100", 3)
    time.sleep(4)  # the length of the full mix each phone records, not a wait for a condition

    for _, call_id, _ in joined:
        assert_relayed_by_rtpengine(stack, call_id)
    assert wait_for(lambda: bridge_metric(stack, "kamconf_bridge_participants") >= 3, timeout=5)
    assert bridge_metric(stack, "kamconf_bridge_rooms") >= 1
    for phone, _, _ in joined:
        phone.hangup()
    for phone, _, _ in joined:
        phone.wait_for("recorded", timeout=15)

    for index, (_, _, recording) in enumerate(joined):
        # The last phone joined last: judge every recording over its last 3 s of the full mix.
        heard = levels(recording, TONES, *last_seconds(recording, 3.0))
        own = heard[TONES[index]]
        others = [heard[t] for t in TONES if t != TONES[index]]
        for level in others:
            assert level > OTHERS_ABOVE_DBFS, (index, heard)
            assert level - own > OWN_BELOW_OTHERS_DB, (index, heard)


def bridge_metric(stack: Stack, name: str) -> float:
    bridge = stack.config.bridge
    with urllib.request.urlopen(f"http://{bridge.address}:{bridge.metrics_port}/metrics", timeout=2) as resp:
        for line in resp.read().decode().splitlines():
            if line.startswith(name + "{"):
                return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name} not exported")
