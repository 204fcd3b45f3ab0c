"""Links of the bridge's mixer. A link (source, sink) means the sink hears the source;
conference/room.py decides which links a room wants, the bridge applies the changes."""

from __future__ import annotations

MUSIC = "music"

Link = tuple[str, str]


def link_changes(current: frozenset[Link], wanted: frozenset[Link]) -> tuple[frozenset[Link], frozenset[Link]]:
    """(links to stop, links to start) to get from current to wanted."""
    return current - wanted, wanted - current
