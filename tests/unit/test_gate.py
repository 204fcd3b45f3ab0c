from __future__ import annotations

from conference.gain import level_db
from conference.gate import (
    CLOSE_LEVEL,
    HANGOVER,
    MIN_VOICES,
    OPEN_LEVEL,
    SAMPLE_INTERVAL,
    LegGate,
    gated_links,
    gates,
    observe,
)
from conference.mixing import DRAIN, drained
from conference.talking import TALK_OFF

NOISE = 3  # a phone's background noise at about -50 dBFS
VOICE = 20


def feed(levels: list[tuple[float, int]], start: LegGate | None = None) -> list[tuple[float, bool]]:
    """The gate's openings and closings, as (when, open), for these (when, level) samples."""
    gate, changes = start or LegGate(), []
    for now, level in levels:
        gate, changed = observe(gate, level, now)
        if changed:
            changes.append((now, gate.open))
    return changes


def frames(start: float, seconds: float, level: int) -> list[tuple[float, int]]:
    """A sample every frame, as the node takes them."""
    return [(start + i * SAMPLE_INTERVAL, level) for i in range(round(seconds / SAMPLE_INTERVAL))]


def test_a_leg_enters_open_and_steady_noise_closes_it_after_the_hangover() -> None:
    changes = feed(frames(0.0, 2.0, NOISE))
    assert len(changes) == 1
    when, is_open = changes[0]
    assert not is_open and HANGOVER <= when < HANGOVER + 2 * SAMPLE_INTERVAL


def test_the_first_frame_of_speech_opens_a_closed_gate() -> None:
    closed = LegGate(open=False)
    assert feed([(0.0, NOISE), (0.02, NOISE), (0.04, OPEN_LEVEL)], closed) == [(0.04, True)]
    assert feed([(0.0, OPEN_LEVEL - 1)], closed) == []


def test_pauses_shorter_than_the_hangover_keep_a_talker_in() -> None:
    speech = frames(0.0, 1.0, VOICE) + frames(1.0, HANGOVER - 0.1, NOISE) + frames(1.0 + HANGOVER, 1.0, VOICE)
    assert feed(speech) == []


def test_a_level_between_close_and_open_holds_the_state_it_finds() -> None:
    assert CLOSE_LEVEL < OPEN_LEVEL  # hysteresis: a level near the threshold does not flap
    assert feed(frames(0.0, 3.0, CLOSE_LEVEL)) == []
    assert feed(frames(0.0, 3.0, CLOSE_LEVEL), LegGate(open=False)) == []


def test_the_thresholds_sit_between_a_quiet_phone_noise_and_a_quiet_voice() -> None:
    close, opening = level_db(CLOSE_LEVEL), level_db(OPEN_LEVEL)
    assert close is not None and opening is not None
    assert -45 < close < opening < -38  # dBFS: noise at -50 closes; the talking threshold (-34) opens
    assert CLOSE_LEVEL == TALK_OFF


ROOM = frozenset({("a", "b"), ("a", "c"), ("b", "a"), ("b", "c"), ("c", "a"), ("c", "b")})


def test_a_closed_voice_is_heard_by_nobody_and_everyone_hears_comfort_noise() -> None:
    links = gated_links(ROOM, ["a", "b", "c"], {"c"}, ["a", "b", "c"], "silence")
    assert links == {("a", "b"), ("a", "c"), ("b", "a"), ("b", "c"),
                     ("silence", "a"), ("silence", "b"), ("silence", "c")}
    # Out of the mix, the closed voice still feeds the drain: its level is measured at full scale.
    assert ("c", DRAIN) in drained(links, ["a", "b", "c"])


def test_every_voice_closed_still_leaves_each_member_a_source() -> None:
    links = gated_links(ROOM, ["a", "b", "c"], {"a", "b", "c"}, ["a", "b", "c"], "silence")
    assert {sink for _, sink in links} == {"a", "b", "c"}


def test_rooms_of_fewer_voices_than_the_minimum_are_not_gated() -> None:
    two = frozenset({("a", "b"), ("b", "a")})
    assert MIN_VOICES == 3 and not gates(["a", "b"]) and gates(["a", "b", "c"])
    assert gated_links(two, ["a", "b"], {"a", "b"}, ["a", "b"], "silence") == two
    # A sole voice among listeners and muted members (a lecture) is never gated either.
    lecture = frozenset({("a", "b"), ("a", "c"), ("a", "d")})
    assert gated_links(lecture, ["a"], {"a"}, ["a", "b", "c", "d"], "silence") == lecture


def test_a_whisper_from_a_closed_member_is_not_its_voice_and_is_kept() -> None:
    links = frozenset({*ROOM, ("d", "a")})  # d whispers to a: not one of the voices
    assert ("d", "a") in gated_links(links, ["a", "b", "c"], {"d"}, ["a", "b", "c", "d"], "silence")
