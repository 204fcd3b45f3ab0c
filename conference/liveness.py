"""A leg is dead when its received-packet counter has not moved for the timeout."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RxWatch:
    packets: int = -1
    since: float = 0.0


def observe(watch: RxWatch, packets: int, now: float, timeout: float) -> tuple[RxWatch, bool]:
    """The updated watch and whether the leg has been silent for `timeout` seconds."""
    if packets != watch.packets:
        return RxWatch(packets, now), False
    return watch, now - watch.since >= timeout
