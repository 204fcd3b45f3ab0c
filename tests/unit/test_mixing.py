from __future__ import annotations

from conference.mixing import MUSIC, link_changes, room_links


def test_alone_hears_music_only() -> None:
    assert room_links(["1"]) == {(MUSIC, "1")}


def test_everyone_hears_everyone_else_and_never_themselves() -> None:
    links = room_links(["1", "2", "3"])
    assert links == {("1", "2"), ("1", "3"), ("2", "1"), ("2", "3"), ("3", "1"), ("3", "2")}
    assert all(src != dst for src, dst in links)
    assert not any(MUSIC in link for link in links)


def test_empty_room_has_no_links() -> None:
    assert room_links([]) == frozenset()


def test_second_arrival_stops_the_music() -> None:
    stop, start = link_changes(room_links(["1"]), room_links(["1", "2"]))
    assert stop == {(MUSIC, "1")}
    assert start == {("1", "2"), ("2", "1")}


def test_unchanged_room_needs_no_changes() -> None:
    links = room_links(["1", "2"])
    assert link_changes(links, links) == (frozenset(), frozenset())
