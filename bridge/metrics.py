"""Prometheus metrics of one bridge node (scraped per prometheus/prometheus.yml).

Only the node's loop writes them; prometheus_client serves them from its own thread and only
reads. Labels are bounded: the node, a call outcome, a room kind (conference.address.Kind), never
a caller. Call quality is in base units (seconds, ratios); the participants API shows ms and %.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, ProcessCollector, start_http_server

from bridge.meetings import RING_OUTCOMES
from conference.address import Kind
from conference.quality import Figures

LOOP_LAG_BUCKETS = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0)
JITTER_BUCKETS = (0.001, 0.002, 0.005, 0.01, 0.02, 0.03, 0.05, 0.1, 0.2)
RTT_BUCKETS = (0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0)
LOSS_BUCKETS = (0.001, 0.005, 0.01, 0.02, 0.03, 0.05, 0.1, 0.2, 0.5)
MOS_BUCKETS = (1.0, 2.0, 2.5, 3.0, 3.5, 3.8, 4.0, 4.2, 4.4, 4.5)
# Besides refused_<status>; relayed: a dial-in caller carried to its conference on another node.
OUTCOMES = ("answered", "dialled", "anchored", "relayed")
POOR_MOS = 3.5  # a leg below this is one people complain about (the alert's threshold too)


@dataclass(frozen=True)
class RoomFigures:
    """One numbered room as the per-room gauges show it."""

    participants: int
    talking: int
    worst_mos: float | None  # of its legs' last sampling intervals; None before any was judged


class NodeMetrics:
    def __init__(self, node_id: str) -> None:
        self.registry = registry = CollectorRegistry()
        ProcessCollector(registry=registry)  # the node's CPU and memory (read at scrape time, from /proc)
        self.node_id = node_id
        node = {"node": node_id}

        def gauge(name: str, doc: str) -> Gauge:
            return Gauge(name, doc, labelnames=["node"], registry=registry).labels(**node)

        def histogram(name: str, doc: str, buckets: tuple[float, ...]) -> Histogram:
            return Histogram(name, doc, labelnames=["node"], buckets=buckets, registry=registry).labels(**node)

        self.rooms = gauge("kamconf_bridge_rooms", "Rooms with participants on this node")
        self.participants = gauge("kamconf_bridge_participants", "Participants mixed on this node")
        self.capacity = gauge("kamconf_bridge_capacity", "Participants this node accepts")
        self.calls = Counter("kamconf_bridge_calls", "Incoming calls by outcome",
                             labelnames=["node", "outcome"], registry=registry)
        self.dropped = Counter("kamconf_bridge_dropped_legs", "Legs hung up for lack of incoming RTP",
                               labelnames=["node"], registry=registry).labels(**node)
        self.kind_rooms = Gauge("kamconf_bridge_rooms_by_kind", "Rooms open on this node, by kind of room",
                                labelnames=["node", "kind"], registry=registry)
        self.kind_participants = Gauge("kamconf_bridge_participants_by_kind",
                                       "Participants on this node, by kind of room",
                                       labelnames=["node", "kind"], registry=registry)
        self.ports_used = gauge("kamconf_bridge_mixer_ports_used", "Ports of the conference mixer in use")
        self.ports_max = gauge("kamconf_bridge_mixer_ports_max", "Ports the conference mixer has")
        self.recordings = gauge("kamconf_bridge_recordings_active", "Room sessions being recorded")
        self.prompts = Counter("kamconf_bridge_prompts_played", "Prompts (and notices) started",
                               labelnames=["node"], registry=registry).labels(**node)
        self.loop_lag = histogram("kamconf_bridge_loop_lag_seconds",
                                  "How much longer than its poll each turn of the pjsua2 loop took", LOOP_LAG_BUCKETS)
        self.jitter = histogram("kamconf_bridge_leg_jitter_seconds",
                                "Interarrival jitter of legs' incoming RTP, per sampling interval", JITTER_BUCKETS)
        self.loss = histogram("kamconf_bridge_leg_loss_ratio",
                              "Share of legs' incoming RTP packets lost, per sampling interval", LOSS_BUCKETS)
        self.rtt = histogram("kamconf_bridge_leg_rtt_seconds", "Round-trip time of legs from RTCP reports",
                             RTT_BUCKETS)
        self.mos = histogram("kamconf_bridge_leg_mos", "Estimated MOS of legs (E-model), per sampling interval",
                             MOS_BUCKETS)
        self.worst_mos = gauge("kamconf_bridge_leg_mos_worst",
                               "Lowest estimated MOS of a leg in the last sampling round (4.5: no leg)")
        self.poor_legs = gauge("kamconf_bridge_legs_poor_quality", "Legs whose estimated MOS was below 3.5 "
                               "in the last sampling round")
        self.samples = Counter("kamconf_bridge_leg_quality_samples", "Legs' stream statistics read",
                               labelnames=["node"], registry=registry).labels(**node)
        self.sampling = Counter("kamconf_bridge_quality_sampling_seconds",
                                "Time the node's loop spent reading and judging legs' stream statistics",
                                labelnames=["node"], registry=registry).labels(**node)
        # Per numbered room (label: its number; numbered rooms are few and made by the operator, unlike
        # calls' and scheduled conferences' rooms); a room's series go when it closes.
        def per_room(name: str, doc: str) -> Gauge:
            return Gauge(name, doc, labelnames=["node", "room"], registry=registry)

        self.room_participants = per_room("kamconf_bridge_room_participants", "Participants in a numbered room")
        self.room_talking = per_room("kamconf_bridge_room_talking", "Participants talking in a numbered room")
        self.room_open = per_room("kamconf_bridge_room_open_seconds", "How long a numbered room has been open")
        self.room_mos = per_room("kamconf_bridge_room_mos_worst", "Lowest estimated MOS of a leg in a numbered "
                                 "room in the last sampling round")
        self._opened: dict[str, float] = {}
        self.rings = Counter("kamconf_bridge_scheduled_rings", "Scheduled conferences' start-time calls by how "
                             "their ringing ended (answered, not_reached: tried again, given_up: the last try)",
                             labelnames=["node", "outcome"], registry=registry)
        for ring in RING_OUTCOMES:
            self.rings.labels(node=node_id, outcome=ring)
        self.worst_mos.set(4.5)
        for outcome in OUTCOMES:  # from 0, so the first calls show in rate() (a series born at 1 does not)
            self.calls.labels(node=node_id, outcome=outcome)
        self._prompts_seen = 0

    def serve(self, address: str, port: int) -> None:
        # prometheus_client serves from its own thread; it only reads these values.
        start_http_server(port, addr=address, registry=self.registry)

    def ring(self, outcome: str) -> None:
        self.rings.labels(node=self.node_id, outcome=outcome).inc()

    def call(self, outcome: str) -> None:
        self.calls.labels(node=self.node_id, outcome=outcome).inc()

    def by_kind(self, rooms: Mapping[Kind, int], participants: Mapping[Kind, int]) -> None:
        """Every kind is set, so a kind whose last room closed reads 0 rather than its old count."""
        for kind in Kind:
            self.kind_rooms.labels(node=self.node_id, kind=str(kind)).set(rooms.get(kind, 0))
            self.kind_participants.labels(node=self.node_id, kind=str(kind)).set(participants.get(kind, 0))

    def mixer(self, used: int, most: int, prompts_started: int, recordings: int) -> None:
        self.ports_used.set(used)
        self.ports_max.set(most)
        self.recordings.set(recordings)
        self.prompts.inc(max(0, prompts_started - self._prompts_seen))
        self._prompts_seen = prompts_started

    def leg(self, seen: Figures) -> None:
        """One leg's figures over the last sampling interval."""
        self.samples.inc()
        self.jitter.observe(seen.jitter_ms / 1000)
        self.loss.observe(seen.loss_percent / 100)
        if seen.rtt_ms is not None:
            self.rtt.observe(seen.rtt_ms / 1000)
        self.mos.observe(seen.mos)

    def rooms_now(self, rooms: Mapping[str, RoomFigures], now: float) -> None:
        """The numbered rooms open now (`now`: a monotonic clock); closed ones lose their series."""
        gauges = (self.room_participants, self.room_talking, self.room_open, self.room_mos)
        for number in self._opened.keys() - rooms.keys():
            del self._opened[number]
            for gauge in gauges:
                _forget(gauge, self.node_id, number)
        for number, figures in rooms.items():
            opened = self._opened.setdefault(number, now)
            self.room_participants.labels(self.node_id, number).set(figures.participants)
            self.room_talking.labels(self.node_id, number).set(figures.talking)
            self.room_open.labels(self.node_id, number).set(now - opened)
            if figures.worst_mos is None:
                _forget(self.room_mos, self.node_id, number)
            else:
                self.room_mos.labels(self.node_id, number).set(figures.worst_mos)

    def round(self, scores: list[float]) -> None:
        """A sampling round is over: the worst leg and how many are poor."""
        self.worst_mos.set(min(scores, default=4.5))
        self.poor_legs.set(sum(1 for score in scores if score < POOR_MOS))


def _forget(gauge: Gauge, *labels: str) -> None:
    with contextlib.suppress(KeyError):  # a series never set
        gauge.remove(*labels)
