"""Call quality on a bridge node: every few seconds, each leg with media has its stream statistics
read (pjsua2's `getStreamStat`, what pjmedia measured of the incoming RTP and learnt from RTCP
reports), judged by conference.quality, counted in the node's metrics, shown on its participant
and kept for its call record. Runs on the node's loop only (it calls pjsua2).
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

import pjsua2 as pj

from bridge.metrics import NodeMetrics, RoomFigures
from conference import quality
from conference.address import Kind
from conference.quality import Figures, Sample, Summary

log = logging.getLogger("kamconf.bridge")

# Each turn reads one slice of the legs (by call id), so a round of a few hundred legs never holds the
# loop up at once: pjsua2's getStreamStat costs tens of microseconds a leg, mostly copying structs.
SLICES = 25


def read_sample(call: pj.Call) -> Sample | None:
    """The leg's incoming stream since it began; None while it has no stream."""
    if not getattr(call, "in_pjsip", True):
        return None  # never made, or freed: PJSIP would abort the node rather than say so
    try:
        rtcp = call.getStreamStat(0).rtcp
    except pj.Error:
        return None
    rx = rtcp.rxStat
    rtt = rtcp.rttUsec
    # pjmedia counts jitter and round trip in microseconds; a round trip needs an RTCP report first.
    return Sample(received=int(rx.pkt), lost=int(rx.loss), jitter_ms=rx.jitterUsec.last / 1000,
                  rtt_ms=rtt.last / 1000 if rtt.n > 0 else None)


@dataclass
class LegRecord:
    """What the node remembers of one leg between readings."""

    last: Sample | None = None
    summary: Summary = field(default_factory=Summary)
    shown: Figures | None = None  # as its participant entry shows it
    mos: float | None = None  # of its last interval with packets


class CallQuality:
    """Legs' readings for one node: their intervals feed the metrics; the figures since each leg
    began are what its participant entry shows; a summary of the intervals goes into its record."""

    def __init__(self, metrics: NodeMetrics, read: Callable[[pj.Call], Sample | None] = read_sample) -> None:
        self.metrics = metrics
        self.read = read
        self.legs: dict[int, LegRecord] = {}
        self.turn = 0

    def due(self, key: int) -> bool:
        """Whether leg `key` is read in this turn (one turn every interval / SLICES seconds)."""
        return key % SLICES == self.turn % SLICES

    def sample(self, legs: Iterable[tuple[int, pj.Call]],
               show: Callable[[int, Figures], None] | None = None) -> dict[int, Figures]:
        """Read these legs once; the figures of those whose participant should be shown anew, also
        handed to `show` (whose cost counts as sampling's)."""
        started = time.thread_time()  # the loop's own CPU: being preempted is not sampling's cost
        changed: dict[int, Figures] = {}
        for key, call in legs:
            sample = self.read(call)
            if sample is None:
                continue
            record = self.legs.setdefault(key, LegRecord())
            recent = quality.interval(record.last, sample)
            record.last = sample
            if recent.received + recent.lost == 0:
                continue  # nothing came in (held by the far end, or just set up): nothing to judge
            figures = quality.figures(recent)
            self.metrics.leg(figures)
            record.summary, record.mos = record.summary.add(figures), figures.mos
            overall = quality.figures(sample)
            if overall.differs(record.shown):
                record.shown = changed[key] = overall
                if show is not None:
                    show(key, overall)
        self.metrics.round([r.mos for r in self.legs.values() if r.mos is not None])
        self.turn += 1
        self.metrics.sampling.inc(time.thread_time() - started)
        return changed

    def forget(self, key: int) -> Summary:
        """The leg ended: its summary, for its call record."""
        record = self.legs.pop(key, None)
        return Summary() if record is None else record.summary


def count_by_kind(rooms: Iterable[tuple[Kind, int]]) -> tuple[Counter[Kind], Counter[Kind]]:
    """(rooms, participants) per kind of room, from each room's (kind, participants)."""
    room_count: Counter[Kind] = Counter()
    people: Counter[Kind] = Counter()
    for kind, present in rooms:
        room_count[kind] += 1
        people[kind] += present
    return room_count, people


def room_figures(participants: int, legs: Iterable[tuple[int, bool]], scores: Mapping[int, LegRecord]) -> RoomFigures:
    """A room's figures from its participant count and each leg in the mix as (key, talking)."""
    keys = list(legs)
    judged = [record.mos for key, _ in keys if (record := scores.get(key)) is not None and record.mos is not None]
    return RoomFigures(participants, sum(1 for _, talking in keys if talking), min(judged, default=None))


class LoopClock:
    """How late each turn of the node's loop comes: a turn should take at most its poll (pjsua2
    returns early when it handled something); anything above is work that delayed the next poll."""

    def __init__(self, metrics: NodeMetrics, poll_ms: int) -> None:
        self.metrics = metrics
        self.poll = poll_ms / 1000
        self.last: float | None = None

    def turn(self, now: float) -> None:
        if self.last is not None:
            self.metrics.loop_lag.observe(max(0.0, now - self.last - self.poll))
        self.last = now
