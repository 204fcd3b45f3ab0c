from __future__ import annotations

import pytest

from conference.mixing import DRAIN, MUSIC, drained, link_changes, music, music_sound


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


def test_a_rooms_music_is_named_by_its_sound_and_read_back() -> None:
    assert music(None) == MUSIC and music_sound(MUSIC) is None
    assert music(7) != MUSIC and music(7) != music(8)
    assert music_sound(music(7)) == 7 and music_sound(music(2**31 - 1)) == 2**31 - 1


@pytest.mark.parametrize("name", ["", "music:", "music:x", "music:-1", "music:\u0661", "musicx:7", "silence:7",
                                  "drain", "0123456789abcdef", "music:7:8", "music:" + "9" * 5000])
def test_only_a_music_name_names_a_sound(name: str) -> None:
    assert music_sound(name) is None
