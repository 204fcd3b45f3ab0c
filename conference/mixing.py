"""Links of the bridge's mixer. A link (source, sink) means the sink hears the source;
conference/room.py decides which links a room wants, the bridge applies the changes."""

from __future__ import annotations

from collections.abc import Iterable

MUSIC = "music"  # the node's standard music on hold
# A sink that hears and discards: the mixer reads a source only while something hears it.
DRAIN = "drain"

Link = tuple[str, str]


def music(sound_id: int | None) -> str:
    """The looping source of a room's music on hold: a sound of the library, or (None) MUSIC."""
    return MUSIC if sound_id is None else f"{MUSIC}:{int(sound_id)}"


def music_sound(source: str) -> int | None:
    """The library sound a music() source plays; None for MUSIC and for anything that is no music()."""
    kind, _, sound = source.partition(":")
    # At most 10 digits: a sound id is a 32-bit SQL integer (conference.rooms.MAX_SOUND_ID).
    return int(sound) if kind == MUSIC and sound.isascii() and sound.isdigit() and len(sound) <= 10 else None


def drained(links: frozenset[Link], members: Iterable[str]) -> frozenset[Link]:
    """The links, plus one to DRAIN from each member nobody hears (on hold, waiting, in the IVR).
    A call's incoming audio that nobody reads still fills its jitter buffer, which is then heard
    late and drained with skips when someone listens again; read, it stays current."""
    heard = {source for source, _ in links}
    return links | {(member, DRAIN) for member in members if member not in heard}


def link_changes(current: frozenset[Link], wanted: frozenset[Link]) -> tuple[frozenset[Link], frozenset[Link]]:
    """(links to stop, links to start) to get from current to wanted."""
    return current - wanted, wanted - current
