"""Two bridge nodes and two rtpengines on one host ([bridge] nodes = 2, [rtpengine] instances = 2):
rooms spread over both nodes by load and calls over both rtpengines, every room's callers on one
node, each node mixes its rooms; a killed node takes only its own calls (ended with a BYE) while the
other's rooms are heard on, untouched; with one rtpengine killed, new calls are anchored by the other."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from stack.supervisor import wait_for
from store import live
from tests.e2e.test_supervision import Caller, duration, hang_up, join, quiet_windows, recorded_seconds, wait_recorded
from tests.support import rtpengine
from tests.support.phone import TestPhone
from tests.support.stack import Stack, running_stack

ROOMS = ("6100", "6101", "6102", "6103")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(tmp_path_factory.mktemp("two-nodes"), rtpengines=2, nodes=2) as running:
        yield running


def node_of(stack: Stack, room: str) -> set[str]:
    return {p["node"] for p in live.participants(live.connect(stack.config.redis_url), room)}


def load(stack: Stack) -> int:
    return sum(node.load for node in live.live_nodes(live.connect(stack.config.redis_url)))


def test_rooms_spread_over_both_nodes_each_mixes_its_own_and_a_killed_one_takes_only_its_calls(
    stack: Stack, phones: Callable[..., TestPhone], audio_dir: Path
) -> None:
    client = live.connect(stack.config.redis_url)
    ids = [node.id for node in stack.config.bridge.all_nodes]
    assert ids == ["bridge-1", "bridge-2"]
    assert wait_for(lambda: sorted(n.id for n in live.live_nodes(client)) == ids, timeout=15)

    first: dict[str, Caller] = {}
    for index, room in enumerate(ROOMS):
        stack.create_room(room, mute_notifications=True)
        first[room] = join(stack, phones, audio_dir, room, 500.0 + 100 * index)
        stack.wait_in_conference(room, 1)
        # The next room goes to the least loaded node as the heartbeats tell it.
        assert wait_for(lambda: load(stack) == len(first), timeout=10)
    homes = {room: node_of(stack, room) for room in ROOMS}
    assert all(len(home) == 1 for home in homes.values()), homes
    by_node = {node: [room for room in ROOMS if homes[room] == {node}] for node in ids}
    assert all(len(rooms) == 2 for rooms in by_node.values()), by_node

    # A second caller of one room per node: placed with the first (affinity), and they hear each other.
    pairs = {}
    for node, rooms in by_node.items():
        room = rooms[0]
        second = join(stack, phones, audio_dir, room, 1400.0 + 200 * ids.index(node))
        stack.wait_in_conference(room, 2)
        assert node_of(stack, room) == {node}
        pairs[node] = (first[room], second)
    # Kamailio spread the calls over both rtpengines (one set, each call kept on one).
    anchored = [set(rtpengine.calls(r.ng_address, r.ng_port)) for r in stack.config.rtpengine.all_instances]
    assert all(anchored) and not anchored[0] & anchored[1], anchored
    assert len(anchored[0] | anchored[1]) == len(ROOMS) + 2
    everyone = [caller for pair in pairs.values() for caller in pair]
    joined = max(recorded_seconds(c.recording) for c in everyone)
    wait_recorded([c.recording for c in everyone], joined + 3.0)

    # bridge-2 dies: its callers get their BYE; bridge-1's room is heard on across it.
    survivors, lost = pairs["bridge-1"], pairs["bridge-2"]
    killed_at = [recorded_seconds(c.recording) for c in survivors]
    os.kill(stack.supervisor.procs["bridge-2"].pid, signal.SIGKILL)
    for caller in (*lost, *(first[room] for room in by_node["bridge-2"][1:])):
        caller.phone.wait_state("DISCONNECTED", timeout=15)
    assert wait_for(lambda: stack.supervisor.restarts["bridge-2"] == 1, timeout=15)
    wait_recorded([c.recording for c in survivors], max(killed_at) + 4.0)
    hang_up(list(survivors))
    for caller, other in zip(survivors, reversed(survivors), strict=True):
        assert quiet_windows(caller, other.tone, joined, duration(caller.recording) - 0.5) == []
    assert stack.supervisor.restarts["bridge-1"] == 0


def test_with_one_rtpengine_killed_new_calls_are_anchored_by_the_other(
    stack: Stack, phones: Callable[..., TestPhone], audio_dir: Path
) -> None:
    second = stack.config.rtpengine.instance(1)
    stack.supervisor.stop_one("rtpengine-1")  # stopped on purpose: the supervisor leaves it down
    stack.create_room("6200", mute_notifications=True)
    callers = [join(stack, phones, audio_dir, "6200", tone) for tone in (750.0, 1250.0)]
    stack.wait_in_conference("6200", 2)
    assert len(rtpengine.calls(second.ng_address, second.ng_port)) >= 2
    joined = max(recorded_seconds(c.recording) for c in callers)
    wait_recorded([c.recording for c in callers], joined + 3.0)
    hang_up(callers)
    for caller, other in zip(callers, reversed(callers), strict=True):
        assert quiet_windows(caller, other.tone, joined, duration(caller.recording) - 0.5) == []
