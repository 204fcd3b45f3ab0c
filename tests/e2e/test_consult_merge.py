"""Seed 002 with real phones: "#" consults a colleague or an outside number, "#" again merges;
everyone hears everyone (tones), the customer hanging up ends it, failed consultations say why."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from stack.supervisor import wait_for
from tests.e2e.test_extensions_and_trunks import cdrs, extension, gateway
from tests.e2e.test_local_conferences import as_user, user_token
from tests.e2e.test_room_options import HEARD, heard
from tests.support.audio import duration, levels, write_tone
from tests.support.phone import TestPhone
from tests.support.stack import Stack

HEARD_ABOVE_DBFS = -30.0
ABSENT_BELOW_DBFS = -50.0
CUSTOMER, EMPLOYEE, COLLEAGUE, SECOND = 600.0, 1000.0, 1400.0, 1800.0


def test_hash_consults_merges_three_then_four_and_the_customer_ends_it(
    stack: Stack, phones: Callable[..., TestPhone], audio_dir: Path
) -> None:
    employee, employee_number = extension(stack, phones, consult_merge=True)
    colleague, colleague_number = extension(stack, phones)
    second, second_number = extension(stack, phones)
    customer = gateway(stack, phones, "carrier-d", prefixes=["85"], inbound={"74952220000": employee_number})
    records = {name: audio_dir / f"{name}.wav" for name in ("customer", "employee", "colleague", "second")}

    customer.call(f"sip:74952220000@{stack.sip}", play=write_tone(audio_dir / "c.wav", CUSTOMER, 90),
                  record=records["customer"])
    employee.wait_for("incoming", 10)
    employee.answer(play=write_tone(audio_dir / "e.wav", EMPLOYEE, 90), record=records["employee"])
    customer.wait_state("CONFIRMED")
    t0 = time.monotonic()  # about when the customer's recording starts
    time.sleep(2)

    employee.dtmf("#")  # the customer hears music
    time.sleep(0.5)
    employee.dtmf(f"{colleague_number}#")
    colleague.wait_for("incoming", 10)
    colleague.answer(play=write_tone(audio_dir / "k.wav", COLLEAGUE, 90), record=records["colleague"])
    colleague.wait_state("CONFIRMED")
    private_from = time.monotonic() - t0
    time.sleep(3)  # employee and colleague talk privately
    private_to = time.monotonic() - t0
    employee.dtmf("#")  # merge: three parties
    time.sleep(3)
    three_at = time.monotonic() - t0

    employee.dtmf("#")
    time.sleep(0.5)
    employee.dtmf(second_number)  # ended by 3 s of silence
    second.wait_for("incoming", 10)
    second.answer(play=write_tone(audio_dir / "s.wav", SECOND, 90), record=records["second"])
    second.wait_state("CONFIRMED")
    time.sleep(1)
    employee.dtmf("#")  # merge: four parties
    time.sleep(4)
    four_at = time.monotonic() - t0

    customer.hangup()  # the customer leaves: it ends for everyone
    for phone in (employee, colleague, second):
        phone.wait_state("DISCONNECTED", 10)
    for phone in (customer, employee, colleague, second):
        phone.wait_for("recorded", 15)

    # While consulting, the customer heard neither the employee nor the colleague.
    private = levels(records["customer"], [EMPLOYEE, COLLEAGUE], private_from + 0.5, private_to - 0.3)
    assert max(private.values()) < ABSENT_BELOW_DBFS, private
    # Merged, three then four: each hears all the others (windows on the customer's clock).
    three = levels(records["customer"], [EMPLOYEE, COLLEAGUE], three_at - 2.0, three_at - 0.3)
    assert min(three.values()) > HEARD_ABOVE_DBFS, three
    four = levels(records["customer"], [EMPLOYEE, COLLEAGUE, SECOND], four_at - 2.5, four_at - 0.3)
    assert min(four.values()) > HEARD_ABOVE_DBFS, four
    # Billed as seed 002 says: the original call, plus an outgoing call to each added number.
    assert wait_for(lambda: len(cdrs(stack, extension=employee_number)) == 2, timeout=10)
    added = cdrs(stack, extension=employee_number)
    assert {(r["kind"], r["callee"], r["disposition"]) for r in added} == {
        ("added", colleague_number, "answered"), ("added", second_number, "answered")}
    assert all(r["billable_seconds"] >= 4 and r["billed_to"] == employee_number for r in added)
    legs = cdrs(stack, call=added[0]["call"])
    original = [(r["callee"], r["billed_to"], r["disposition"]) for r in legs if r["kind"] == "original"]
    assert len(legs) == 3 and original == [(employee_number, "", "answered")]  # incoming: nobody billed
    tones = {"customer": CUSTOMER, "employee": EMPLOYEE, "colleague": COLLEAGUE, "second": SECOND}
    for name in ("employee", "colleague", "second"):
        end = duration(records[name])
        # The last seconds before the customer left (everyone is hung up about 0.6 s after).
        heard_levels = levels(records[name], list(tones.values()), end - 3.5, end - 1.5)
        for other, tone in tones.items():
            if other != name:
                assert heard_levels[tone] > HEARD_ABOVE_DBFS, (name, other, heard_levels)


def test_a_failed_consultation_says_why_and_returns_to_the_customer(
    stack: Stack, phones: Callable[..., TestPhone], audio_dir: Path
) -> None:
    employee, employee_number = extension(stack, phones, consult_merge=True)
    busy, busy_number = extension(stack, phones)
    outside = gateway(stack, phones, "carrier-e", prefixes=["84"])
    employee_heard = audio_dir / "employee.wav"
    employee.call(f"sip:84001112233@{stack.sip}", play=write_tone(audio_dir / "e.wav", EMPLOYEE, 60),
                  record=employee_heard)
    outside.wait_for("incoming", 10)
    outside.answer(play=write_tone(audio_dir / "o.wav", CUSTOMER, 60))
    employee.wait_state("CONFIRMED")
    time.sleep(1)
    employee.dtmf(f"#{busy_number}#")
    busy.wait_for("incoming", 10)
    busy.reject(486)
    time.sleep(3)  # "the number is busy", then back with the customer
    employee.dtmf("#999#")  # nobody has that number
    time.sleep(6)  # the recorded "your call cannot be completed as dialed" (2.5 s) is longer than the old voice
    employee.hangup()
    outside.wait_state("DISCONNECTED", 10)
    employee.wait_for("recorded", 15)
    assert wait_for(lambda: len(cdrs(stack, extension=employee_number)) == 3, timeout=10)
    billed = {(r["kind"], r["callee"], r["disposition"]) for r in cdrs(stack, extension=employee_number)}
    assert billed == {("original", "84001112233", "answered"), ("added", busy_number, "busy"),
                      ("added", "999", "failed")}
    assert heard(employee_heard, "number_busy") > HEARD
    assert heard(employee_heard, "number_unavailable") > HEARD
    end = duration(employee_heard)
    assert levels(employee_heard, [CUSTOMER], end - 2.0, end - 0.5)[CUSTOMER] > HEARD_ABOVE_DBFS


def test_the_employee_sees_its_hash_call_and_drops_a_ringing_consultation_through_the_api(
    stack: Stack, phones: Callable[..., TestPhone], audio_dir: Path
) -> None:
    employee, employee_number = extension(stack, phones, consult_merge=True)
    colleague, colleague_number = extension(stack, phones)
    _, stranger_number = extension(stack, phones)
    outside = gateway(stack, phones, "carrier-r", prefixes=["73"])
    mine, strangers = user_token(stack, employee_number), user_token(stack, stranger_number)
    employee_heard = audio_dir / "employee.wav"
    employee.call(f"sip:73001112233@{stack.sip}", play=write_tone(audio_dir / "e.wav", EMPLOYEE, 60),
                  record=employee_heard)
    outside.wait_for("incoming", 10)
    outside.answer(play=write_tone(audio_dir / "o.wav", CUSTOMER, 60))
    employee.wait_state("CONFIRMED")
    time.sleep(1)
    employee.dtmf(f"#{colleague_number}#")
    colleague.wait_for("incoming", 10)

    def call_room() -> dict[str, Any]:
        status, rooms = as_user(stack, mine, "GET", "/live-rooms")
        assert status == 200, rooms
        found = [room for room in rooms if room["kind"] == "call"]
        return found[0] if found else {}
    assert wait_for(lambda: any(p["extension"] == colleague_number and p["state"] == "ringing"
                                for p in call_room().get("participants", [])), timeout=10), call_room()
    room = call_room()["room"]
    assert as_user(stack, strangers, "GET", "/live-rooms") == (200, [])
    assert as_user(stack, strangers, "GET", f"/rooms/{room}/participants")[0] == 403
    (ringing,) = [p["id"] for p in call_room()["participants"] if p["extension"] == colleague_number]
    assert as_user(stack, mine, "POST", f"/rooms/{room}/participants/{ringing}/mute")[0] == 409
    assert as_user(stack, mine, "POST", f"/rooms/{room}/participants/{ringing}/drop")[0] == 202
    assert colleague.wait_state("DISCONNECTED", 10)["code"] == 487  # cancelled while it rang
    assert wait_for(lambda: all(p["extension"] != colleague_number for p in call_room()["participants"]),
                    timeout=10)
    time.sleep(4)  # back with the customer
    employee.hangup()
    outside.wait_state("DISCONNECTED", 10)
    employee.wait_for("recorded", 15)
    end = duration(employee_heard)
    assert levels(employee_heard, [CUSTOMER], end - 2.0, end - 0.5)[CUSTOMER] > HEARD_ABOVE_DBFS
