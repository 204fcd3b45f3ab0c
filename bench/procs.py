"""What the stack's processes use, read from /proc: CPU time, memory and open files of a process
and all its descendants (Kamailio forks its workers; rtpengine and the bridge count their threads
in their own /proc/PID/stat). The parsing is pure; `read_*` do the reading."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Stat:
    pid: int
    ppid: int
    ticks: int  # user + system CPU time, in clock ticks


def parse_stat(pid: int, text: str) -> Stat:
    """/proc/PID/stat: the command name (field 2) may hold spaces and parentheses, so the fields
    are counted from the last ')'."""
    fields = text.rsplit(")", 1)[1].split()
    return Stat(pid, int(fields[1]), int(fields[11]) + int(fields[12]))


def descendants(root: int, stats: list[Stat]) -> set[int]:
    """`root` and every process below it."""
    children: dict[int, list[int]] = {}
    for stat in stats:
        children.setdefault(stat.ppid, []).append(stat.pid)
    found, todo = set(), [root]
    while todo:
        pid = todo.pop()
        if pid not in found:
            found.add(pid)
            todo.extend(children.get(pid, []))
    return found


def memory_kib(field: str, text: str) -> int:
    """A "Field:   N kB" line of /proc/PID/status (VmRSS) or smaps_rollup (Pss), in KiB; 0 if it has
    none (a kernel thread or a zombie)."""
    for line in text.splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    return 0


def read_stats() -> list[Stat]:
    stats = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stats.append(parse_stat(int(entry.name), (entry / "stat").read_text()))
            except (OSError, IndexError, ValueError):
                continue  # it ended while we read
    return stats


def read_cpu_seconds(roots: dict[str, int]) -> dict[str, float]:
    """CPU seconds used so far by each named process tree (a child that ended took its time with it:
    Kamailio's workers live as long as Kamailio)."""
    stats = read_stats()
    by_pid = {stat.pid: stat for stat in stats}
    return {name: sum(by_pid[pid].ticks for pid in descendants(root, stats)) / TICKS
            for name, root in roots.items()}


def read_footprint(roots: dict[str, int]) -> dict[str, dict[str, int]]:
    """Memory and open file descriptors of each named process tree: resident memory summed over the
    tree (pages Kamailio's workers share count once per worker) and proportional memory (each shared
    page split among its sharers: what the tree really holds), in KiB."""
    stats = read_stats()
    found = {}
    for name, root in roots.items():
        rss = pss = fds = 0
        for pid in descendants(root, stats):
            try:
                rss += memory_kib("VmRSS", Path(f"/proc/{pid}/status").read_text())
                pss += memory_kib("Pss", Path(f"/proc/{pid}/smaps_rollup").read_text())
                fds += len(os.listdir(f"/proc/{pid}/fd"))
            except OSError:
                continue
        found[name] = {"rss_kib": rss, "pss_kib": pss, "fds": fds}
    return found
