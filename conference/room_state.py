"""The state of a conference room and what moves it: members, roles and stages, the events the
bridge feeds and the effects it carries out (conference.room's `transition` decides between them;
conference.moderation holds the moderators' and operators' actions). Pure: no I/O, no clocks."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from enum import StrEnum

from conference import keypad
from conference.address import Kind
from conference.rooms import RoomSettings

MAX_PIN_TRIES = 3
MAX_RINGING = 5  # invitations of one room ringing at once: more is someone dialling in bulk
MAX_PIN_DIGITS = 16
END_WARNING_SECONDS = 300  # "five minutes left": the prompt says so
END_WARNING_LATE = 60  # later than this after its moment, the warning would tell a wrong time: skipped
EXTEND_MINUTES = 15  # *98's step where the conference has none of its own (its auto_extend)
SILENCE = "silence"  # comfort-noise source: keeps RTP flowing where no music is wanted
OPERATOR = "operator"  # who invited a number an operator called in: no member of the room

class Stage(StrEnum):
    RINGING = "ringing"  # invited by the room, not yet answered nor sending early media
    GREETING = "greeting"  # hearing the greeting
    PIN = "pin"  # asked for a PIN, typing it
    ANNOUNCING = "announcing"  # hearing what precedes entry (recording notice, count)
    WAITING = "waiting"  # in, but the admin is not: music or silence
    LOBBY = "lobby"  # past its PIN, waiting for a moderator to let it in: music or silence
    IN_CONFERENCE = "in_conference"
    LEAVING = "leaving"  # hearing a last prompt before being hung up


class Role(StrEnum):
    USER = "user"
    ADMIN = "admin"
    LISTENER = "listener"  # hears the conference, is never heard


LEVEL_STEP = 3  # dB a volume key changes
# dB below and above as sent: PJSIP's mixer multiplies by at most 255/128 (+6 dB).
LEVELS = (-12, 6)


@dataclass(frozen=True)
class Member:
    id: str
    caller: str
    stage: Stage
    role: Role | None = None
    typed: str = ""  # PIN digits so far
    tries: int = 0
    extension: str | None = None  # the caller's extension, when it proved to be one
    name: str = ""  # display name
    invited_by: str | None = None  # the member whose *8 dialled this one
    answered: bool = False  # an invited member past early media
    muted: bool = False
    forced: bool = False  # muted by a moderator or an operator: only they unmute (*1 does not)
    admitted: bool = False  # let in from the lobby
    hand: int = 0  # raised hand: its turn (the room's `hands` when raised); 0: down
    hear_db: int = 0  # what it hears, louder (+) or quieter (-) than the mix (*4/*6)
    talk_db: int = 0  # its voice in the mix (*2/*3)
    order: int = 0  # of arrival: the last joined has the highest
    target: str = ""  # dial-in service: the conference code asked for ("?" while it is looked up)
    passwords: tuple[str | None, str | None] = (None, None)  # dial-in service: its chair and guest passwords
    until: float = 0.0  # voice menu: when its silence times out (monotonic); 0: not waiting for a key
    whispering: str = ""  # a moderator whispering: the one member that hears its voice (even while it is muted)


@dataclass(frozen=True)
class Room:
    settings: RoomSettings
    members: tuple[Member, ...] = ()
    kind: Kind = Kind.ROOM
    owner: str | None = None  # LOCAL: the extension whose conference it is; SCHEDULED: the owner; CALL: who pays
    announce_names: bool = False  # speak a joining extension's name (local conferences)
    locked: bool = False  # *93: nobody new may enter (invited members still may)
    recording: bool | None = None  # an operator started (True) or stopped (False) it; None: as settings.record
    recording_paused: bool = False  # an operator paused the recording: nothing goes into the file until resumed
    arrivals: int = 0
    hands: int = 0  # hands raised so far: the turn of the next
    ends_at: float | None = None  # Unix time the conference ends (scheduled ones); None: no end time
    end_warned: bool = False  # the warning for ends_at is given (or was missed)
    extend_minutes: int = EXTEND_MINUTES  # *98's step
    # CALL rooms (conference.consult) ---------------------------------------------
    anchor: str = ""  # the number the caller dialled; the room calls it
    controller_is_caller: bool = True  # whose "#" works: the caller's, or the called extension's
    controller: str | None = None  # member ids
    customer: str | None = None
    held: bool = False  # the controller pressed "#": the others hear music
    consulting: str | None = None  # the member being consulted privately

    def member(self, member_id: str) -> Member | None:
        return next((m for m in self.members if m.id == member_id), None)

    def at(self, stage: Stage) -> list[Member]:
        return [m for m in self.members if m.stage == stage]

    @property
    def admin_in(self) -> bool:
        return any(m.role == Role.ADMIN for m in self.at(Stage.IN_CONFERENCE))

    def raised(self) -> list[Member]:
        """Members in the conference with a hand up, the longest-waiting first."""
        return sorted((m for m in self.at(Stage.IN_CONFERENCE) if m.hand), key=lambda m: m.hand)

    @property
    def records(self) -> bool:
        """Whether the conference is to be recorded now."""
        return self.settings.record if self.recording is None else self.recording


# Events ----------------------------------------------------------------------


@dataclass(frozen=True)
class Arrived:
    member: str
    caller: str
    locked_out: bool = False  # the caller ID failed its PIN too often lately (kept by the bridge)
    extension: str | None = None
    name: str = ""
    role: Role | None = None  # decided before the room (a scheduled conference's dial-in password)


@dataclass(frozen=True)
class Invited:
    """The bridge dialled `number` for member `by` (after a Dial effect)."""

    member: str
    number: str
    by: str
    extension: str | None = None  # the number is this extension

@dataclass(frozen=True)
class Connected:
    """An invited member's media: early (ringback, announcements) or answered."""

    member: str
    answered: bool


@dataclass(frozen=True)
class Pressed:
    """A complete feature code (conference.keypad) from a member in the conference."""

    member: str
    command: keypad.Command


@dataclass(frozen=True)
class PromptDone:
    member: str


@dataclass(frozen=True)
class Digit:
    member: str
    digit: str


@dataclass(frozen=True)
class Left:
    member: str
    status: int = 0  # SIP status of the end: why an invited call failed


@dataclass(frozen=True)
class Close:
    """The conference is over (a scheduled one's end): everyone hears `prompt` and is hung up."""

    prompt: str


@dataclass(frozen=True)
class SetLocked:
    locked: bool


@dataclass(frozen=True)
class SetMuted:
    """An operator mutes or unmutes one participant (the panel or the API)."""

    member: str
    muted: bool


@dataclass(frozen=True)
class Drop:
    """An operator drops one participant."""

    member: str


@dataclass(frozen=True)
class SetRecording:
    """An operator starts or stops recording the conference."""

    on: bool


@dataclass(frozen=True)
class PauseRecording:
    """An operator pauses (or resumes) the recording: the file holds only the spans recorded."""

    paused: bool


@dataclass(frozen=True)
class PlaySound:
    """An operator plays a sound of the library to everyone in the conference, or to `member` only."""

    sound_id: int
    member: str = ""


@dataclass(frozen=True)
class MuteAll:
    """An operator mutes (or unmutes) everyone who may speak but the moderators (as a moderator's *92)."""

    muted: bool


@dataclass(frozen=True)
class Whisper:
    """Moderator `by` talks to `member` only: the others stop hearing it; it still hears the room."""

    member: str
    by: str


@dataclass(frozen=True)
class StopWhisper:
    """A whisper to or from `member` ends: the moderator is heard by everyone again."""

    member: str


@dataclass(frozen=True)
class UnmuteHand:
    """An operator unmutes the participant whose hand has been up longest (as a moderator's *96)."""


@dataclass(frozen=True)
class Admit:
    """An operator lets a caller in from the lobby: `member`, or "" for the one waiting longest."""

    member: str = ""


@dataclass(frozen=True)
class Clock:
    """The time (Unix) is `now`: the bridge feeds it once `end_check_due`."""

    now: float


@dataclass(frozen=True)
class Extended:
    """The end time moved on by `minutes` elsewhere (the API, the worker's auto-extension): announced."""

    minutes: int


@dataclass(frozen=True)
class OperatorInvite:
    """An operator invites `number` into the room."""

    number: str


Event = (Arrived | PromptDone | Digit | Left | Invited | Connected | Pressed | Close | SetLocked | SetMuted
         | Drop | SetRecording | PauseRecording | PlaySound | MuteAll | Whisper | StopWhisper | OperatorInvite
         | UnmuteHand | Admit | Clock | Extended)


# Effects ---------------------------------------------------------------------


@dataclass(frozen=True)
class Play:
    """Play pieces to one member instead of the room; PromptDone follows."""

    member: str
    pieces: tuple[str, ...]


@dataclass(frozen=True)
class Notify:
    """Play pieces to members over what they hear; nothing follows."""

    members: tuple[str, ...]
    pieces: tuple[str, ...]


@dataclass(frozen=True)
class Hangup:
    member: str


@dataclass(frozen=True)
class PinFailed:
    """A wrong PIN (or dial-in code or password), for the lockout the bridge keeps in Redis."""

    member: str


@dataclass(frozen=True)
class Dial:
    """Call `number` into the room on behalf of member `by` (who must be allowed to reach it)."""

    number: str
    by: str


@dataclass(frozen=True)
class Answer:
    """Answer the member's incoming call now (the call it made was answered)."""

    member: str


@dataclass(frozen=True)
class Reject:
    """Refuse the member's incoming call with the status the far end gave."""

    member: str
    status: int


@dataclass(frozen=True)
class ExtendEnd:
    """A moderator moved the end time on by `minutes`: make it so where the end time is kept."""

    minutes: int


Effect = Play | Notify | Hangup | PinFailed | Dial | Answer | Reject | ExtendEnd


@dataclass
class Step:
    room: Room
    effects: list[Effect] = field(default_factory=list)

    def set(self, member: Member) -> None:
        self.room = dataclasses.replace(
            self.room, members=tuple(member if m.id == member.id else m for m in self.room.members))


def muted(member: Member, muted: bool, forced: bool) -> Member:
    """Muted or unmuted; unmuting lowers a raised hand (it was raised to speak)."""
    return dataclasses.replace(member, muted=muted, forced=muted and forced, hand=member.hand if muted else 0)
