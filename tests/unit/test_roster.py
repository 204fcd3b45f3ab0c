"""conference.roster: how the roster shows a member, when a call counts as failed, and why."""

from __future__ import annotations

import dataclasses

import pytest

from conference.room import Member, Stage
from conference.roster import Reason, Shown, failed, reason, shown

CALLED = Member("m1", "5551234", Stage.RINGING, invited_by="m0")
CALLER = Member("m2", "sip:a@x", Stage.GREETING)


@pytest.mark.parametrize("member, expected", [
    (CALLED, Shown.RINGING),
    (dataclasses.replace(CALLED, stage=Stage.IN_CONFERENCE), Shown.RINGING),  # early media: still ringing
    (dataclasses.replace(CALLED, stage=Stage.GREETING, answered=True), Shown.ANSWERED),
    (dataclasses.replace(CALLED, stage=Stage.IN_CONFERENCE, answered=True), Shown.IN_CONFERENCE),
    (dataclasses.replace(CALLED, stage=Stage.WAITING, answered=True), Shown.WAITING),
    (dataclasses.replace(CALLED, stage=Stage.IN_CONFERENCE, answered=True, muted=True), Shown.MUTED),
    (dataclasses.replace(CALLED, stage=Stage.LEAVING), None),
    (CALLER, None),  # a caller at the greeting or its PIN is not in the roster yet
    (dataclasses.replace(CALLER, stage=Stage.PIN), None),
    (dataclasses.replace(CALLER, stage=Stage.IN_CONFERENCE), Shown.IN_CONFERENCE),
    (dataclasses.replace(CALLER, stage=Stage.RINGING), None),  # a "#" caller waiting for its callee
])
def test_how_the_roster_shows_a_member(member: Member, expected: Shown | None) -> None:
    assert shown(member) == expected


def test_a_call_fails_when_it_ends_unanswered_and_not_hung_up_by_the_room() -> None:
    assert failed(CALLED, None)
    assert failed(dataclasses.replace(CALLED, stage=Stage.IN_CONFERENCE), None)  # ended during early media
    assert not failed(CALLED, CALLED)  # still ringing
    assert not failed(dataclasses.replace(CALLED, stage=Stage.LEAVING), None)  # dropped, or the room closed
    assert not failed(dataclasses.replace(CALLED, stage=Stage.IN_CONFERENCE, answered=True), None)  # hung up later
    assert not failed(CALLER, None)  # a caller hanging up was never called


@pytest.mark.parametrize("status, why", [
    (486, Reason.BUSY), (600, Reason.BUSY), (603, Reason.DECLINED), (408, Reason.NO_ANSWER),
    (487, Reason.NO_ANSWER), (480, Reason.UNAVAILABLE), (404, Reason.NO_SUCH_NUMBER), (403, Reason.NOT_ALLOWED),
    (503, Reason.NO_ROUTE), (500, Reason.FAILED), (0, Reason.FAILED),
])
def test_why_a_call_failed_follows_its_sip_status(status: int, why: Reason) -> None:
    assert reason(status) == why
