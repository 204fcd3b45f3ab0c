"""Fakes of bridge.edge's Switchboard, Mixer and LiveState that record what a room or the
scheduled conferences asked for, so their orchestration runs without PJSIP or Redis."""

from __future__ import annotations

import itertools
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bridge.edge import Dialled, Fields, Leg, Port, Request, Rights
from bridge.rooms import Rooms
from conference import billing, identity
from conference import room as rules
from conference.address import RoomAddress
from conference.menus import MenuSettings
from conference.schedule import LiveMeeting

_keys = itertools.count(1)


@dataclass(eq=False)
class FakeLeg:
    caller: str
    room: str | None = None
    extension: str | None = None
    name: str = ""
    lockout: str = "address:192.0.2.1"
    key: int = field(default_factory=lambda: next(_keys))
    participant_id: str = ""
    joined_at: float | None = None
    answered_at: float | None = None
    ended: bool = False

    def __post_init__(self) -> None:
        self.participant_id = self.participant_id or f"m{self.key}"

    def audio(self) -> Port | None:
        """Its port is its member id: the mixer's links read as (who, hears whom)."""
        return None if self.ended else self.participant_id


@dataclass(frozen=True)
class Played:
    pieces: tuple[str, ...]
    to: tuple[Port, ...]
    member: str
    overlay: bool


@dataclass(eq=False)
class FakePlayback:
    member: str
    overlay: bool
    heard_by: list[Port] = field(default_factory=list)

    def play_to(self, port: Port) -> None:
        self.heard_by.append(port)


@dataclass(eq=False)
class FakeRecording:
    id: str
    tracks: bool = False
    recorded: dict[str, str] = field(default_factory=dict)  # member -> caller, of those heard
    inside: set[str] = field(default_factory=set)  # every member followed
    closed: bool = False
    paused: bool = False
    clocked: bool = False  # the silence that keeps the files' time sends into them (SessionRecording)

    def follow(self, members: Mapping[str, tuple[str, Port]], heard: Collection[str], paused: bool) -> None:
        self.paused, self.clocked, self.inside = paused, not paused, set(members)
        self.recorded = {} if paused else {member: caller for member, (caller, _) in members.items() if member in heard}

    def close(self) -> None:
        self.closed = True


class FakeMixer:
    def __init__(self, free_ports: bool = True) -> None:
        self.links: set[tuple[Port, Port]] = set()
        self.played: list[tuple[Played, FakePlayback]] = []
        self.recordings: list[FakeRecording] = []
        self.levels: dict[Port, tuple[int, int]] = {}  # (hear, talk) dB by port
        self.free_ports = free_ports

    def background(self, name: str) -> Port:
        return name

    def connect(self, source: Port, sink: Port) -> None:
        self.links.add((source, sink))

    def disconnect(self, source: Port, sink: Port) -> None:
        self.links.discard((source, sink))

    def adjust(self, port: Port, hear_db: int, talk_db: int) -> None:
        self.levels[port] = (hear_db, talk_db)

    def play(self, pieces: tuple[str, ...], language: str, to: Sequence[Port], member: str,
             overlay: bool) -> FakePlayback:
        playback = FakePlayback(member, overlay, list(to))
        self.played.append((Played(pieces, tuple(to), member, overlay), playback))
        return playback

    def record(self, room: str, tracks: bool) -> FakeRecording | None:
        if not self.free_ports:
            return None
        self.recordings.append(FakeRecording(f"{room}-rec{len(self.recordings) + 1}", tracks))
        return self.recordings[-1]

    def port_gone(self, port: Port) -> None:
        """A call's media ended: PJSIP's conference bridge drops its links by itself."""
        self.links = {link for link in self.links if port not in link}

    def heard(self, port: Port) -> list[tuple[str, ...]]:
        """The pieces of every prompt played to `port`, in order."""
        return [played.pieces for played, _ in self.played if port in played.to]

    def last(self, port: Port) -> FakePlayback:
        """The newest prompt played to `port` (to end it: LiveRoom.prompt_ended)."""
        return next(playback for played, playback in reversed(self.played) if port in played.to)


@dataclass(frozen=True)
class DialAsk:
    room: str
    number: str
    billed: billing.Leg
    inviter: rules.Member | None
    rights: Rights
    shown: str | None = None


class FakeSwitchboard:
    def __init__(self) -> None:
        self.answered: list[Leg] = []
        self.hung_up: list[tuple[Leg, int]] = []
        self.farewells: list[Leg] = []
        self.requests: list[Request] = []
        self.dialled: list[DialAsk] = []
        self.legs: list[FakeLeg] = []
        self.refuse: dict[str, int] = {}  # number -> SIP status it is refused with
        self.relayed: list[tuple[str, Leg, rules.Role]] = []  # (conference, caller, role)

    def answer(self, call: Leg) -> None:
        self.answered.append(call)

    def hangup(self, call: Leg, status: int = 200) -> None:
        self.hung_up.append((call, status))

    def hangup_soon(self, call: Leg) -> None:
        self.farewells.append(call)

    def after(self, request: Request) -> None:
        self.requests.append(request)

    def relay(self, room: str, conference: RoomAddress, caller: Leg, role: rules.Role) -> Dialled:
        self.relayed.append((str(conference), caller, role))
        leg = FakeLeg(str(conference), room=room)
        self.legs.append(leg)
        return Dialled(leg, refused=self.refuse.get(str(conference), 0))

    numbers = identity.Numbers("7000")

    def dial(self, room: str, number: str, billed: billing.Leg, inviter: rules.Member | None,
             rights: Rights, shown: str | None = None) -> Dialled:
        self.dialled.append(DialAsk(room, number, billed, inviter, rights, shown))
        leg = FakeLeg(number, room=room)
        self.legs.append(leg)
        return Dialled(leg, refused=self.refuse.get(number, 0))


class FakeLive:
    node_id = "node-t"
    run = "node-t/1"

    def __init__(self, clock: float = 1_800_000_000.0) -> None:
        self.clock = clock
        self.events: list[tuple[str, str, dict[str, Fields]]] = []
        self.participants: dict[tuple[str, str], Mapping[str, Any]] = {}
        self.pin_failures: list[tuple[str, str]] = []
        self.filed_recordings: list[str] = []
        self.recording_now: dict[str, str] = {}  # room -> recording id, as the panel would show it
        self.attendance: list[tuple[str, str, str, bool]] = []  # (code, caller, how, joined)
        self.emptied: list[str] = []
        self.extensions: list[tuple[str, int]] = []  # (conference code, minutes) a moderator extended by
        self.meetings: dict[str, LiveMeeting] = {}
        self.homes: dict[str, str] = {}  # conference code -> the node it lives on (else this one)
        self.runs: dict[str, str] = {}  # node -> its current run (default "<node>/1"), unless dead
        self.dead: set[str] = set()  # nodes no longer alive
        self.pending: list[tuple[str, dict[str, str]]] = []  # commands from the worker, not yet read
        self.menus: dict[str, MenuSettings] = {}

    def now(self) -> float:
        return self.clock

    def room_event(self, kind: str, room: str, **fields: Fields) -> None:
        self.events.append((kind, room, fields))

    def put_participant(self, room: str, member: str, data: Mapping[str, Any]) -> None:
        self.participants[(room, member)] = data

    def remove_participant(self, room: str, member: str) -> None:
        self.participants.pop((room, member), None)

    def pin_failed(self, room: str, lockout: str) -> None:
        self.pin_failures.append((room, lockout))

    def file_recording(self, recording_id: str) -> None:
        self.filed_recordings.append(recording_id)

    def recording(self, room: str, recording_id: str | None) -> None:
        if recording_id is None:
            self.recording_now.pop(room, None)
        else:
            self.recording_now[room] = recording_id

    def file_attendance(self, code: str, member: rules.Member, how: str, when: float, joined: bool) -> None:
        self.attendance.append((code, member.caller, how, joined))

    def report_emptied(self, code: str) -> None:
        self.emptied.append(code)

    def menu(self, number: str) -> MenuSettings | None:
        return self.menus.get(number)

    def extend_meeting(self, code: str, minutes: int) -> None:
        self.extensions.append((code, minutes))

    def meeting(self, code: str) -> LiveMeeting | None:
        return self.meetings.get(code)

    def conference_home(self, code: str) -> str | None:
        return self.homes.get(code, self.node_id)

    def node_runs(self) -> dict[str, str] | None:
        nodes = {self.node_id, *self.homes.values(), *self.runs}
        return {node: self.runs.get(node, f"{node}/1") for node in nodes if node not in self.dead}

    def commands(self, after: str) -> list[tuple[str, dict[str, str]]]:
        found, self.pending = self.pending, []
        return found

    def command(self, op: str, code: str, **fields: str) -> None:
        self.pending.append((f"{len(self.events)}-{len(self.pending)}", {"op": op, "code": code, **fields}))

    def kinds(self, room: str) -> list[str]:
        return [kind for kind, where, _ in self.events if where == room]


@dataclass
class Bridge:
    """The orchestration under test, wired to fakes."""

    switchboard: FakeSwitchboard = field(default_factory=FakeSwitchboard)
    mixer: FakeMixer = field(default_factory=FakeMixer)
    live: FakeLive = field(default_factory=FakeLive)
    rooms: Rooms = field(init=False)

    def __post_init__(self) -> None:
        self.rooms = Rooms(self.switchboard, self.mixer, self.live)

    def hang_up(self, call: FakeLeg, status: int = 200) -> None:
        """The far end hung up (as BridgeNode.ended tells the room)."""
        call.ended = True
        self.mixer.port_gone(call.participant_id)
        room = self.rooms.get(call.room)
        assert room is not None
        room.leave(call, status)
