from __future__ import annotations

from conference.mixing import DRAIN, MUSIC, drained, link_changes


def test_second_arrival_stops_the_music_and_links_both_ways() -> None:
    alone = frozenset({(MUSIC, "1")})
    pair = frozenset({("1", "2"), ("2", "1")})
    assert link_changes(alone, pair) == (alone, pair)


def test_unchanged_links_need_no_changes() -> None:
    links = frozenset({("1", "2"), ("2", "1")})
    assert link_changes(links, links) == (frozenset(), frozenset())


def test_only_the_difference_changes() -> None:
    current = frozenset({("1", "2"), ("2", "1")})
    wanted = frozenset({("1", "2"), ("2", "1"), ("3", "1"), ("1", "3"), ("3", "2"), ("2", "3")})
    stop, start = link_changes(current, wanted)
    assert stop == frozenset() and start == wanted - current


def test_whom_nobody_hears_is_read_into_the_drain() -> None:
    links = frozenset({("a", "b"), ("b", "a"), (MUSIC, "c")})
    assert drained(links, ["a", "b", "c"]) == links | {("c", DRAIN)}  # c is held: heard by nobody
    assert drained(frozenset(), []) == frozenset()
