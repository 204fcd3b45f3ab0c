"""Noise gate: in a room of many voices, a leg that is not talking is kept out of the mix, so the
background noise of every phone that listens does not add up under the one who speaks.

PJSIP's mixer adds every linked voice, silent or not (README "Noise gate"). The node samples the level
of each gated leg every frame (SAMPLE_INTERVAL, one 20 ms frame: a word's start is lost for no more
than the frame or two it takes to notice it) and unlinks a leg whose level stayed below CLOSE_LEVEL
for HANGOVER (pauses between words keep it open), linking it again the frame it reaches OPEN_LEVEL.
A leg out of the mix still feeds the mixer's drain (conference.mixing.drained), so its level is
measured at full scale, before any gain, while it is out.

Only rooms with MIN_VOICES voices or more are gated: in a call of two, or with one voice and everyone
else muted, there is no noise of others to add up and nothing is gained by risking a clipped word.
While a room gates, everyone inside also hears the comfort-noise source, so RTP keeps flowing to
them when every voice is out (PJSIP sends nothing to a port that hears nobody).

Levels are PJSIP's 0-100 (conference.gain.level_db reads them as dBFS: OPEN_LEVEL about -41 dBFS, a
quiet voice's softest syllables; CLOSE_LEVEL about -43 dBFS, conference.talking's TALK_OFF). A phone's
steady noise below that is gated; a voice quieter than OPEN_LEVEL would never open (the limit of a gate).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from conference.mixing import Link

OPEN_LEVEL = 7
CLOSE_LEVEL = 6
HANGOVER = 0.8  # seconds below CLOSE_LEVEL before a leg leaves the mix
MIN_VOICES = 3
SAMPLE_INTERVAL = 0.02  # seconds: a conference frame; PJSIP measures a port's level once a frame


@dataclass(frozen=True)
class LegGate:
    """One leg's gate: open (in the mix) or not, and since when it has been quiet while open."""

    open: bool = True  # a leg enters open: its first words are never lost to a gate that has not heard it
    quiet_since: float | None = None


def observe(gate: LegGate, level: int, now: float) -> tuple[LegGate, bool]:
    """The gate after a level sample (the phone's own level, before any gain), and whether it opened
    or closed."""
    if not gate.open:
        return (LegGate(), True) if level >= OPEN_LEVEL else (gate, False)
    if level >= CLOSE_LEVEL:
        return (gate, False) if gate.quiet_since is None else (LegGate(), False)
    quiet_since = gate.quiet_since if gate.quiet_since is not None else now
    if now - quiet_since >= HANGOVER:
        return LegGate(open=False), True
    return LegGate(quiet_since=quiet_since), False


def gates(voices: Sequence[str]) -> bool:
    """Whether a room with these voices (conference.room.voices) gates them."""
    return len(voices) >= MIN_VOICES


def gated_links(links: frozenset[Link], voices: Sequence[str], closed: Iterable[str], inside: Iterable[str],
                comfort: str) -> frozenset[Link]:
    """The room's links (conference.room.links) with its closed voices heard by nobody and `comfort`
    heard by everyone inside, if the room gates; else the links as they are."""
    if not gates(voices):
        return links
    shut = set(closed) & set(voices)
    members = set(inside)
    kept = {(source, sink) for source, sink in links if source not in shut or sink not in members}
    return frozenset(kept | {(comfort, member) for member in members})
