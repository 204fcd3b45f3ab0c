"""Scheduled conferences on a bridge node (bridge.meetings.Meetings) against fakes of bridge.edge:
the worker's commands, calls at the start, rings that time out, redials, dial-in transfers and
the end reported. Time is passed in; nothing sleeps."""

from __future__ import annotations

from typing import Any

from bridge.edge import DialRequest, Rights
from bridge.meetings import ANSWERED, GIVEN_UP, NOT_REACHED, REJOIN_LIMIT, REJOIN_SECONDS, Meetings
from bridge.rooms import LiveRoom
from conference import address, billing, dialin
from conference.room import OPERATOR, Kind, Role, Room, Stage
from conference.rooms import RoomSettings
from conference.schedule import JoinedBy, LiveMeeting
from settings import ConferencesConfig
from tests.unit.fake_edge import Bridge, FakeLeg

CODE = "4242"
ROOM = str(address.scheduled(CODE))
T0 = 500.0  # monotonic
RING, RETRY = 45, 60


def setup(rings: list[str] | None = None, **meeting: Any) -> tuple[Bridge, Meetings]:
    """`rings` collects each ring's outcome (Meetings' `rang`)."""
    bridge = Bridge()
    clock = bridge.live.clock
    fields: dict[str, Any] = {"owner": "201", "numbers": ("201", "5551234"), **meeting}
    bridge.live.meetings[CODE] = LiveMeeting(CODE, start=clock - 60, end=clock + 3600, **fields)
    config = ConferencesConfig(ring_seconds=RING, retries=2, retry_seconds=RETRY)
    return bridge, Meetings(bridge.switchboard, bridge.live, bridge.rooms, config,
                            *(() if rings is None else (rings.append,)))


def started(rings: list[str] | None = None, **meeting: Any) -> tuple[Bridge, Meetings, LiveRoom]:
    bridge, meetings = setup(rings, **meeting)
    bridge.live.command("start", CODE)
    meetings.poll(T0)
    room = bridge.rooms.get(ROOM)
    assert room is not None
    return bridge, meetings, room


def test_a_start_handed_over_early_calls_everyone_at_the_start_time() -> None:
    bridge, meetings = setup()
    bridge.live.command("start", CODE, at=f"{bridge.live.clock + 1.5:.3f}")
    meetings.poll(T0)
    assert bridge.rooms.get(ROOM) is None and bridge.switchboard.dialled == []
    meetings.poll(T0 + 1.4)
    assert bridge.switchboard.dialled == []
    meetings.poll(T0 + 1.5)
    assert [ask.number for ask in bridge.switchboard.dialled] == ["201", "5551234"]


def test_a_start_time_past_or_unreadable_starts_at_once_and_one_far_off_waits_no_more_than_ten_seconds() -> None:
    for at in ("", "soon", "1e9", "²", f"{1_800_000_000.0 - 5:.3f}"):
        bridge, meetings = setup()
        bridge.live.command("start", CODE, at=at)
        meetings.poll(T0)
        assert len(bridge.switchboard.dialled) == 2, at
    bridge, meetings = setup()
    bridge.live.command("start", CODE, at=f"{bridge.live.clock + 3600:.3f}")
    meetings.poll(T0)
    meetings.poll(T0 + 9.9)
    assert bridge.switchboard.dialled == []
    meetings.poll(T0 + 10.0)
    assert len(bridge.switchboard.dialled) == 2


def ended(bridge: Bridge, meetings: Meetings, room: LiveRoom, call: FakeLeg, status: int, now: float) -> None:
    """What BridgeNode.ended does with a call of a scheduled conference."""
    meetings.ended(room, call, status, now)
    bridge.hang_up(call, status)


def test_the_start_command_calls_every_listed_number_for_the_owner() -> None:
    bridge, _, room = started()
    assert [ask.number for ask in bridge.switchboard.dialled] == ["201", "5551234"]
    for ask in bridge.switchboard.dialled:
        assert (ask.room, ask.inviter, ask.rights) == (ROOM, None, Rights.NODE)  # numbers its owner listed
        assert ask.shown == bridge.switchboard.numbers.installation  # the installation calls, not the owner
        assert ask.billed == billing.Leg(ROOM, billing.LegKind.SCHEDULED, ROOM, ask.number, "201")
    assert room.state.kind == Kind.SCHEDULED and room.state.owner == "201"
    assert [m.stage for m in room.state.members] == [Stage.RINGING, Stage.RINGING]


def test_without_auto_invite_the_start_opens_the_room_and_calls_nobody() -> None:
    bridge, _, _ = started(auto_invite=False)
    assert bridge.switchboard.dialled == []


def test_a_second_start_of_a_running_conference_calls_nobody_again() -> None:
    # A node that just started replays the last minute's start as the worker resumes it there.
    bridge, meetings, _ = started()
    bridge.live.command("start", CODE)
    meetings.poll(T0 + 1)
    assert [ask.number for ask in bridge.switchboard.dialled] == ["201", "5551234"]


def test_a_start_for_a_conference_not_in_the_live_state_does_nothing() -> None:
    bridge, meetings = setup()
    bridge.live.meetings.clear()
    bridge.live.command("start", CODE)
    meetings.poll(T0)
    assert bridge.rooms.get(ROOM) is None and bridge.switchboard.dialled == []


def test_a_command_with_a_code_that_is_no_conference_code_is_ignored() -> None:
    bridge, meetings = setup()
    bridge.live.command("start", "../4242")
    meetings.poll(T0)
    assert len(bridge.rooms) == 0 and bridge.switchboard.dialled == []


def test_an_unanswered_call_is_hung_up_when_its_ring_ends_and_redialled_after_retry_seconds() -> None:
    bridge, meetings, room = started(numbers=("5551234",))
    [call] = bridge.switchboard.legs
    meetings.poll(T0 + RING - 1)
    assert bridge.switchboard.hung_up == []
    meetings.poll(T0 + RING)
    assert bridge.switchboard.hung_up == [(call, 200)]

    assert bridge.live.participants[(ROOM, call.participant_id)]["state"] == "ringing"
    ended(bridge, meetings, room, call, 487, now=T0 + RING)
    assert ("call_failed", ROOM, {"participant": call.participant_id, "number": "5551234", "status": 487,
                                  "reason": "no_answer", "attempt": 1}) in bridge.live.events
    assert (ROOM, call.participant_id) not in bridge.live.participants  # gone from the roster
    meetings.poll(T0 + RING + RETRY - 1)
    assert len(bridge.switchboard.dialled) == 1
    meetings.poll(T0 + RING + RETRY)
    assert [ask.number for ask in bridge.switchboard.dialled] == ["5551234", "5551234"]


def test_after_the_last_retry_the_number_is_not_called_again() -> None:
    bridge, meetings, room = started(numbers=("5551234",))
    now = T0
    for _ in range(3):  # the first try and two retries
        ended(bridge, meetings, room, bridge.switchboard.legs[-1], 486, now)
        now += RETRY
        meetings.poll(now)
    assert len(bridge.switchboard.dialled) == 3
    assert bridge.live.events[-1] == ("call_failed", ROOM, {"participant": bridge.switchboard.legs[-1].participant_id,
                                                            "number": "5551234", "status": 486, "reason": "busy",
                                                            "attempt": 3})
    assert [e[2]["attempt"] for e in bridge.live.events if e[0] == "call_failed"] == [1, 2, 3]


def test_an_answered_call_is_neither_timed_out_nor_redialled() -> None:
    bridge, meetings, room = started(numbers=("5551234",))
    [call] = bridge.switchboard.legs
    call.answered_at = bridge.live.clock
    room.answered(call)
    meetings.poll(T0 + RING)
    assert bridge.switchboard.hung_up == []
    ended(bridge, meetings, room, call, 200, now=T0 + RING)
    meetings.poll(T0 + RING + RETRY)
    assert len(bridge.switchboard.dialled) == 1


def test_the_roster_shows_a_call_out_ringing_then_answered_then_in() -> None:
    bridge, _, room = started(numbers=("201",))
    [owner] = bridge.switchboard.legs
    def state() -> str:
        return str(bridge.live.participants[(ROOM, owner.participant_id)]["state"])
    assert state() == "ringing" and bridge.live.participants[(ROOM, owner.participant_id)]["joined_at"] is None
    owner.answered_at = bridge.live.clock
    room.answered(owner)
    assert state() == "answered"  # hearing the greeting
    room.prompt_ended(bridge.mixer.last(owner.participant_id))
    assert state() == "in_conference" and room.present_now()[owner.participant_id]["joined_at"] is not None
    assert not [e for e in bridge.live.events if e[0] == "call_failed"]


def test_a_ringing_call_the_conference_drops_is_not_a_failed_call() -> None:
    bridge, meetings, room = started(numbers=("5551234",))
    [call] = bridge.switchboard.legs
    room.command("drop", call.participant_id)
    assert bridge.switchboard.farewells == [call] and (ROOM, call.participant_id) not in bridge.live.participants
    ended(bridge, meetings, room, call, 487, now=T0 + 1)
    assert not [e for e in bridge.live.events if e[0] == "call_failed"]


def test_a_dial_in_transfer_moves_the_call_into_the_conference_room() -> None:
    bridge, meetings = setup()
    service = bridge.rooms.open(address.DIAL_IN, Room(RoomSettings(str(address.DIAL_IN)), kind=Kind.DIAL_IN))
    carol = FakeLeg("sip:carol@example.com", room=service.number)
    service.arrive(carol, service.state.settings, locked_out=False)
    assert bridge.mixer.heard(carol.participant_id) == [("enter_code", "beep")]
    for digit in CODE + "*":
        service.digit(carol, digit, "rfc2833", T0)
    assert bridge.switchboard.requests == [dialin.Lookup(carol.participant_id, CODE)]

    meetings.look_up(service, carol.participant_id, CODE)
    assert bridge.switchboard.requests[-1] == dialin.Transfer(carol.participant_id, CODE, Role.USER)
    meetings.transfer(service, carol.participant_id, CODE, Role.USER)

    room = bridge.rooms.get(ROOM)
    assert room is not None and carol.room == ROOM
    assert service.empty and list(room.calls) == [carol.participant_id]
    assert bridge.mixer.heard(carol.participant_id)[-1] == ("welcome",)


def dialled_in(bridge: Bridge, meetings: Meetings) -> tuple[LiveRoom, FakeLeg]:
    """Carol at the dial-in service, its code looked up: the service asks for her transfer."""
    service = bridge.rooms.open(address.DIAL_IN, Room(RoomSettings(str(address.DIAL_IN)), kind=Kind.DIAL_IN))
    carol = FakeLeg("sip:carol@example.com", room=service.number)
    service.arrive(carol, service.state.settings, locked_out=False)
    for digit in CODE + "*":
        service.digit(carol, digit, "rfc2833", T0)
    meetings.look_up(service, carol.participant_id, CODE)
    return service, carol


def test_a_dial_in_caller_whose_conference_lives_on_another_node_is_relayed_there() -> None:
    bridge, meetings = setup()
    bridge.live.homes[CODE] = "node-b"
    service, carol = dialled_in(bridge, meetings)
    meetings.transfer(service, carol.participant_id, CODE, Role.USER)
    assert bridge.rooms.get(ROOM) is None  # no second room of the conference here
    assert bridge.switchboard.relayed == [(ROOM, carol, Role.USER)] and not bridge.switchboard.dialled
    leg = bridge.switchboard.legs[-1]
    assert set(service.calls) == {carol.participant_id, leg.participant_id}
    service.media(leg)  # the conference's node answered: carol and it hear each other
    both = {(carol.participant_id, leg.participant_id), (leg.participant_id, carol.participant_id)}
    assert both <= bridge.mixer.links
    service.digit(carol, "1", "rfc2833", T0 + 5)  # her *1 and moderator keys are the conference's
    assert bridge.switchboard.requests[-1] == dialin.Forward(leg.participant_id, "1")
    bridge.hang_up(carol)
    assert bridge.switchboard.farewells == [leg]  # its relay leg ends with her
    assert not bridge.live.participants  # never in this node's roster: the conference's node shows her


def test_a_relay_the_node_cannot_place_leaves_the_caller_told_the_conference_is_unavailable() -> None:
    bridge, meetings = setup()
    bridge.live.homes[CODE] = "node-b"
    bridge.switchboard.refuse[ROOM] = 503
    service, carol = dialled_in(bridge, meetings)
    meetings.transfer(service, carol.participant_id, CODE, Role.USER)
    assert bridge.mixer.heard(carol.participant_id)[-1] == ("conference_unavailable",)
    assert list(service.calls) == [carol.participant_id] and not bridge.live.pin_failures


def relayed_and_up(bridge: Bridge, meetings: Meetings) -> tuple[LiveRoom, FakeLeg, FakeLeg]:
    """Carol relayed to her conference on node-b, the leg answered."""
    bridge.live.homes[CODE] = "node-b"
    service, carol = dialled_in(bridge, meetings)
    meetings.transfer(service, carol.participant_id, CODE, Role.USER)
    leg = bridge.switchboard.legs[-1]
    service.media(leg)
    service.answered(leg)
    leg.answered_at = T0
    return service, carol, leg


def test_a_relayed_caller_whose_conference_node_died_waits_on_music_and_is_carried_to_where_it_resumed() -> None:
    bridge, meetings = setup()
    service, carol, leg = relayed_and_up(bridge, meetings)
    bridge.live.runs["node-b"] = "node-b/2"  # it died and started again: Kamailio ended the old run's calls
    bridge.live.homes[CODE] = "node-c"  # where the worker resumes it (it may be node-b's new run too)
    ended(bridge, meetings, service, leg, 200, T0 + 10)
    assert carol.participant_id in service.calls and carol not in bridge.switchboard.farewells
    assert bridge.mixer.heard(carol.participant_id)[-1] == ("reconnecting",)
    assert ("music", carol.participant_id) in bridge.mixer.links
    service.digit(carol, "1", "rfc2833", T0 + 11)  # keys go nowhere while she waits
    assert not [r for r in bridge.switchboard.requests if isinstance(r, dialin.Forward) and r.digit == "1"]

    meetings.poll(T0 + 10 + REJOIN_SECONDS)
    assert bridge.switchboard.relayed == [(ROOM, carol, Role.USER)] * 2  # the same role as before
    again = bridge.switchboard.legs[-1]
    service.media(again)
    service.answered(again)
    assert {(carol.participant_id, again.participant_id), (again.participant_id, carol.participant_id)} <= (
        bridge.mixer.links)
    assert ("music", carol.participant_id) not in bridge.mixer.links


def test_a_relayed_caller_the_conference_let_go_is_hung_up_and_one_whose_conference_never_returns_is_told() -> None:
    bridge, meetings = setup()
    service, carol, leg = relayed_and_up(bridge, meetings)
    ended(bridge, meetings, service, leg, 200, T0 + 10)  # its node lives: the conference ended it
    assert carol in bridge.switchboard.farewells

    bridge, meetings = setup()
    service, carol, leg = relayed_and_up(bridge, meetings)
    ended(bridge, meetings, service, leg, 408, T0 + 5)  # silent before its heartbeat expired: lost too
    meetings.poll(T0 + 5 + REJOIN_SECONDS)
    assert len(bridge.switchboard.relayed) == 1  # not back to the run it was lost with
    bridge.live.runs["node-b"] = "node-b/2"
    meetings.poll(T0 + 5 + 2 * REJOIN_SECONDS)
    assert len(bridge.switchboard.relayed) == 2 and carol not in bridge.switchboard.farewells

    bridge, meetings = setup()
    service, carol, leg = relayed_and_up(bridge, meetings)
    bridge.live.dead.add("node-b")
    bridge.live.homes[CODE] = bridge.live.node_id  # to be resumed here: not yet, so she waits
    ended(bridge, meetings, service, leg, 200, T0 + 10)
    for second in range(2, 40, 2):
        meetings.poll(T0 + 10 + second)
    assert len(bridge.switchboard.relayed) == 1 and bridge.rooms.get(ROOM) is None
    meetings.poll(T0 + 10 + REJOIN_LIMIT + REJOIN_SECONDS)
    assert bridge.mixer.heard(carol.participant_id)[-1] == ("conference_unavailable",)


def test_a_conference_resumed_where_a_carried_caller_opened_it_calls_everyone_else() -> None:
    bridge, meetings = setup()
    room = bridge.rooms.open(address.scheduled(CODE), Room(RoomSettings(ROOM), kind=Kind.SCHEDULED, owner="201"))
    room.arrive(FakeLeg("201", room=ROOM), room.state.settings, locked_out=False, role=Role.ADMIN)
    bridge.live.command("start", CODE)
    meetings.poll(T0)
    assert [ask.number for ask in bridge.switchboard.dialled] == ["5551234"]  # not the owner, who is in


def test_a_dial_in_caller_whose_conference_ended_meanwhile_is_told_so() -> None:
    bridge, meetings = setup()
    service = bridge.rooms.open(address.DIAL_IN, Room(RoomSettings(str(address.DIAL_IN)), kind=Kind.DIAL_IN))
    carol = FakeLeg("sip:carol@example.com", room=service.number)
    service.arrive(carol, service.state.settings, locked_out=False)
    bridge.live.meetings.clear()
    meetings.transfer(service, carol.participant_id, CODE, Role.USER)
    assert bridge.rooms.get(ROOM) is None and carol.room == service.number
    assert bridge.mixer.heard(carol.participant_id)[-1] == ("conference_unavailable",)


def test_a_conference_somebody_was_in_is_reported_over_when_it_empties() -> None:
    bridge, meetings, room = started(numbers=("201",))
    [owner] = bridge.switchboard.legs
    owner.answered_at = bridge.live.clock
    room.answered(owner)
    room.prompt_ended(bridge.mixer.last(owner.participant_id))  # the greeting: the owner chairs
    chair = room.state.member(owner.participant_id)
    assert chair is not None and chair.role == Role.ADMIN
    assert bridge.live.attendance == [(CODE, "201", JoinedBy.CALLED, True)]

    ended(bridge, meetings, room, owner, 200, now=T0 + 600)
    assert room.empty
    meetings.emptied(room)
    assert bridge.live.attendance[-1] == (CODE, "201", JoinedBy.CALLED, False)
    assert bridge.live.emptied == [CODE]


def test_a_conference_nobody_was_in_is_not_reported_when_it_empties() -> None:
    bridge, meetings, room = started(numbers=("5551234",))
    ended(bridge, meetings, room, bridge.switchboard.legs[0], 486, now=T0)
    meetings.emptied(room)
    assert bridge.live.emptied == [] and bridge.live.attendance == []


def test_the_end_command_sends_everyone_away_with_a_last_prompt() -> None:
    bridge, meetings, room = started(numbers=("201",))
    [owner] = bridge.switchboard.legs
    owner.answered_at = bridge.live.clock
    room.answered(owner)
    room.prompt_ended(bridge.mixer.last(owner.participant_id))
    bridge.live.command("end", CODE)
    meetings.poll(T0 + 1)
    assert bridge.mixer.heard(owner.participant_id)[-1] == ("conference_over",)
    room.prompt_ended(bridge.mixer.last(owner.participant_id))
    assert bridge.switchboard.farewells == [owner]


def test_an_operator_invites_into_a_scheduled_conference_billed_to_nobodys_extension() -> None:
    bridge, meetings, room = started(auto_invite=False)
    bridge.live.pending.append(("9-0", {"op": "invite", "room": ROOM, "participant": "", "value": "202"}))
    meetings.poll(T0 + 1)  # an operator's command, as store.live.room_command writes it
    assert bridge.switchboard.requests == [DialRequest(ROOM, "202", OPERATOR)]
    room.dial("202", OPERATOR)  # what BridgeNode does with the request
    [ask] = bridge.switchboard.dialled
    assert (ask.number, ask.inviter, ask.rights) == ("202", None, Rights.OPERATOR)
    assert ask.billed == billing.Leg(ROOM, billing.LegKind.INVITED, "operator", "202", "")


def test_each_ring_is_counted_once_by_how_it_ended() -> None:
    rings: list[str] = []
    bridge, meetings, room = started(rings, numbers=("5551234", "5559999"))
    unanswered, answered = bridge.switchboard.legs
    answered.answered_at = bridge.live.clock
    room.answered(answered)
    meetings.poll(T0 + 1)
    assert rings == [ANSWERED]
    now = T0
    ended(bridge, meetings, room, unanswered, 486, now)
    for _ in range(2):  # two retries, the last given up
        now += RETRY
        meetings.poll(now)
        ended(bridge, meetings, room, bridge.switchboard.legs[-1], 486, now)
    ended(bridge, meetings, room, answered, 200, now)  # hanging up later is no ring
    assert rings == [ANSWERED, NOT_REACHED, NOT_REACHED, GIVEN_UP]
