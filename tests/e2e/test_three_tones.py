"""The core promise: everyone in a room hears everyone else, and not themselves, through rtpengine."""

from __future__ import annotations

import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

from stack.supervisor import wait_for
from tests.support.audio import last_seconds
from tests.support.phone import TestPhone
from tests.support.rtpengine import assert_relayed_by_rtpengine
from tests.support.stack import Stack
from tests.support.tones import assert_clean, hang_up, join_three


def test_three_phones_each_hear_the_two_others_and_not_themselves(
    stack: Stack, phones: Callable[[str], TestPhone], audio_dir: Path
) -> None:
    members = join_three(stack, phones, "3100", audio_dir)
    time.sleep(4)  # the length of the full mix each phone records, not a wait for a condition

    for member in members:
        assert_relayed_by_rtpengine(stack, member.call_id)
    assert wait_for(lambda: bridge_metric(stack, "kamconf_bridge_participants") >= 3, timeout=5)
    assert bridge_metric(stack, "kamconf_bridge_rooms") >= 1
    hang_up(members)
    for member in members:
        # The last phone joined last: judge every recording over its last 3 s of the full mix.
        assert_clean(member, *last_seconds(member.recording, 3.0))


def bridge_metric(stack: Stack, name: str) -> float:
    bridge = stack.config.bridge
    with urllib.request.urlopen(f"http://{bridge.address}:{bridge.metrics_port}/metrics", timeout=2) as resp:
        for line in resp.read().decode().splitlines():
            if line.startswith(name + "{"):
                return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name} not exported")
