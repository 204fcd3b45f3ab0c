"""conference.consult: the "#" consult-and-merge call (seed 002) without a phone in sight."""

from __future__ import annotations

from conference import address
from conference.consult import links, transition
from conference.keypad import Abandon, Consult, Hold, Merge
from conference.mixing import MUSIC
from conference.room import (
    Answer,
    Arrived,
    Connected,
    Dial,
    Effect,
    Event,
    Hangup,
    Invited,
    Kind,
    Left,
    Play,
    Pressed,
    PromptDone,
    Reject,
    Room,
    Stage,
)
from conference.rooms import RoomSettings


def call(controller_is_caller: bool = True) -> Room:
    return Room(RoomSettings(str(address.call("1"))), kind=Kind.CALL, anchor="89001",
                controller_is_caller=controller_is_caller)


def run(start: Room, *events: Event) -> tuple[Room, list[Effect]]:
    effects: list[Effect] = []
    for event in events:
        start, new = transition(start, event)
        effects += new
    return start, effects


def talking(controller_is_caller: bool = True) -> Room:
    """Employee "emp" (extension 100) and customer "cust" in an established call."""
    if controller_is_caller:
        events: list[Event] = [Arrived("emp", "sip:100@x", extension="100"), Invited("cust", "89001", "emp"),
                               Connected("cust", True), Connected("emp", True)]
    else:
        events = [Arrived("cust", "sip:cust@x"), Invited("emp", "100", "cust", extension="100"),
                  Connected("emp", True), Connected("cust", True)]
    room, _ = run(call(controller_is_caller), *events)
    return room


def test_the_caller_rings_until_the_anchor_answers() -> None:
    room, effects = transition(call(), Arrived("emp", "sip:100@x", extension="100"))
    assert effects == [Dial("89001", "emp")] and room.controller == "emp"
    room, effects = run(room, Invited("cust", "89001", "emp"), Connected("cust", False))
    assert effects == [] and links(room) == frozenset()  # no early media to an unanswered caller
    room, effects = transition(room, Connected("cust", True))
    assert effects == [Answer("emp")] and room.customer == "cust"
    room, _ = transition(room, Connected("emp", True))
    assert links(room) == {("emp", "cust"), ("cust", "emp")}


def test_a_failed_original_call_refuses_the_caller_with_its_status() -> None:
    room, _ = run(call(), Arrived("emp", "sip:100@x", extension="100"), Invited("cust", "89001", "emp"))
    room, effects = transition(room, Left("cust", 486))
    assert effects == [Reject("emp", 486)]


def test_a_caller_who_gives_up_cancels_the_anchor() -> None:
    room, _ = run(call(False), Arrived("cust", "sip:c@x"), Invited("emp", "100", "cust", extension="100"))
    room, effects = transition(room, Left("cust", 487))
    assert effects == [Hangup("emp")]


def test_hold_consult_merge_with_three_and_then_four_parties() -> None:
    room = talking()
    room, effects = transition(room, Pressed("emp", Hold()))
    assert links(room) == {(MUSIC, "cust")}
    room, effects = transition(room, Pressed("emp", Consult("101")))
    assert effects == [Dial("101", "emp")]
    room, _ = run(room, Invited("colleague", "101", "emp", extension="101"), Connected("colleague", True))
    assert room.consulting == "colleague"
    assert links(room) == {(MUSIC, "cust"), ("emp", "colleague"), ("colleague", "emp")}
    room, _ = transition(room, Pressed("emp", Merge()))
    inside = {"emp", "cust", "colleague"}
    assert links(room) == {(a, b) for a in inside for b in inside if a != b}
    room, _ = run(room, Pressed("emp", Hold()), Pressed("emp", Consult("89002")))
    assert links(room) == {(MUSIC, "cust"), (MUSIC, "colleague"), ("cust", "colleague"), ("colleague", "cust")}
    room, _ = run(room, Invited("fourth", "89002", "emp"), Connected("fourth", True), Pressed("emp", Merge()))
    inside |= {"fourth"}
    assert links(room) == {(a, b) for a in inside for b in inside if a != b}


def test_only_the_controller_has_the_hash_key() -> None:
    room = talking()
    assert transition(room, Pressed("cust", Hold()))[0] == room


def test_a_failed_consultation_says_why_and_goes_back() -> None:
    room, _ = run(talking(), Pressed("emp", Hold()), Pressed("emp", Consult("101")),
                  Invited("colleague", "101", "emp", extension="101"))
    room, effects = transition(room, Left("colleague", 486))
    assert effects == [Play("emp", ("number_busy",))] and room.held  # the customer hears music meanwhile
    room, _ = transition(room, PromptDone("emp"))
    assert not room.held and links(room) == {("emp", "cust"), ("cust", "emp")}


def test_abandoning_hangs_up_the_consulted_and_goes_back() -> None:
    room, _ = run(talking(), Pressed("emp", Hold()), Pressed("emp", Consult("101")),
                  Invited("colleague", "101", "emp", extension="101"), Connected("colleague", True))
    room, effects = transition(room, Pressed("emp", Abandon()))
    assert effects == [Hangup("colleague")] and not room.held
    room, effects = transition(room, Left("colleague", 200))
    assert effects == [] and links(room) == {("emp", "cust"), ("cust", "emp")}


def test_the_customer_hanging_up_ends_it_for_everyone() -> None:
    room, _ = run(talking(False), Pressed("emp", Hold()), Pressed("emp", Consult("101")),
                  Invited("colleague", "101", "emp", extension="101"), Connected("colleague", True),
                  Pressed("emp", Merge()))
    room, effects = transition(room, Left("cust", 200))
    assert sorted(effects, key=str) == [Hangup("colleague"), Hangup("emp")]
    assert all(m.stage == Stage.LEAVING for m in room.members)


def test_it_ends_when_no_employee_is_left() -> None:
    room, _ = run(talking(), Pressed("emp", Hold()), Pressed("emp", Consult("89002")),
                  Invited("outside", "89002", "emp"), Connected("outside", True), Pressed("emp", Merge()))
    room, effects = transition(room, Left("emp", 200))
    assert sorted(effects, key=str) == [Hangup("cust"), Hangup("outside")]


def test_another_employee_keeps_it_going_when_the_controller_leaves() -> None:
    room, _ = run(talking(), Pressed("emp", Hold()), Pressed("emp", Consult("101")),
                  Invited("colleague", "101", "emp", extension="101"), Connected("colleague", True),
                  Pressed("emp", Merge()))
    room, effects = transition(room, Left("emp", 200))
    assert effects == [] and links(room) == {("cust", "colleague"), ("colleague", "cust")}
