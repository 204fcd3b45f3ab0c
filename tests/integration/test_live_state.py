"""store.live against a real Redis: projection, node registry, room affinity."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import redis

import settings
from conference.address import DIAL_IN
from conference.placement import NodeStatus
from conference.rooms import RoomSettings
from conference.schedule import LiveMeeting, Meeting, validate
from store import live
from store.conferences import MeetingRepository
from store.migrations import upgrade
from store.rooms import RoomRepository
from store.sql import make_engine, make_sessions
from tests.unit.test_schedule import BASE, NOW
from workers import meetings

NODE = NodeStatus("n1", "127.0.0.1", 5080, capacity=10, load=2)


def test_replace_rooms_swaps_the_whole_projection(client: redis.Redis) -> None:
    live.put_entry(client, live.ROOMS, "1", {"number": "1"})
    live.replace_table(client, live.ROOMS, {"2": {"number": "2"}, "3": {"number": "3"}})
    assert sorted(client.hkeys(live.ROOMS)) == ["2", "3"]
    live.replace_table(client, live.ROOMS, {})
    assert client.hlen(live.ROOMS) == 0


def test_projected_entries_read_back(client: redis.Redis) -> None:
    live.put_entry(client, live.TRUNKS, "t", {"name": "t", "sources": ["10.0.0.1"]})
    assert live.get_entry(client, live.TRUNKS, "t") == {"name": "t", "sources": ["10.0.0.1"]}
    assert live.entries(client, live.TRUNKS) == {"t": {"name": "t", "sources": ["10.0.0.1"]}}
    live.delete_entry(client, live.TRUNKS, "t")
    assert live.get_entry(client, live.TRUNKS, "t") is None and live.entries(client, live.TRUNKS) == {}


def test_meetings_are_written_and_read_typed(client: redis.Redis) -> None:
    first, second = LiveMeeting("111111", 1.0, 2.0, numbers=("100",)), LiveMeeting("222222", 3.0, 4.0, locked=True)
    live.replace_meetings(client, [first, second])
    assert live.meeting(client, "111111") == first and live.meeting(client, "222222") == second
    assert live.meeting(client, "333333") is None
    # Until the bridge reads LiveMeeting: the same entry as a dict.
    assert live.get_entry(client, live.MEETINGS, "111111") == first.as_dict()
    live.replace_meetings(client, [second])
    assert live.meeting(client, "111111") is None


def test_heartbeat_expires_and_deregister_removes(client: redis.Redis) -> None:
    live.heartbeat(client, NODE, ttl=5)
    assert live.live_nodes(client) == [NODE]
    assert 0 < client.ttl(live.NODE.format("n1")) <= 5
    client.delete(live.NODE.format("n1"))  # what the TTL does to a node that stopped beating
    assert live.live_nodes(client) == []
    live.heartbeat(client, NODE, ttl=5)
    live.deregister(client, "n1")
    assert live.live_nodes(client) == [] and not client.sismember(live.NODES, "n1")


def test_first_claim_wins_and_later_claims_follow_it(client: redis.Redis) -> None:
    assert live.claim_affinity(client, "1", "a", None) == "a"
    assert live.claim_affinity(client, "1", "b", None) == "a"
    assert live.affinity(client, "1") == "a"


def test_a_dead_nodes_affinity_is_replaced_once(client: redis.Redis) -> None:
    live.claim_affinity(client, "1", "dead", None)
    assert live.claim_affinity(client, "1", "b", "dead") == "b"
    # A second worker that also saw "dead" follows the first replacement.
    assert live.claim_affinity(client, "1", "c", "dead") == "b"


def test_release_only_by_the_node_that_holds_the_room(client: redis.Redis) -> None:
    live.claim_affinity(client, "1", "a", None)
    live.release_affinity(client, "1", "b")
    assert live.affinity(client, "1") == "a"
    live.release_affinity(client, "1", "a")
    assert live.affinity(client, "1") is None


def test_bootstrap_migrates_and_rebuilds_the_projection(config: settings.Config, client: redis.Redis) -> None:
    engine = make_engine(config.database_url)
    upgrade(engine)
    RoomRepository(make_sessions(engine), client).create(RoomSettings(number="42", name="kept"))
    client.delete(live.ROOMS)  # Redis lost its data (restart without persistence)
    live.put_entry(client, live.ROOMS, "stale", {"number": "stale"})
    env = {**os.environ, "KAMCONF_CONFIG": str(Path(config.var_path) / "kamconf.toml"),
           "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    done = subprocess.run([sys.executable, "-m", "store.bootstrap"], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert sorted(client.hkeys(live.ROOMS)) == ["42"]
    projected = live.get_entry(client, live.ROOMS, "42")
    assert projected is not None and projected["name"] == "kept"


def test_bootstrap_reports_redis_down_clearly(tmp_path: Path) -> None:
    path = tmp_path / "kamconf.toml"
    path.write_text(f'var_dir = "{tmp_path}"\n[redis]\nport = 1\n')
    env = {**os.environ, "KAMCONF_CONFIG": str(path), "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    done = subprocess.run([sys.executable, "-m", "store.bootstrap"], env=env, capture_output=True, text=True)
    assert done.returncode == 1
    assert done.stderr.startswith("bootstrap: redis")


def test_more_than_ten_wrong_pins_in_fifteen_minutes_lock_the_caller_out(client: redis.Redis) -> None:
    for second in range(10):
        live.pin_failed(client, "1", "sip:a@x", now=1000.0 + second)
    assert not live.pin_locked(client, "1", "sip:a@x")
    live.pin_failed(client, "1", "sip:a@x", now=1011.0)
    assert live.pin_locked(client, "1", "sip:a@x")
    assert 0 < client.ttl(live.PIN_LOCK.format("1", "sip:a@x")) <= 900
    assert not live.pin_locked(client, "2", "sip:a@x")  # per room
    assert not live.pin_locked(client, "1", "sip:b@x")  # per caller ID


def test_old_failures_fall_out_of_the_window(client: redis.Redis) -> None:
    for minute in range(11):
        live.pin_failed(client, "1", "sip:a@x", now=minute * 100.0)  # 11 failures over 1000 s
    assert not live.pin_locked(client, "1", "sip:a@x")


def test_home_node_keeps_a_live_affinity_and_replaces_a_dead_one(client: redis.Redis) -> None:
    service = str(DIAL_IN)
    assert live.home_node(client, service) is None  # no node lives
    live.heartbeat(client, NODE, ttl=5)
    assert live.home_node(client, service) == "n1" and live.affinity(client, service) == "n1"
    other = NodeStatus("n2", "127.0.0.1", 5081, capacity=10, load=0)
    live.heartbeat(client, other, ttl=5)
    assert live.home_node(client, service) == "n1"  # stays where it is, though n2 is emptier
    live.deregister(client, "n1")
    assert live.home_node(client, service) == "n2"


def test_an_operator_command_reaches_the_node_holding_the_room(client: redis.Redis) -> None:
    assert not live.room_command(client, "1000", "mute", "p1")  # not live: nowhere to send it
    live.claim_affinity(client, "1000", "node-a", None)
    assert live.room_command(client, "1000", "mute", "p1")
    [(_, fields)] = live.commands(client, "node-a", "0-0")
    assert fields == {"op": "mute", "room": "1000", "participant": "p1", "value": ""}
    assert live.commands(client, "node-b", "0-0") == []
    # A scheduled conference is held where it was placed, whichever node the dial-in service is on.
    live.claim_affinity(client, str(DIAL_IN), "node-a", None)
    assert not live.room_command(client, "conf-4242", "mute", "p1")
    live.claim_affinity(client, "conf-4242", "node-b", None)
    assert live.room_command(client, "conf-4242", "mute", "p1")
    assert [f["room"] for _, f in live.commands(client, "node-b", "0-0")] == ["conf-4242"]


def test_originations_are_counted_per_extension_within_a_minute(client: redis.Redis) -> None:
    assert [live.originated(client, "201") for _ in range(3)] == [1, 2, 3]
    assert live.originated(client, "202") == 1
    assert 0 < client.ttl(live.ORIGINATIONS.format("201")) <= 60  # the count starts again after the minute


def test_participants_of_runs_that_are_gone_are_swept_with_a_left_event(client: redis.Redis) -> None:
    now = NodeStatus("n1", "127.0.0.1", 5080, capacity=10, load=1, instance="second")
    live.heartbeat(client, now, ttl=30)
    live.put_participant(client, "700", "alive", {"id": "alive", "caller": "sip:a@h", "run": now.run})
    live.put_participant(client, "700", "before-restart", {"id": "before-restart", "caller": "sip:b@h",
                                                           "run": "n1/first"})
    live.put_participant(client, "701", "dead-node", {"id": "dead-node", "caller": "sip:c@h", "run": "n2/x"})
    live.heartbeat(client, NodeStatus("n2", "127.0.0.1", 5081, capacity=10, load=1, instance="x"), ttl=30)
    client.delete(live.NODE.format("n2"))  # its heartbeat expired: registered, not alive
    # A node Redis knows nothing of (its data lost): its participants are left for it to assert again.
    live.put_participant(client, "702", "unknown", {"id": "unknown", "caller": "sip:d@h", "run": "n3/y"})
    start = client.xadd(live.EVENTS, {"type": "mark", "room": "-"})
    assert live.drop_ghosts(client) == 2
    assert [p["id"] for p in live.participants(client, "702")] == ["unknown"]
    assert [p["id"] for p in live.participants(client, "700")] == ["alive"]
    assert live.participants(client, "701") == []
    entries: Any = client.xrange(live.EVENTS, min=f"({start!s}")
    left = [fields for _, fields in entries]
    assert sorted((f["room"], f["participant"], f["present"], f["reason"]) for f in left) == [
        ("700", "before-restart", "1", "node lost"), ("701", "dead-node", "0", "node lost")]
    assert live.drop_ghosts(client) == 0  # swept once


def start_command(meeting: Meeting) -> dict[str, str]:
    """What the worker sends the node: start this conference at its start time."""
    return {"op": "start", "code": meeting.code, "at": f"{meeting.start.timestamp():.3f}"}


def test_a_conference_is_handed_to_a_run_once_and_again_only_when_that_run_is_gone(client: redis.Redis) -> None:
    meeting = validate({**BASE, "participants": []}, "424242", NOW)
    first = NodeStatus("n1", "127.0.0.1", 5080, capacity=10, load=0, instance="a")
    live.heartbeat(client, first, ttl=30)
    meetings.launch(client, meeting)
    meetings.launch(client, meeting)  # the next round: it runs there
    assert live.launched(client, "424242", meeting.revision) == first.run
    assert [fields for _, fields in live.commands(client, "n1", "0")] == [start_command(meeting)]

    just = NodeStatus("n1", "127.0.0.1", 5080, capacity=10, load=0, instance="b", since=time.time())
    live.heartbeat(client, just, ttl=30)  # n1 restarted this instant: Kamailio still ends the old calls
    meetings.launch(client, meeting)
    assert live.launched(client, "424242", meeting.revision) == first.run
    again = dataclasses.replace(just, since=time.time() - 10)  # a round later
    live.heartbeat(client, again, ttl=30)
    meetings.launch(client, meeting)
    assert live.launched(client, "424242", meeting.revision) == again.run
    assert len(live.commands(client, "n1", "0")) == 2  # started again: its participants are called again
    # A worker that saw the old run gone, but too late, does not hand it over a second time.
    assert not live.launch(client, "424242", meeting.revision, "n1/c", gone=first.run)


def test_a_conference_is_handed_to_its_node_two_seconds_before_its_start(
        config: settings.Config, client: redis.Redis) -> None:
    live.heartbeat(client, NodeStatus("n1", "127.0.0.1", 5080, capacity=10, load=0, instance="a"), ttl=30)
    meeting = validate({**BASE, "participants": []}, "454545", NOW)
    repository = MeetingRepository(make_sessions(make_engine(config.database_url)))  # read only at the end
    meetings.start_and_end(repository, client, [meeting], meeting.start - timedelta(seconds=10))
    assert live.commands(client, "n1", "0") == []
    meetings.start_and_end(repository, client, [meeting], meeting.start - timedelta(seconds=1.5))
    assert [fields for _, fields in live.commands(client, "n1", "0")] == [start_command(meeting)]


def test_a_conference_is_placed_as_a_room_not_on_the_dial_in_services_node(client: redis.Redis) -> None:
    busy = NodeStatus("n1", "127.0.0.1", 5080, capacity=10, load=3, instance="a")
    idle = NodeStatus("n2", "127.0.0.1", 5081, capacity=10, load=0, instance="b")
    for node in (busy, idle):
        live.heartbeat(client, node, ttl=30)
    live.claim_affinity(client, str(DIAL_IN), "n1", None)
    meeting = validate({**BASE, "participants": []}, "434343", NOW)
    meetings.launch(client, meeting)
    # The least loaded node holds it (its dial-in callers on n1 are relayed there: bridge.meetings).
    assert live.affinity(client, str(meeting.address)) == "n2"
    assert live.launched(client, "434343", meeting.revision) == idle.run
    assert [fields for _, fields in live.commands(client, "n2", "0")] == [start_command(meeting)]
    assert live.commands(client, "n1", "0") == []


def test_which_rooms_record_now_and_a_restarted_node_forgets_its_own(client: redis.Redis) -> None:
    live.set_recording(client, "1000", "node-a", "1000-1-node-a")
    live.set_recording(client, "2000", "node-b", "2000-1-node-b")
    assert live.recordings_now(client) == {"1000": "1000-1-node-a", "2000": "2000-1-node-b"}
    live.forget_recordings(client, "node-a")  # node-a started again: it records nothing yet
    assert live.recordings_now(client) == {"2000": "2000-1-node-b"}
    live.set_recording(client, "2000", "node-b", None)
    assert live.recordings_now(client) == {}


def test_a_heartbeat_asserts_again_what_the_node_holds(client: redis.Redis) -> None:
    present = {"p1": {"id": "p1", "caller": "sip:a@h", "run": NODE.run}}
    live.heartbeat(client, NODE, ttl=30, rooms={"800": present, "801": {}})
    client.flushdb()  # Redis lost its data (a failover's lost writes, a restart without its file)
    live.heartbeat(client, NODE, ttl=30, rooms={"800": present, "801": {}})
    assert live.participants(client, "800") == [present["p1"]]
    assert live.affinity(client, "800") == live.affinity(client, "801") == "n1"
    live.claim_affinity(client, "802", "n2", None)
    live.heartbeat(client, NODE, ttl=30, rooms={"802": {}})
    assert live.affinity(client, "802") == "n2"  # another node's choice is never taken over


def test_room_events_older_than_the_retention_are_trimmed(client: redis.Redis) -> None:
    old_ms = int((time.time() - live.EVENTS_SECONDS - 60) * 1000)
    for index in range(250):  # 2.5 of the stream's 100-entry nodes
        client.xadd(live.EVENTS, {"type": "joined", "room": "1"}, id=f"{old_ms}-{index}")
    fresh = int((time.time() - live.EVENTS_SECONDS + 60) * 1000)
    client.xadd(live.EVENTS, {"type": "joined", "room": "2"}, id=f"{fresh}-0")
    live.room_event(client, "left", "3", participant="p")
    kept: Any = client.xrange(live.EVENTS)
    # Whole nodes go (approximate trimming): at most the old entries sharing a node with newer ones stay.
    assert len([entry for entry, _ in kept if entry.startswith(f"{old_ms}-")]) <= 50
    assert [fields["room"] for _, fields in kept[-2:]] == ["2", "3"]
