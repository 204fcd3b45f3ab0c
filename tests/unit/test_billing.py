"""conference.billing: dispositions and billable time of a dialled leg."""

from __future__ import annotations

import pytest

from conference.billing import Disposition, Leg, LegKind, disposition, record


@pytest.mark.parametrize("status, answered, cancelled, expected", [
    (200, True, False, Disposition.ANSWERED),
    (200, True, True, Disposition.ANSWERED),  # dropped by ## after the answer: it was a call
    (487, False, True, Disposition.CANCELLED),
    (486, False, False, Disposition.BUSY),
    (600, False, False, Disposition.BUSY),
    (480, False, False, Disposition.NO_ANSWER),
    (408, False, False, Disposition.NO_ANSWER),
    (404, False, False, Disposition.FAILED),
    (503, False, False, Disposition.FAILED),
])
def test_disposition(status: int, answered: bool, cancelled: bool, expected: Disposition) -> None:
    assert disposition(status, answered, cancelled) == expected


def test_billable_time_runs_from_answer_to_hangup() -> None:
    leg = Leg("call-1", LegKind.ADDED, "100", "89001", "100")
    answered = record(leg, "r1", "n1", 200, started=1000.0, answered=1004.4, ended=1065.0, cancelled=False)
    assert answered["billable_seconds"] == 61 and answered["disposition"] == "answered"
    unanswered = record(leg, "r2", "n1", 486, started=1000.0, answered=None, ended=1003.0, cancelled=False)
    assert unanswered["billable_seconds"] == 0 and unanswered["disposition"] == "busy"
    assert unanswered["kind"] == "added" and unanswered["billed_to"] == "100"
