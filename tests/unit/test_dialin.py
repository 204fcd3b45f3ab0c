"""conference.dialin: code, then password, then into the conference; or why not."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from conference.address import DIAL_IN
from conference.dialin import Abandon, Forward, Looked, Lookup, RelayLost, Transfer, links, transition
from conference.room import (
    Arrived,
    Connected,
    Digit,
    Hangup,
    Invited,
    Left,
    PinFailed,
    Play,
    PromptDone,
    Role,
    Room,
    Stage,
)
from conference.rooms import RoomSettings
from conference.roster import shown
from conference.schedule import LiveMeeting

NOW = 1_800_000_000.0
OPEN = LiveMeeting("123456", start=NOW - 60, end=NOW + 3600)
GUARDED = replace(OPEN, chair_password="11", guest_password="22")


def run(room: Room, *events: Any) -> tuple[Room, list[Any]]:
    effects: list[Any] = []
    for event in events:
        room, new = transition(room, event)
        effects += new
    return room, effects


def caller() -> tuple[Room, list[Any]]:
    return run(Room(RoomSettings(str(DIAL_IN))), Arrived("c", "sip:c@x"))


def test_a_locked_out_caller_is_told_and_hung_up() -> None:
    room, effects = transition(Room(RoomSettings(str(DIAL_IN))), Arrived("c", "sip:c@x", locked_out=True))
    assert effects == [Play("c", ("too_many_attempts",))]
    assert transition(room, PromptDone("c"))[1] == [Hangup("c")]


def test_the_code_then_star_is_looked_up() -> None:
    room, effects = caller()
    assert effects == [Play("c", ("enter_code", "beep"))]
    room, effects = run(room, *(Digit("c", d) for d in "123456*"))
    assert effects == [Lookup("c", "123456")]
    assert run(room, Digit("c", "9"), Digit("c", "*"))[1] == []  # nothing more while it is looked up


def test_an_open_conference_takes_the_caller_as_a_guest() -> None:
    room, _ = run(caller()[0], *(Digit("c", d) for d in "123456*"))
    room, effects = transition(room, Looked("c", OPEN, NOW))
    assert effects == [Transfer("c", "123456", Role.USER)]


def test_passwords_decide_the_role_and_three_wrong_ones_hang_up() -> None:
    room, _ = run(caller()[0], *(Digit("c", d) for d in "123456*"))
    room, effects = transition(room, Looked("c", GUARDED, NOW))
    assert effects == [Play("c", ("enter_password",))] and room.member("c").stage == Stage.PIN  # type: ignore[union-attr]
    _, effects = run(room, Digit("c", "1"), Digit("c", "1"), Digit("c", "#"))
    assert effects == [Transfer("c", "123456", Role.ADMIN)]
    _, effects = run(room, Digit("c", "2"), Digit("c", "2"), Digit("c", "#"))
    assert effects == [Transfer("c", "123456", Role.USER)]
    room, effects = run(room, *[Digit("c", d) for d in "9#9#9#"])
    assert effects[-1] == Play("c", ("too_many_attempts",))
    assert effects.count(PinFailed("c")) == 3  # each wrong password counts towards the lockout
    assert transition(room, PromptDone("c"))[1] == [Hangup("c")]


def test_the_owner_dialling_in_chairs_without_the_password() -> None:
    room, _ = run(Room(RoomSettings(str(DIAL_IN))), Arrived("o", "sip:100@x", extension="100"),
                  *(Digit("o", d) for d in "123456*"))
    owned = replace(GUARDED, owner="100")
    _, effects = transition(room, Looked("o", owned, NOW))
    assert effects == [Transfer("o", "123456", Role.ADMIN)]
    room, _ = run(caller()[0], *(Digit("c", d) for d in "123456*"))  # sip:c@x, no vouched extension
    _, effects = transition(room, Looked("c", owned, NOW))
    assert effects == [Play("c", ("enter_password",))]


def test_too_early_or_unknown_codes_get_one_answer_count_as_a_failure_and_are_hung_up() -> None:
    room, _ = run(caller()[0], *(Digit("c", d) for d in "1*"))
    _, effects = transition(room, Looked("c", replace(OPEN, start=NOW + 600), NOW))
    assert effects == [PinFailed("c"), Play("c", ("conference_unavailable",))]
    room, effects = transition(room, Looked("c", None, NOW))
    assert effects == [PinFailed("c"), Play("c", ("conference_unavailable",))]
    assert transition(room, PromptDone("c"))[1] == [Hangup("c")]
    assert transition(room, Left("c"))[0].members == ()


def relayed() -> tuple[Room, list[Any]]:
    """A caller let in as a guest whose conference lives on another node: the node called it ("leg")."""
    room, _ = run(caller()[0], *(Digit("c", d) for d in "123456*"), Looked("c", OPEN, NOW))
    return run(room, Invited("leg", "conf-123456", "c"))


def test_a_relay_leg_once_up_and_its_caller_hear_each_other_and_nobody_else() -> None:
    room, effects = relayed()
    assert effects == [] and links(room) == frozenset()  # ringing: nothing to hear yet
    other, _ = run(room, Arrived("d", "sip:d@x"))
    room, effects = run(other, Connected("leg", answered=True))
    assert effects == [] and links(room) == {("c", "leg"), ("leg", "c")}
    # Neither shows in any roster: the caller is shown by the conference, on its node.
    assert [shown(m) for m in room.members] == [None, None, None]


def test_the_callers_keys_are_sent_on_to_its_conference_once_the_leg_is_up() -> None:
    room, _ = relayed()
    assert run(room, Digit("c", "1"))[1] == []  # not up yet: the key is lost, as in a ringing call
    room, _ = run(room, Connected("leg", answered=False))
    assert run(room, Digit("c", "*"), Digit("c", "1"))[1] == [Forward("leg", "*"), Forward("leg", "1")]


def test_the_caller_hanging_up_ends_its_relay_leg_and_the_conference_ending_it_ends_the_caller() -> None:
    room, _ = run(relayed()[0], Connected("leg", answered=True))
    gone, effects = transition(room, Left("c"))
    assert effects == [Hangup("leg")] and [m.id for m in gone.members] == ["leg"]
    assert transition(gone, Left("leg"))[1] == []
    gone, effects = transition(room, Left("leg", 200))
    assert effects == [Hangup("c")] and links(gone) == frozenset()


def test_a_relay_leg_that_never_came_up_leaves_its_caller_told_the_conference_is_unavailable() -> None:
    room, effects = transition(relayed()[0], Left("leg", 503))
    assert effects == [Play("c", ("conference_unavailable",))]
    assert transition(room, PromptDone("c"))[1] == [Hangup("c")]
    assert not [e for e in effects if isinstance(e, PinFailed)]  # no wrong guess of anyone's


def test_a_caller_whose_conference_node_died_waits_on_music_keys_ignored_until_a_new_leg_is_up() -> None:
    room, _ = run(relayed()[0], Connected("leg", answered=True))
    assert room.member("c").role == Role.USER  # type: ignore[union-attr]  # carried again as what it was
    waiting, effects = run(room, RelayLost("leg"))
    assert effects == [Play("c", ("reconnecting",))] and waiting.member("c").stage == Stage.WAITING  # type: ignore[union-attr]
    assert links(waiting) == {("music", "c")}
    waiting, effects = run(waiting, Left("leg", 200), Digit("c", "1"))  # the lost leg's end ends nobody
    assert effects == [] and [m.id for m in waiting.members] == ["c"]
    again, effects = run(waiting, Invited("leg2", "conf-123456", "c"), Connected("leg2", answered=True))
    assert effects == [] and links(again) == {("c", "leg2"), ("leg2", "c")}
    assert transition(again, Digit("c", "1"))[1] == [Forward("leg2", "1")]
    told, effects = run(waiting, Abandon("c"))
    assert effects == [Play("c", ("conference_unavailable",))] and told.member("c").stage == Stage.LEAVING  # type: ignore[union-attr]
    assert run(room, Abandon("c"))[1] == []  # only one who waits is given up on
    assert run(relayed()[0], RelayLost("leg"))[1] == []  # a leg never up: its end tells the caller (Left)


def test_nobody_else_is_taken_for_a_relay_leg() -> None:
    room, _ = relayed()
    assert transition(room, Invited("x", "conf-1", "nobody"))[0] == room  # for no caller of the service
    room, _ = run(caller()[0], Connected("c", answered=True))  # a caller's media: it is no leg
    assert room.member("c").stage == Stage.GREETING and not room.member("c").answered  # type: ignore[union-attr]
