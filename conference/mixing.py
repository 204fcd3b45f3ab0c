"""Who hears what in a room: the links the bridge's mixer must have.

A link (source, sink) means the sink hears the source. Nobody is ever linked
to themselves (mix-minus); a lone participant hears music so that phones with
RTP-inactivity timers do not hang up.
"""

from __future__ import annotations

from collections.abc import Iterable

MUSIC = "music"

Link = tuple[str, str]


def room_links(members: Iterable[str]) -> frozenset[Link]:
    present = sorted(set(members))
    if len(present) == 1:
        return frozenset({(MUSIC, present[0])})
    return frozenset((src, dst) for src in present for dst in present if src != dst)


def link_changes(current: frozenset[Link], wanted: frozenset[Link]) -> tuple[frozenset[Link], frozenset[Link]]:
    """(links to stop, links to start) to get from current to wanted."""
    return current - wanted, wanted - current
