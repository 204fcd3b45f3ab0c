from __future__ import annotations

from conference.liveness import RxWatch, observe


def test_moving_counter_keeps_the_leg() -> None:
    watch = RxWatch(since=0.0)
    for second in range(0, 100, 5):
        watch, silent = observe(watch, packets=second * 50, now=float(second), timeout=30)
        assert not silent


def test_stuck_counter_drops_the_leg_after_the_timeout() -> None:
    watch, silent = observe(RxWatch(since=0.0), packets=10, now=1.0, timeout=30)
    assert not silent
    watch, silent = observe(watch, packets=10, now=30.9, timeout=30)
    assert not silent
    watch, silent = observe(watch, packets=10, now=31.0, timeout=30)
    assert silent


def test_a_leg_that_never_sent_counts_from_its_join() -> None:
    watch = RxWatch(packets=0, since=100.0)
    assert observe(watch, packets=0, now=129.0, timeout=30)[1] is False
    assert observe(watch, packets=0, now=130.0, timeout=30)[1] is True
