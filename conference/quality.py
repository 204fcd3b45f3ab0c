"""Call quality of one leg: an estimated MOS (a simplified ITU-T G.107 E-model) and the figures
a call record keeps. Pure: the bridge feeds it the stream statistics pjsua2 reports.

The E-model rates a call by subtracting impairments from the best rating a narrowband call
can have (R = 93.2): a delay impairment Id from the one-way mouth-to-ear delay, and an
effective equipment impairment Ie_eff from the codec and its packet loss. R maps to a MOS
between 1 and 4.5. The simplification (as in most VoIP monitors): the one-way delay is half
the round trip plus the jitter buffer (twice the jitter) plus the codec's own delay, and loss
is random (BurstR = 1).
"""

from __future__ import annotations

from dataclasses import dataclass

R_DEFAULT = 93.2  # G.107's R with every other parameter at its default
CODEC_DELAY_MS = 25.0  # a 20 ms packet plus the decoder's look-ahead and PLC
# Equipment impairment Ie and packet-loss robustness Bpl of G.711 with packet loss concealment
# (G.113 Appendix I); pjmedia conceals lost G.711 frames.
G711_IE = 0.0
G711_BPL = 25.1
MOS_MAX = 4.5


@dataclass(frozen=True)
class Sample:
    """One leg's incoming stream over one interval: packets received and lost, jitter, round trip."""

    received: int
    lost: int
    jitter_ms: float
    rtt_ms: float | None = None  # None until an RTCP report gave one

    @property
    def loss_percent(self) -> float:
        expected = self.received + self.lost
        return 0.0 if expected <= 0 else 100.0 * self.lost / expected


def delay_impairment(one_way_ms: float) -> float:
    """Id of G.107 (simplified to its two linear parts): small below ~177 ms, steep above."""
    d = max(0.0, one_way_ms)
    return 0.024 * d + (0.11 * (d - 177.3) if d > 177.3 else 0.0)


def loss_impairment(loss_percent: float, ie: float = G711_IE, bpl: float = G711_BPL) -> float:
    """Ie_eff of G.107 for random loss: Ie + (95 - Ie) * Ppl / (Ppl + Bpl)."""
    ppl = min(100.0, max(0.0, loss_percent))
    return ie + (95.0 - ie) * ppl / (ppl + bpl)


def r_to_mos(r: float) -> float:
    """G.107 Annex B: the rating R as a mean opinion score, 1 to 4.5."""
    if r <= 0:
        return 1.0
    if r >= 100:
        return MOS_MAX
    return 1 + 0.035 * r + r * (r - 60) * (100 - r) * 7e-6


def mos(loss_percent: float, jitter_ms: float, rtt_ms: float | None) -> float:
    """The estimated MOS of a G.711 leg with these figures (no round trip known: counted as 0)."""
    one_way = (rtt_ms or 0.0) / 2 + 2 * max(0.0, jitter_ms) + CODEC_DELAY_MS
    r = R_DEFAULT - delay_impairment(one_way) - loss_impairment(loss_percent)
    return round(r_to_mos(r), 2)


@dataclass(frozen=True)
class Figures:
    """The latest figures of a leg, as the participants API shows them."""

    loss_percent: float
    jitter_ms: float
    rtt_ms: float | None
    mos: float

    def to_dict(self) -> dict[str, float | None]:
        return {"loss_percent": round(self.loss_percent, 1), "jitter_ms": round(self.jitter_ms, 1),
                "rtt_ms": None if self.rtt_ms is None else round(self.rtt_ms, 1), "mos": round(self.mos, 2)}

    def differs(self, other: Figures | None) -> bool:
        """Worth publishing again: a change a person looking at it would notice."""
        if other is None or (self.rtt_ms is None) != (other.rtt_ms is None):
            return True
        return (abs(self.mos - other.mos) >= 0.05 or abs(self.loss_percent - other.loss_percent) >= 0.5
                or abs(self.jitter_ms - other.jitter_ms) >= 1.0
                or abs((self.rtt_ms or 0.0) - (other.rtt_ms or 0.0)) >= 10.0)


def figures(sample: Sample) -> Figures:
    return Figures(sample.loss_percent, sample.jitter_ms, sample.rtt_ms,
                   mos(sample.loss_percent, sample.jitter_ms, sample.rtt_ms))


def interval(before: Sample | None, now: Sample) -> Sample:
    """The stream over the last interval, from two cumulative samples (pjsua2's counters only grow;
    a smaller count means the stream restarted, e.g. after a re-INVITE)."""
    if before is None or now.received < before.received or now.lost < before.lost:
        return now
    return Sample(now.received - before.received, now.lost - before.lost, now.jitter_ms, now.rtt_ms)


@dataclass(frozen=True)
class Summary:
    """A leg's quality over its whole life, for its call record."""

    samples: int = 0
    mos_sum: float = 0.0
    mos_min: float | None = None
    loss_sum: float = 0.0
    loss_max: float | None = None
    jitter_sum: float = 0.0
    jitter_max: float | None = None

    def add(self, seen: Figures) -> Summary:
        return Summary(self.samples + 1, self.mos_sum + seen.mos, _lower(self.mos_min, seen.mos),
                       self.loss_sum + seen.loss_percent, _higher(self.loss_max, seen.loss_percent),
                       self.jitter_sum + seen.jitter_ms, _higher(self.jitter_max, seen.jitter_ms))

    def to_record(self) -> dict[str, float | None]:
        """The call record's quality fields; None where the leg never had media to judge."""
        n = self.samples
        return {
            "mos_avg": round(self.mos_sum / n, 2) if n else None, "mos_min": self.mos_min,
            "loss_percent_avg": round(self.loss_sum / n, 2) if n else None,
            "loss_percent_max": None if self.loss_max is None else round(self.loss_max, 2),
            "jitter_ms_avg": round(self.jitter_sum / n, 1) if n else None,
            "jitter_ms_max": None if self.jitter_max is None else round(self.jitter_max, 1),
        }


def _lower(current: float | None, seen: float) -> float:
    return seen if current is None else min(current, seen)


def _higher(current: float | None, seen: float) -> float:
    return seen if current is None else max(current, seen)
