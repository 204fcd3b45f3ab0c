from __future__ import annotations

from conference.placement import (
    SETTLE_SECONDS,
    NodeStatus,
    Run,
    choose_node,
    gone,
    place,
    relayed,
    run_state,
    settled,
)


def node(node_id: str, load: int, capacity: int = 10) -> NodeStatus:
    return NodeStatus(node_id, "127.0.0.1", 5080, capacity, load)


def test_live_affinity_wins_even_when_that_node_is_full() -> None:
    assert choose_node("a", [node("a", 10), node("b", 0)]) == node("a", 10)


def test_new_room_goes_to_the_node_with_most_free_share() -> None:
    assert choose_node(None, [node("a", 5, 10), node("b", 40, 100)]).id == "b"  # type: ignore[union-attr]


def test_dead_affinity_falls_back_to_least_loaded() -> None:
    assert choose_node("gone", [node("a", 3), node("b", 2)]).id == "b"  # type: ignore[union-attr]


def test_full_nodes_take_no_new_rooms() -> None:
    assert choose_node(None, [node("a", 10), node("b", 12)]) is None


def test_no_nodes() -> None:
    assert choose_node(None, []) is None


def test_ties_break_by_id_for_stable_choice() -> None:
    assert choose_node(None, [node("b", 1), node("a", 1)]).id == "a"  # type: ignore[union-attr]


def test_status_round_trips_through_a_dict() -> None:
    status = node("a", 3)
    assert NodeStatus.from_dict(status.as_dict()) == status
    assert status.sip_uri == "sip:127.0.0.1:5080"


def test_place_records_a_new_choice_and_follows_a_faster_claim() -> None:
    a, b = NodeStatus("a", "h", 1, 10, 5), NodeStatus("b", "h", 2, 10, 1)
    claims: list[tuple[str, str | None]] = []

    def claim(node_id: str, previous: str | None) -> str:
        claims.append((node_id, previous))
        return "a"  # another worker chose a first

    assert place("a", [a, b], claim) == a and claims == []  # its live node: no claim
    assert place(None, [a, b], claim) == a and claims == [("b", None)]
    assert place("gone", [b], lambda node_id, previous: node_id) == b
    assert place(None, [], claim) is None


def test_a_run_is_alive_replaced_by_a_restart_absent_or_unknown() -> None:
    first = NodeStatus("a", "h", 1, 10, 0, instance="one")
    again = NodeStatus("a", "h", 1, 10, 0, instance="two")
    other = NodeStatus("b", "h", 2, 10, 0, instance="one")
    assert first.run == "a/one"
    assert run_state("a/one", [other, first], {"a", "b"}) == Run.ALIVE
    assert run_state("a/one", [other, again], {"a", "b"}) == Run.REPLACED
    assert run_state("a/one", [other], {"a", "b"}) == Run.ABSENT  # registered, no heartbeat: dead
    assert run_state("a/one", [], set()) == Run.UNKNOWN  # Redis empty (lost, resyncing): no judgement
    assert [gone(state) for state in Run] == [False, True, True, False]


def test_a_status_without_an_instance_reads_as_one_of_an_empty_instance() -> None:
    data = NodeStatus("a", "h", 1, 10, 0).as_dict()
    del data["instance"]
    assert NodeStatus.from_dict(data).run == "a/"


def test_a_node_is_settled_a_few_seconds_after_its_run_started() -> None:
    node = NodeStatus("a", "h", 1, 10, 0, instance="one", since=1000.0)
    assert not settled(node, 1000.0 + SETTLE_SECONDS - 0.1)
    assert settled(node, 1000.0 + SETTLE_SECONDS)


def test_a_dial_in_caller_is_relayed_only_to_a_conference_placed_on_another_node() -> None:
    assert relayed("b", "a")
    assert not relayed("a", "a")
    assert not relayed(None, "a")  # nothing placed (Redis is gone): the conference opens where the caller is
