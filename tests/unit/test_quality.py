"""conference.quality: the simplified E-model and the figures a leg's record keeps."""

from __future__ import annotations

import pytest

from conference import quality
from conference.quality import Figures, Sample, Summary


def test_a_clean_g711_leg_rates_like_g711_itself() -> None:
    # G.711 with no loss and a short delay: R about 92, MOS about 4.4 (G.107's reference figure).
    assert quality.mos(0.0, 0.0, 0.0) == pytest.approx(4.4, abs=0.05)


@pytest.mark.parametrize(("loss", "ie_eff", "mos"), [(1.0, 3.64, 4.31), (5.0, 15.78, 3.90), (10.0, 27.07, 3.38),
                                                     (20.0, 42.13, 2.60)])
def test_loss_costs_what_g107_gives_g711_with_concealment(loss: float, ie_eff: float, mos: float) -> None:
    # Worked by hand: Ie_eff = 95 * Ppl / (Ppl + 25.1); R = 93.2 - Id(25 ms) - Ie_eff.
    assert quality.loss_impairment(loss) == pytest.approx(ie_eff, abs=0.01)
    assert quality.mos(loss, 0.0, 0.0) == pytest.approx(mos, abs=0.01)


def test_more_loss_jitter_or_delay_never_rates_better() -> None:
    losses = [quality.mos(p, 5.0, 40.0) for p in range(0, 60, 5)]
    jitters = [quality.mos(1.0, j, 40.0) for j in range(0, 200, 10)]
    delays = [quality.mos(1.0, 5.0, float(rtt)) for rtt in range(0, 1000, 50)]
    for series in (losses, jitters, delays):
        assert series == sorted(series, reverse=True)


def test_delay_is_nearly_free_below_177_ms_and_costly_above() -> None:
    assert quality.delay_impairment(150) < 4
    assert quality.delay_impairment(400) > 30


def test_r_maps_to_the_mos_scale_bounds() -> None:
    assert quality.r_to_mos(-10) == 1.0
    assert quality.r_to_mos(120) == 4.5
    assert quality.r_to_mos(50) == pytest.approx(2.58, abs=0.01)


def test_loss_percent_counts_lost_over_expected() -> None:
    assert Sample(received=95, lost=5, jitter_ms=0).loss_percent == 5.0
    assert Sample(received=0, lost=0, jitter_ms=0).loss_percent == 0.0


def test_an_interval_is_the_difference_of_two_cumulative_samples() -> None:
    first = Sample(received=100, lost=10, jitter_ms=3.0, rtt_ms=None)
    second = Sample(received=350, lost=12, jitter_ms=4.0, rtt_ms=20.0)
    assert quality.interval(first, second) == Sample(250, 2, 4.0, 20.0)
    assert quality.interval(None, first) == first


def test_a_restarted_stream_starts_its_interval_afresh() -> None:
    restarted = Sample(received=20, lost=0, jitter_ms=1.0)
    assert quality.interval(Sample(500, 3, 1.0), restarted) == restarted


def test_figures_carry_the_mos_of_their_sample() -> None:
    seen = quality.figures(Sample(received=90, lost=10, jitter_ms=2.0, rtt_ms=30.0))
    assert seen.loss_percent == 10.0
    assert seen.mos == quality.mos(10.0, 2.0, 30.0)
    assert seen.to_dict() == {"loss_percent": 10.0, "jitter_ms": 2.0, "rtt_ms": 30.0, "mos": seen.mos}


def test_figures_are_published_again_only_on_a_noticeable_change() -> None:
    base = Figures(1.0, 5.0, 20.0, 4.2)
    assert base.differs(None)
    assert not base.differs(Figures(1.2, 5.4, 25.0, 4.22))
    assert base.differs(Figures(2.0, 5.0, 20.0, 4.2))
    assert base.differs(Figures(1.0, 7.0, 20.0, 4.2))
    assert base.differs(Figures(1.0, 5.0, 20.0, 4.1))
    assert base.differs(Figures(1.0, 5.0, 40.0, 4.2))
    assert Figures(1.0, 5.0, None, 4.2).differs(Figures(1.0, 5.0, 20.0, 4.2))  # a first round trip is news


def test_a_summary_keeps_the_average_and_the_worst() -> None:
    summary = Summary().add(Figures(0.0, 2.0, None, 4.4)).add(Figures(10.0, 8.0, 40.0, 3.0))
    assert summary.to_record() == {"mos_avg": 3.7, "mos_min": 3.0, "loss_percent_avg": 5.0,
                                   "loss_percent_max": 10.0, "jitter_ms_avg": 5.0, "jitter_ms_max": 8.0}


def test_a_leg_without_media_has_no_quality_figures() -> None:
    assert set(Summary().to_record().values()) == {None}
