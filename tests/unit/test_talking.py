from __future__ import annotations

from conference.talking import HOLD, TALK_OFF, TALK_ON, Talk, observe_level


def feed(levels: list[tuple[float, int]]) -> list[tuple[float, bool]]:
    talk, changes = Talk(), []
    for now, level in levels:
        talk, changed = observe_level(talk, level, now)
        if changed:
            changes.append((now, talk.talking))
    return changes


def test_speech_starts_at_the_on_level() -> None:
    assert feed([(0.0, 0), (0.2, TALK_ON - 1), (0.4, TALK_ON)]) == [(0.4, True)]


def test_short_pauses_do_not_end_talking() -> None:
    levels = [(0.0, 50), (0.2, 0), (0.4, 0), (0.6, 50), (0.8, 0), (1.0, 0)]
    assert feed(levels) == [(0.0, True)]


def test_silence_for_the_hold_time_ends_talking() -> None:
    levels = [(0.0, 50), (1.0, 0), (1.0 + HOLD / 2, 0), (1.0 + HOLD, 0)]
    assert feed(levels) == [(0.0, True), (1.0 + HOLD, False)]


def test_levels_between_off_and_on_keep_the_current_state() -> None:
    middle = (TALK_ON + TALK_OFF) // 2
    assert feed([(0.0, middle), (1.0, middle)]) == []
    assert feed([(0.0, 50), (1.0, middle), (5.0, middle)]) == [(0.0, True)]
