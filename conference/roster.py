"""Who a room's roster shows, and in which state: the live participants of the panel, the API
(`/rooms/{number}/participants`, a scheduled conference's roster) and the portal.

A call the room placed (a scheduled conference's call-out, an operator's or the portal's invite, a
`*8` invitation, a `#` consult leg) is shown from its first ring: `ringing` until it is answered
(early media is still ringing), `answered` while a scheduled conference greets it, then as everyone
else: `waiting`, `in_conference` or `muted` (or `lobby` until a moderator admits it). One that
ends unanswered leaves the roster and is reported as failed, with its SIP status and why
(`reason`). Pure.
"""

from __future__ import annotations

from enum import StrEnum

from conference.room import Member, Stage


class Shown(StrEnum):
    RINGING = "ringing"  # called by the room, not answered yet
    ANSWERED = "answered"  # answered, hearing the greeting before it enters
    WAITING = "waiting"  # in, hearing music until a chair is in
    IN_CONFERENCE = "in_conference"
    MUTED = "muted"
    LOBBY = "lobby"  # waiting for a moderator to let it in


PRESENT = frozenset({Shown.WAITING, Shown.IN_CONFERENCE, Shown.MUTED})  # in the room: they count


def shown(member: Member) -> Shown | None:
    """How the roster shows the member now; None: not at all (a caller still at the greeting or
    PIN prompt, or one leaving)."""
    if member.stage == Stage.LOBBY:
        return Shown.LOBBY
    called = member.invited_by is not None
    if called and not member.answered and member.stage in (Stage.RINGING, Stage.IN_CONFERENCE):
        return Shown.RINGING
    if member.stage in (Stage.WAITING, Stage.IN_CONFERENCE):
        return Shown.MUTED if member.muted else Shown(str(member.stage))
    if called and member.answered and member.stage in (Stage.GREETING, Stage.PIN, Stage.ANNOUNCING):
        return Shown.ANSWERED
    return None


def failed(before: Member, after: Member | None) -> bool:
    """A call the room placed ended without being answered, and not because the room hung up on
    it (dropped, or the conference closed): the roster reports it failed."""
    return (after is None and before.invited_by is not None and not before.answered
            and before.stage != Stage.LEAVING)


class Reason(StrEnum):
    """Why a called number did not come, from the SIP status that ended the call."""

    NO_ANSWER = "no_answer"
    BUSY = "busy"
    DECLINED = "declined"
    UNAVAILABLE = "unavailable"
    NO_SUCH_NUMBER = "no_such_number"
    NOT_ALLOWED = "not_allowed"
    NO_ROUTE = "no_route"
    FAILED = "failed"


_REASONS = {408: Reason.NO_ANSWER, 487: Reason.NO_ANSWER,  # 487: the ring timed out and was cancelled
            486: Reason.BUSY, 600: Reason.BUSY, 603: Reason.DECLINED, 480: Reason.UNAVAILABLE,
            404: Reason.NO_SUCH_NUMBER, 484: Reason.NO_SUCH_NUMBER, 403: Reason.NOT_ALLOWED,
            503: Reason.NO_ROUTE}


def reason(status: int) -> Reason:
    return _REASONS.get(status, Reason.FAILED)
