"""Two bridge nodes and two rtpengines on one host ([bridge] nodes = 2, [rtpengine] instances = 2):
rooms spread over both nodes by load and calls over both rtpengines, every room's callers on one
node, each node mixes its rooms; a killed node takes only its own calls (ended with a BYE) while the
other's rooms are heard on, untouched; with one rtpengine killed, new calls are anchored by the other.
A dial-in caller reaching the service on one node joins its scheduled conference on the other (a
relay leg), and a "#" call's consultation reaches a room the other node holds."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from conference import address, vouch
from stack.supervisor import wait_for
from store import live
from tests.e2e.test_extensions_and_trunks import cdrs, extension
from tests.e2e.test_scheduled_conferences import COLLEAGUE, OWNER, dial_in, heard_prompt, people, schedule
from tests.e2e.test_supervision import Caller, duration, hang_up, join, quiet_windows, recorded_seconds, wait_recorded
from tests.support import rtpengine
from tests.support.audio import write_tone
from tests.support.phone import TestPhone
from tests.support.stack import Stack, running_stack

ROOMS = ("6100", "6101", "6102", "6103")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(tmp_path_factory.mktemp("two-nodes"), rtpengines=2, own_addresses=True, nodes=2) as running:
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


GUEST = 1300.0


def node_load(stack: Stack, node_id: str) -> int:
    return next(n.load for n in live.live_nodes(live.connect(stack.config.redis_url)) if n.id == node_id)


def place(stack: Stack, key: str, node_id: str) -> None:
    """Where the next call of `key` is placed, as a busy day would have chosen (conference.placement's input)."""
    live.connect(stack.config.redis_url).set(live.AFFINITY.format(key), node_id)


def test_a_dial_in_caller_on_one_node_joins_its_conference_on_the_other_and_either_hang_up_ends_both_legs(
    stack: Stack, phones: Callable[..., TestPhone], audio_dir: Path
) -> None:
    client = live.connect(stack.config.redis_url)
    assert wait_for(lambda: len(live.live_nodes(client)) == 2, timeout=30)
    owner, owner_number = extension(stack, phones)
    colleague, colleague_number = extension(stack, phones)
    made = schedule(stack, 4, owner={"number": owner_number}, participants=[{"number": colleague_number}],
                    chair_password="4711", guest_password="0815")
    code, room = made["code"], str(address.scheduled(made["code"]))
    place(stack, str(address.DIAL_IN), "bridge-1")
    place(stack, room, "bridge-2")  # before its start: the worker launches it there

    # Nobody but a bridge node reaches a conference straight, whatever ticket it brings.
    forged = [(vouch.RELAY_HEADER, f"v1;ts={int(time.time())};who=extension:{owner_number};anchor=-;src=-;"
                                   f"as=admin/sip%3A{owner_number}%40127.0.0.1;sig={'0' * 64}")]
    intruder = phones("conf-intruder")
    intruder.call(f"sip:{room}@{stack.sip}", headers=forged)
    assert intruder.wait_state("DISCONNECTED", 10)["code"] == 403
    owner.forget()

    for _ in (1, 2):  # the owner misses its call and the retry: it dials in instead
        owner.wait_for("incoming", 20)
        owner.reject(486)
        owner.wait_state("DISCONNECTED", 20)
        owner.forget()
    colleague.wait_for("incoming", 20)
    callers = {"colleague": Caller(colleague, audio_dir / "relay-colleague.wav", COLLEAGUE),
               "owner": Caller(owner, audio_dir / "relay-owner.wav", OWNER),
               "guest": Caller(phones("relay-guest"), audio_dir / "relay-guest.wav", GUEST)}
    colleague.answer(play=write_tone(audio_dir / "relay-c.wav", COLLEAGUE, 60), record=callers["colleague"].recording)
    assert wait_for(lambda: [p["state"] for p in people(stack, code)] == ["waiting"], timeout=15)

    # The owner reaches the service on bridge-1; its extension makes it the chair, on bridge-2.
    dial_in(stack, owner, code, callers["owner"].recording, write_tone(audio_dir / "relay-o.wav", OWNER, 60))
    assert wait_for(lambda: sorted((p["role"], p["state"], p["node"]) for p in people(stack, code)) == [
        ("admin", "in_conference", "bridge-2"), ("user", "in_conference", "bridge-2")], timeout=20), people(stack, code)
    chair = next(p for p in people(stack, code) if p["role"] == "admin")
    assert chair["extension"] == owner_number and f"sip:{owner_number}@" in chair["caller"], chair
    assert f"conference {code}: lives on bridge-2; relaying" in stack.log("bridge-1")
    assert live.participants(client, str(address.DIAL_IN)) == []  # the relay shows in no roster
    # The chair's keys reach the conference across the relay: *1 mutes and unmutes it.
    def chair_is(state: str) -> bool:
        return [p["state"] for p in people(stack, code) if p["role"] == "admin"] == [state]

    owner.dtmf("*1")
    assert wait_for(lambda: chair_is("muted"), timeout=10), people(stack, code)
    owner.dtmf("*1")
    assert wait_for(lambda: chair_is("in_conference"), timeout=10), people(stack, code)

    # A guest with the guest password, through the same service.
    guest = callers["guest"]
    dial_in(stack, guest.phone, code, guest.recording, write_tone(audio_dir / "relay-g.wav", GUEST, 60))
    time.sleep(2.5)
    guest.phone.dtmf("0815#")
    assert wait_for(lambda: sorted((p["role"], p["node"]) for p in people(stack, code)) == [
        ("admin", "bridge-2"), ("user", "bridge-2"), ("user", "bridge-2")], timeout=20), people(stack, code)
    everyone = [c.recording for c in callers.values()]
    wait_recorded(everyone, 1.0)
    started = {name: recorded_seconds(c.recording) for name, c in callers.items()}
    wait_recorded(everyone, max(started.values()) + 4.0)

    # The owner hangs up on bridge-1: its relay leg to bridge-2 ends with it.
    owner_left = recorded_seconds(callers["colleague"].recording)
    hang_up([callers["owner"]])
    assert wait_for(lambda: sorted(p["role"] for p in people(stack, code)) == ["user", "user"], timeout=10)
    assert wait_for(lambda: node_load(stack, "bridge-1") == 2, timeout=10)  # the guest's leg and its relay

    # The conference ends on bridge-2: the guest's relay leg ends there, and so the guest's call on bridge-1.
    assert stack.request("POST", f"/conferences/{code}/end", {})[0] == 200
    for caller in (colleague, guest.phone):
        caller.wait_state("DISCONNECTED", 15)
        caller.wait_for("recorded", 15)
    assert wait_for(lambda: node_load(stack, "bridge-1") == 0, timeout=10)

    # Heard both ways across the relay: the owner and the colleague, the guest and both of them.
    colleague_heard, owner_heard = callers["colleague"], callers["owner"]
    assert quiet_windows(owner_heard, COLLEAGUE, started["owner"], duration(owner_heard.recording) - 0.5) == []
    assert quiet_windows(colleague_heard, OWNER, started["colleague"], owner_left - 0.5) == []
    assert quiet_windows(colleague_heard, GUEST, started["colleague"], owner_left - 0.5) == []
    assert quiet_windows(guest, OWNER, started["guest"], started["guest"] + 3.5) == []
    assert quiet_windows(guest, COLLEAGUE, started["guest"], started["guest"] + 3.5) == []
    # One record per leg the conference placed, as on one node: the relay legs are nobody's calls.
    assert wait_for(lambda: len(cdrs(stack, call=room)) == 3, timeout=15), cdrs(stack, call=room)
    assert sorted((c["callee"], c["disposition"], c["node"]) for c in cdrs(stack, call=room)) == sorted(
        [(colleague_number, "answered", "bridge-2"), (owner_number, "busy", "bridge-2"),
         (owner_number, "busy", "bridge-2")])


def test_a_hash_call_on_one_node_consults_and_merges_a_room_the_other_node_holds(
    stack: Stack, phones: Callable[..., TestPhone], audio_dir: Path
) -> None:
    client = live.connect(stack.config.redis_url)
    assert wait_for(lambda: len(live.live_nodes(client)) == 2, timeout=30)
    assert wait_for(lambda: load(stack) == 0, timeout=15)  # ties go to bridge-1: the "#" call lands there
    stack.create_room("6300", mute_notifications=True)
    place(stack, "6300", "bridge-2")
    in_room = join(stack, phones, audio_dir, "6300", 1800.0)
    stack.wait_in_conference("6300", 1)
    assert node_of(stack, "6300") == {"bridge-2"}

    employee, _ = extension(stack, phones, consult_merge=True)
    colleague, colleague_number = extension(stack, phones)
    heard = {name: audio_dir / f"hash-{name}.wav" for name in ("employee", "colleague")}
    employee.call(f"sip:{colleague_number}@{stack.sip}", play=write_tone(audio_dir / "hash-e.wav", 600.0, 60),
                  record=heard["employee"])
    colleague.wait_for("incoming", 10)
    colleague.answer(play=write_tone(audio_dir / "hash-k.wav", 1000.0, 60), record=heard["colleague"])
    employee.wait_state("CONFIRMED")
    assert wait_for(lambda: node_load(stack, "bridge-1") == 2, timeout=10)  # the "#" call's two legs

    employee.dtmf("#")
    time.sleep(0.5)
    employee.dtmf("6300#")  # through Kamailio, which knows the room's node
    stack.wait_in_conference("6300", 2)
    assert node_of(stack, "6300") == {"bridge-2"}
    employee.dtmf("#")  # merged: the room hears the "#" call's two parties, and they hear the room
    time.sleep(1.0)
    merged = recorded_seconds(in_room.recording)
    wait_recorded([in_room.recording, heard["employee"], heard["colleague"]], merged + 4.0)
    colleague_from = recorded_seconds(heard["colleague"])
    for phone in (employee, colleague):
        phone.hangup()
    hang_up([in_room])
    for phone in (employee, colleague):
        phone.wait_for("recorded", 15)
    assert quiet_windows(in_room, 600.0, merged, merged + 3.0) == []
    assert quiet_windows(in_room, 1000.0, merged, merged + 3.0) == []
    assert quiet_windows(Caller(colleague, heard["colleague"], 1000.0), 1800.0, colleague_from - 3.5,
                         colleague_from) == []


def test_a_dial_in_caller_relayed_to_a_node_that_dies_waits_on_music_and_is_carried_to_the_resumed_conference(
    stack: Stack, phones: Callable[..., TestPhone], audio_dir: Path
) -> None:
    client = live.connect(stack.config.redis_url)
    assert wait_for(lambda: len(live.live_nodes(client)) == 2, timeout=30)
    owner, owner_number = extension(stack, phones)
    made = schedule(stack, 4, owner={"number": owner_number}, guest_password="0815")
    code, room = made["code"], str(address.scheduled(made["code"]))
    place(stack, str(address.DIAL_IN), "bridge-1")
    place(stack, room, "bridge-2")
    owner.wait_for("incoming", 20)
    owner.answer(play=write_tone(audio_dir / "lost-o.wav", OWNER, 90), record=audio_dir / "lost-owner-1.wav")
    guest = Caller(phones("lost-guest"), audio_dir / "lost-guest.wav", GUEST)
    dial_in(stack, guest.phone, code, guest.recording, write_tone(audio_dir / "lost-g.wav", GUEST, 90))
    time.sleep(2.5)
    guest.phone.dtmf("0815#")
    assert wait_for(lambda: sorted((p["role"], p["node"]) for p in people(stack, code)) == [
        ("admin", "bridge-2"), ("user", "bridge-2")], timeout=20), people(stack, code)
    restarts = stack.supervisor.restarts["bridge-2"]

    # bridge-2 dies: the owner's call ends; the guest, on bridge-1, waits on music for its conference.
    owner.forget()
    os.kill(stack.supervisor.procs["bridge-2"].pid, signal.SIGKILL)
    owner.wait_state("DISCONNECTED", 15)
    assert wait_for(lambda: "waits for it to come back" in stack.log("bridge-1"), timeout=15)
    lost_at = recorded_seconds(guest.recording)
    assert stack.supervisor.restarts["bridge-2"] == restarts + 1

    # The worker resumes the conference and calls the owner again; the guest is carried to it again.
    owner.forget()
    owner.wait_for("incoming", 40)
    again = Caller(owner, audio_dir / "lost-owner-2.wav", OWNER)
    owner.answer(play=write_tone(audio_dir / "lost-o2.wav", OWNER, 60), record=again.recording)
    assert wait_for(lambda: sorted(p["role"] for p in people(stack, code) if p["state"] == "in_conference") == [
        "admin", "user"], timeout=40), people(stack, code)
    with pytest.raises(TimeoutError):  # never dropped
        guest.phone.wait_state("DISCONNECTED", 0.5)
    back = recorded_seconds(guest.recording)
    wait_recorded([guest.recording], back + 4.0)
    wait_recorded([again.recording], 4.0)
    hang_up([guest, again])
    # It was told to wait ("one moment, please"); once back, both hear each other.
    assert heard_prompt(guest.recording, "reconnecting")
    assert lost_at < back
    assert quiet_windows(guest, OWNER, back + 1.0, back + 4.0) == []
    assert quiet_windows(again, GUEST, duration(again.recording) - 3.5, duration(again.recording) - 0.5) == []
