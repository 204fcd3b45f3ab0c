"""What a room's and a scheduled conference's orchestration asks of the world around it.

LiveRoom (bridge/rooms.py) and Meetings (bridge/meetings.py) decide nothing themselves
(conference/ does) and do no I/O themselves: they carry decisions out through three
narrow interfaces, Switchboard (BridgeNode), Mixer (bridge/mixer.py, pjsua2's conference bridge)
and LiveState (bridge/redis_state.py, Redis and the worker's queue). Unit tests fake them
and record what was asked, so nothing here may import pjsua2, Redis or the node.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from conference import billing, dialin, identity, menus
from conference import room as rules
from conference.address import RoomAddress
from conference.menus import MenuSettings
from conference.schedule import LiveMeeting

Fields = str | int | float | bool  # of a room event (store.live.room_event)


class Port(Protocol):
    """A port of the conference mixer (pjsua2's AudioMedia): only a Mixer does anything with it."""


class Leg(Protocol):
    """A call as a room sees it (bridge.sip.RoomCall): who it is, and its port in the mixer."""

    key: int  # PJSIP's call id
    participant_id: str  # the member id in the room
    room: str | None  # the wire name of the room it is in
    caller: str
    extension: str | None  # as Kamailio vouches
    lockout: str  # whom its wrong PINs count against ("" for a call the node placed)
    name: str
    joined_at: float | None  # wall clock
    answered_at: float | None  # an outgoing call: when it was answered
    ended: bool

    def audio(self) -> Port | None:
        """Its port in the mixer; None while its media is not up or gone."""


class Playback(Protocol):
    """A prompt playing (bridge.players.Prompt); its end comes back as a PromptEnded event."""

    @property
    def member(self) -> str: ...

    @property
    def overlay(self) -> bool: ...

    def play_to(self, port: Port) -> None: ...


class Recording(Protocol):
    """A room's session being recorded (bridge.recorder.SessionRecording)."""

    @property
    def id(self) -> str: ...

    @property
    def paused(self) -> bool: ...

    def follow(self, members: Mapping[str, tuple[str, Port]], heard: Collection[str], paused: bool) -> None:
        """Follow the members in the conference (id -> (caller, port)); record the voices of those heard,
        nothing while paused."""

    def close(self) -> object:
        """Finish the file and its metadata beside it."""


class Mixer(Protocol):
    """Who hears what: links between ports, prompts, recordings."""

    def background(self, name: str) -> Port:
        """The looping source named `name` (conference.mixing.music(), conference.room.SILENCE), or the
        sink conference.mixing.DRAIN. The same name always gives the same port."""

    def connect(self, source: Port, sink: Port) -> None: ...

    def disconnect(self, source: Port, sink: Port) -> None: ...

    def adjust(self, port: Port, hear_db: int, talk_db: int) -> None:
        """Make what the port's call hears, and its voice in the mix, louder (+) or quieter (-)."""

    def play(self, pieces: tuple[str, ...], language: str, to: Sequence[Port], member: str,
             overlay: bool) -> Playback:
        """Play prompt pieces once to these ports; `member` names who it is for."""

    def record(self, room: str, tracks: bool) -> Recording | None:
        """Start recording a session (and a track per participant); None if the mixer has no port left."""


@dataclass(frozen=True)
class DialRequest:
    """A room wants `number` called for member `by`: done after the transition that asked."""

    room: str
    number: str
    by: str  # member id


@dataclass(frozen=True)
class Callback:
    """Call `number` back and put it through to `destination` (store.live.request_callback)."""

    number: str
    destination: str
    owner: str | None  # whose rights and account; None: an operator's
    per_hour: int


Request = DialRequest | dialin.Asked | menus.Forward | Callback


@dataclass(frozen=True)
class Dialled:
    """A call a room asked for. `refused`: a SIP status, the call never went out (not allowed,
    or it could not be placed) and its call record is already written."""

    call: Leg
    refused: int = 0
    extension: str | None = None  # the number called is this extension


class Rights(StrEnum):
    """Whose rights a call the node places is decided with (conference.numberplan)."""

    NODE = "node"  # the node's own: a number Kamailio already allowed, a scheduled conference's list
    INVITER = "inviter"  # the inviting member's extension (*8, "#"): no toll fraud by feature codes
    OPERATOR = "operator"  # an operator's (panel or API): rooms and extensions, outside only if allowed


class Switchboard(Protocol):
    """The node's SIP calls, as rooms act on them (BridgeNode)."""

    def answer(self, call: Leg) -> None: ...

    def hangup(self, call: Leg, status: int = 200) -> None: ...

    def hangup_soon(self, call: Leg) -> None:
        """Hang up once the last prompt's frames have drained (a farewell heard to its end)."""

    @property
    def numbers(self) -> identity.Numbers:
        """What the calls it places show ([conferences] caller_id, consult_caller_id)."""

    def dial(self, room: str, number: str, billed: billing.Leg, inviter: rules.Member | None,
             rights: Rights, shown: str | None = None) -> Dialled:
        """Call `number` through Kamailio if the number plan lets the caller `rights` names reach it,
        showing the number `shown` as the caller (conference.identity)."""

    def relay(self, room: str, conference: RoomAddress, caller: Leg, role: rules.Role) -> Dialled:
        """Call `conference` on the node that holds it, through Kamailio, for `caller` (in room `room`):
        the call carries who the caller proved to be and `role` (conference.vouch's relay ticket) and
        is billed to nobody (the caller's own leg is the call)."""

    def after(self, request: Request) -> None:
        """Carry `request` out once the current transition is done: it feeds rooms again."""


class LiveState(Protocol):
    """Redis and the worker's queue (bridge.redis_state.RedisState): what the panel, the history
    and the worker learn of rooms, and what the worker tells this node. Lost while Redis is down."""

    @property
    def node_id(self) -> str: ...

    @property
    def run(self) -> str:
        """This start of the node (conference.placement.NodeStatus.run): its participants are tagged with it."""

    def now(self) -> float:
        """Wall-clock time (Unix); intervals are measured on the monotonic time passed in."""

    def room_event(self, kind: str, room: str, **fields: Fields) -> None: ...

    def put_participant(self, room: str, member: str, data: Mapping[str, Any]) -> None: ...

    def remove_participant(self, room: str, member: str) -> None: ...

    def pin_failed(self, room: str, lockout: str) -> None: ...

    def file_recording(self, recording_id: str) -> None: ...

    def recording(self, room: str, recording_id: str | None) -> None:
        """The room is being recorded into `recording_id` now; None: no longer (shown on the panel)."""

    def file_attendance(self, code: str, member: rules.Member, how: str, when: float, joined: bool) -> None:
        """A member joined or left scheduled conference `code` (its history)."""

    def menu(self, number: str) -> MenuSettings | None:
        """Voice menu `number` as the API last wrote it; None: no such menu (or Redis is down)."""

    def report_emptied(self, code: str) -> None:
        """Scheduled conference `code` emptied after somebody had been in: it is over."""

    def extend_meeting(self, code: str, minutes: int) -> None:
        """A moderator moved scheduled conference `code`'s end on by `minutes` (*98): file it."""

    def meeting(self, code: str) -> LiveMeeting | None:
        """The live conference with dial-in code `code`; None: none (or no longer), or Redis is down."""

    def conference_home(self, code: str) -> str | None:
        """The node conference `code` lives on (conference.placement.place: placed now if it was not);
        None while Redis is down or no node lives."""

    def node_runs(self) -> dict[str, str] | None:
        """The live nodes' current runs (node id -> NodeStatus.run); None while Redis is down."""

    def commands(self, after: str) -> list[tuple[str, dict[str, str]]]:
        """The worker's commands to this node since stream entry `after` (none while Redis is down)."""
