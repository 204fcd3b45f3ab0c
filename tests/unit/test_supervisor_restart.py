"""The restart policy: how long the supervisor waits before starting a crashed component again."""

from __future__ import annotations

from stack.restart import BACKOFF, Backoff, RestartState


def crash_loop(times: list[tuple[float, float]], policy: Backoff = BACKOFF) -> list[float]:
    """The delays chosen for a series of (started_at, crashed_at) runs."""
    state, delays = RestartState(), []
    for started_at, crashed_at in times:
        restart = state.after_crash(started_at, crashed_at, policy)
        state = restart.state
        delays.append(restart.delay)
    return delays


def test_quick_crashes_wait_twice_as_long_each_time() -> None:
    runs = [(0.0, 1.0), (1.5, 2.0), (3.0, 3.5), (5.5, 6.0)]
    assert crash_loop(runs) == [0.5, 1.0, 2.0, 4.0]


def test_the_wait_is_capped() -> None:
    runs = [(float(i), i + 0.1) for i in range(12)]
    delays = crash_loop(runs)
    assert max(delays) == 30.0
    assert delays[-3:] == [30.0, 30.0, 30.0]  # and it keeps trying: never given up


def test_a_run_that_stayed_up_long_enough_starts_from_the_shortest_wait_again() -> None:
    runs = [(0.0, 1.0), (1.5, 2.0), (4.0, 4.0 + 60.0), (64.5, 65.0)]
    assert crash_loop(runs) == [0.5, 1.0, 0.5, 1.0]


def test_a_run_just_short_of_stable_still_counts_as_quick() -> None:
    runs = [(0.0, 1.0), (1.5, 1.5 + 59.9)]
    assert crash_loop(runs) == [0.5, 1.0]


def test_every_crash_is_counted_and_the_restart_time_is_on_the_given_clock() -> None:
    state = RestartState()
    first = state.after_crash(100.0, 100.2)
    second = first.state.after_crash(100.7, 100.9)
    third = second.state.after_crash(101.9, 200.0)  # up for about 98 s: forgiven, but still counted
    assert (first.state.crashes, second.state.crashes, third.state.crashes) == (1, 2, 3)
    assert (first.at, second.at, third.at) == (100.7, 101.9, 200.5)


def test_the_policy_is_a_parameter() -> None:
    policy = Backoff(first=0.1, factor=3.0, cap=1.0, stable_after=5.0)
    assert crash_loop([(0, 1), (1, 2), (2, 3), (3, 4), (10, 16)], policy) == [0.1, 0.1 * 3, 0.1 * 9, 1.0, 0.1]


def test_exit_codes_are_logged_with_the_signal_that_ended_the_process() -> None:
    from stack.supervisor import describe_exit  # the supervisor's own module (threads, no I/O at import)

    described = [describe_exit(code) for code in (0, 3, -9, -15, -200)]
    assert described == ["0", "3", "-9 (SIGKILL)", "-15 (SIGTERM)", "-200"]
