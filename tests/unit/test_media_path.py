"""The pure pieces of rtpengine's forwarding mode (stack/components.py) and of the full-path bench's
figures (bench/procs.py, bench/fullpath.py)."""

from __future__ import annotations

import pytest

from bench import fullpath, procs, soak
from stack.components import forwarding_mode, kernel_table, table_of


def test_each_rtpengine_of_a_host_forwards_in_its_own_kernel_table_when_the_module_is_there() -> None:
    assert [kernel_table(True, index) for index in range(3)] == [0, 1, 2]


def test_without_the_kernel_module_every_rtpengine_relays_in_userspace() -> None:
    assert [kernel_table(False, index) for index in range(2)] == [-1, -1]


def test_the_table_is_read_from_the_running_command_line() -> None:
    assert table_of(["rtpengine", "--config-file=x", "--table=1", "--interface=127.0.0.1"]) == 1
    assert table_of(["rtpengine", "--table=-1"]) == -1
    assert table_of(["rtpengine", "--table=0", "--table=2"]) == 2  # the last one counts, as for rtpengine
    assert table_of(["rtpengine"]) == -1
    assert table_of(["rtpengine", "--table=x"]) == -1


def test_status_names_the_forwarding_mode_and_a_kernel_table_that_failed() -> None:
    assert forwarding_mode(-1, False) == "userspace forwarding"
    assert forwarding_mode(0, True) == "kernel forwarding, table 0"
    assert forwarding_mode(1, False) == "userspace forwarding (kernel table 1 failed)"


def test_a_stat_line_is_read_from_after_the_command_name() -> None:
    text = "4242 (kamailio (x) y) S 4000 4242 4242 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 1 0 1 2 3"
    assert procs.parse_stat(4242, text) == procs.Stat(4242, 4000, 300)


def test_a_tree_holds_its_root_and_every_descendant_only() -> None:
    stats = [procs.Stat(10, 1, 0), procs.Stat(11, 10, 0), procs.Stat(12, 11, 0), procs.Stat(13, 1, 0)]
    assert procs.descendants(10, stats) == {10, 11, 12}
    assert procs.descendants(99, stats) == {99}


def test_memory_is_read_from_status_and_smaps_rollup() -> None:
    assert procs.memory_kib("VmRSS", "Name:\trtpengine\nVmPeak:\t 900 kB\nVmRSS:\t  1234 kB\nThreads: 4\n") == 1234
    assert procs.memory_kib("Pss", "Rss:   900 kB\nPss:   450 kB\nPss_Anon:  12 kB\n") == 450
    assert procs.memory_kib("VmRSS", "Name:\tkthreadd\n") == 0


def test_figures_per_participant_and_the_ratios() -> None:
    full = fullpath.Window(10.0, {"rtpengine": 1.0, "bridge": 0.5, "kamailio": 0.01}, (1.0, 1.5))
    reference = fullpath.Window(10.0, {"rtpengine": 0.8, "bridge": 0.0, "kamailio": 0.0}, (1.5, 1.4))
    found = fullpath.figures(100, full, reference)
    assert found["cpu_pct"] == {"rtpengine": 10.0, "bridge": 5.0, "kamailio": 0.1}
    assert found["relay_reference_pct"] == 8.0
    assert found["ms_per_participant_s"] == {"rtpengine": 1.0, "bridge": 0.5, "kamailio": 0.01, "media": 1.51,
                                             "relay_reference": 0.8}
    assert found["media_over_bridge"] == 3.02
    assert found["rtpengine_over_bridge"] == 2.0
    assert found["rtpengine_over_relay_reference"] == 1.25
    assert found["bridge_over_relay_reference"] == 0.62  # 0.625, rounded to even
    assert found["load"] == [1.0, 1.5, 1.5, 1.4]


def test_no_ratio_over_a_process_that_used_nothing() -> None:
    idle = fullpath.Window(10.0, {"rtpengine": 0.0, "bridge": 0.0, "kamailio": 0.0}, (0.0, 0.0))
    assert fullpath.figures(10, idle, idle)["media_over_bridge"] is None


@pytest.mark.parametrize(("rows", "expected"), [
    ([(100, 100, 0.1), (100, 100, 0.3), (200, 200, 0.5), (200, 200, 0.9)], 200),
    ([(100, 100, 0.1), (100, 100, 0.3), (200, 200, 0.5), (200, 200, 1.4)], 100),  # one round over the limit
    ([(100, 100, 0.1), (200, 199, 0.2), (300, 300, 0.2)], 300),  # a dropped call at 200 only
    ([(100, 99, 0.0)], 0),
])
def test_capacity_is_the_most_participants_every_round_carried(rows: list[tuple[int, int, float]],
                                                                expected: int) -> None:
    found = [{"participants": n, "survived": up, "late_or_lost_pct": late} for n, up, late in rows]
    assert fullpath.capacity(found) == expected


def test_the_soak_reports_each_process_at_start_and_end_and_its_memory_growth() -> None:
    start = {"bridge": {"rss_kib": 200_000, "pss_kib": 100_000, "fds": 900},
             "redis": {"rss_kib": 0, "pss_kib": 0, "fds": 10}}
    end = {"bridge": {"rss_kib": 204_000, "pss_kib": 99_000, "fds": 905},
           "redis": {"rss_kib": 5, "pss_kib": 5, "fds": 10}}
    assert soak.growth(start, end) == {
        "bridge": {"rss_kib": [200_000, 204_000], "pss_kib": [100_000, 99_000], "fds": [900, 905],
                   "rss_growth_pct": 2.0, "pss_growth_pct": -1.0},
        # from nothing (a process that had ended): counted from 1 KiB, not a division by 0
        "redis": {"rss_kib": [0, 5], "pss_kib": [0, 5], "fds": [10, 10], "rss_growth_pct": 400.0,
                  "pss_growth_pct": 400.0},
    }
