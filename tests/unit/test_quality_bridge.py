"""bridge.quality and bridge.metrics: legs' readings become metrics, participant figures and records."""

from __future__ import annotations

from typing import Any

from bridge.metrics import NodeMetrics, RoomFigures
from bridge.quality import SLICES, CallQuality, LegRecord, LoopClock, count_by_kind, room_figures
from conference import billing
from conference.address import Kind
from conference.quality import Sample, Summary


class Readings:
    """A fake getStreamStat: each leg's cumulative sample, as the test sets it."""

    def __init__(self) -> None:
        self.now: dict[Any, Sample | None] = {}

    def __call__(self, call: Any) -> Sample | None:
        return self.now[call]


def value(metrics: NodeMetrics, name: str, **labels: str) -> float:
    found = metrics.registry.get_sample_value(name, {"node": "n1", **labels})
    assert found is not None, name
    return found


def test_each_interval_of_each_leg_is_counted_and_judged() -> None:
    metrics, read = NodeMetrics("n1"), Readings()
    legs = CallQuality(metrics, read)
    read.now = {"clean": Sample(250, 0, 2.0, 20.0), "lossy": Sample(225, 25, 4.0, None)}
    shown = legs.sample([(1, "clean"), (2, "lossy")])
    assert shown[1].loss_percent == 0.0 and shown[2].loss_percent == 10.0
    assert value(metrics, "kamconf_bridge_leg_mos_count") == 2
    assert value(metrics, "kamconf_bridge_leg_rtt_seconds_count") == 1  # no RTCP report from "lossy" yet
    assert value(metrics, "kamconf_bridge_leg_loss_ratio_sum") == 0.1
    assert value(metrics, "kamconf_bridge_legs_poor_quality") == 1
    assert value(metrics, "kamconf_bridge_leg_mos_worst") == shown[2].mos


def test_a_participant_is_shown_anew_only_when_its_figures_change() -> None:
    metrics, read = NodeMetrics("n1"), Readings()
    legs = CallQuality(metrics, read)
    read.now = {"a": Sample(250, 0, 2.0, 20.0)}
    assert set(legs.sample([(1, "a")])) == {1}
    read.now = {"a": Sample(500, 0, 2.2, 21.0)}
    assert legs.sample([(1, "a")]) == {}
    read.now = {"a": Sample(700, 50, 2.2, 21.0)}
    assert legs.sample([(1, "a")])[1].loss_percent == 50 / 750 * 100


def test_a_leg_without_incoming_packets_is_not_judged() -> None:
    metrics, read = NodeMetrics("n1"), Readings()
    legs = CallQuality(metrics, read)
    read.now = {"held": Sample(0, 0, 0.0), "gone": None}
    assert legs.sample([(1, "held"), (2, "gone")]) == {}
    assert metrics.registry.get_sample_value("kamconf_bridge_leg_mos_count", {"node": "n1"}) == 0
    assert value(metrics, "kamconf_bridge_leg_mos_worst") == 4.5


def test_a_finished_leg_leaves_its_summary_for_its_call_record() -> None:
    read = Readings()
    legs = CallQuality(NodeMetrics("n1"), read)
    for received, lost in ((250, 0), (475, 25)):
        read.now = {"a": Sample(received, lost, 3.0, 30.0)}
        legs.sample([(7, "a")])
    summary = legs.forget(7)
    assert summary.samples == 2 and summary.loss_max == 10.0
    assert legs.forget(7) == Summary()
    leg = billing.Leg("1000", billing.LegKind.INVITED, "201", "0612345678", "201")
    cdr = billing.record(leg, "r1", "n1", 200, 0.0, 1.0, 61.0, False, summary)
    assert cdr["loss_percent_max"] == 10.0 and cdr["mos_min"] == summary.mos_min
    assert billing.record(leg, "r2", "n1", 486, 0.0, None, 3.0, False)["mos_avg"] is None


def test_rooms_and_participants_are_counted_by_kind_and_every_kind_is_exported() -> None:
    metrics = NodeMetrics("n1")
    metrics.by_kind(*count_by_kind([(Kind.ROOM, 3), (Kind.ROOM, 2), (Kind.CALL, 2)]))
    assert value(metrics, "kamconf_bridge_rooms_by_kind", kind="room") == 2
    assert value(metrics, "kamconf_bridge_participants_by_kind", kind="room") == 5
    assert value(metrics, "kamconf_bridge_participants_by_kind", kind="call") == 2
    assert value(metrics, "kamconf_bridge_rooms_by_kind", kind="scheduled") == 0


def test_prompts_are_counted_from_the_mixers_running_total() -> None:
    metrics = NodeMetrics("n1")
    metrics.mixer(used=10, most=100, prompts_started=4, recordings=1)
    metrics.mixer(used=12, most=100, prompts_started=9, recordings=0)
    assert value(metrics, "kamconf_bridge_prompts_played_total") == 9
    assert value(metrics, "kamconf_bridge_mixer_ports_used") == 12
    assert value(metrics, "kamconf_bridge_recordings_active") == 0


def test_the_loop_clock_counts_only_what_exceeds_the_poll() -> None:
    metrics = NodeMetrics("n1")
    clock = LoopClock(metrics, poll_ms=10)
    for now in (100.0, 100.005, 100.045):  # a quick turn, then one 30 ms late
        clock.turn(now)
    assert value(metrics, "kamconf_bridge_loop_lag_seconds_count") == 2
    assert value(metrics, "kamconf_bridge_loop_lag_seconds_bucket", le="0.001") == 1
    assert value(metrics, "kamconf_bridge_loop_lag_seconds_bucket", le="0.02") == 1
    assert value(metrics, "kamconf_bridge_loop_lag_seconds_bucket", le="0.05") == 2


def test_each_leg_is_due_once_per_round_of_slices() -> None:
    legs = CallQuality(NodeMetrics("n1"), Readings())
    due = []
    for _ in range(SLICES):
        due += [key for key in range(100) if legs.due(key)]
        legs.sample([])
    assert sorted(due) == list(range(100))
    assert max(sum(1 for key in range(100) if key % SLICES == s) for s in range(SLICES)) <= 100 // SLICES + 1


def test_the_worst_leg_is_judged_over_every_leg_not_only_this_turns_slice() -> None:
    metrics, read = NodeMetrics("n1"), Readings()
    legs = CallQuality(metrics, read)
    read.now = {"lossy": Sample(200, 50, 2.0, None), "clean": Sample(250, 0, 2.0, None)}
    shown: list[int] = []
    legs.sample([(1, "lossy")], show=lambda key, seen: shown.append(key))
    legs.sample([(2, "clean")])
    assert shown == [1]
    assert value(metrics, "kamconf_bridge_legs_poor_quality") == 1
    assert value(metrics, "kamconf_bridge_quality_sampling_seconds_total") >= 0


def test_numbered_rooms_have_their_own_series_until_they_close() -> None:
    metrics = NodeMetrics("n1")
    scores = {1: LegRecord(mos=4.3), 2: LegRecord(mos=2.9), 3: LegRecord()}
    first = room_figures(3, [(1, True), (2, False), (3, True)], scores)
    assert first == RoomFigures(3, 2, 2.9)
    assert room_figures(1, [(3, False)], scores) == RoomFigures(1, 0, None)  # nothing judged yet
    metrics.rooms_now({"3300": first, "3301": room_figures(1, [(3, False)], scores)}, now=100.0)
    metrics.rooms_now({"3300": first, "3301": room_figures(1, [(3, False)], scores)}, now=130.0)

    def value(name: str, room: str) -> float | None:
        return metrics.registry.get_sample_value(name, {"node": "n1", "room": room})

    assert value("kamconf_bridge_room_participants", "3300") == 3
    assert value("kamconf_bridge_room_talking", "3300") == 2
    assert value("kamconf_bridge_room_open_seconds", "3300") == 30
    assert value("kamconf_bridge_room_mos_worst", "3300") == 2.9
    assert value("kamconf_bridge_room_mos_worst", "3301") is None  # no figure rather than a made-up one
    metrics.rooms_now({"3301": room_figures(1, [(3, False)], scores)}, now=140.0)
    assert value("kamconf_bridge_room_participants", "3300") is None  # closed: its series are gone
    assert value("kamconf_bridge_room_open_seconds", "3300") is None
    assert value("kamconf_bridge_room_open_seconds", "3301") == 40
