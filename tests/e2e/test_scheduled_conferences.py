"""Seed 001 with the real stack, worker and scheduler: a conference scheduled a few seconds ahead
calls everyone; they wait with music until the owner answers; the last one leaving ends it."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import icalendar

from conference import address
from conference.roster import PRESENT
from stack.prompts import prompt_file
from stack.sounds import ensure_music
from stack.supervisor import wait_for
from store import live
from tests.e2e.test_extensions_and_trunks import extension, gateway
from tests.support.audio import duration, levels, music_at, similarity, write_tone
from tests.support.mail import Inbox
from tests.support.phone import TestPhone
from tests.support.stack import Stack
from tests.support.wall import same_day

OWNER, COLLEAGUE, OUTSIDE = 500.0, 900.0, 1300.0


def schedule(stack: Stack, seconds_ahead: float, length: timedelta = timedelta(minutes=30),
             **fields: Any) -> dict[str, Any]:
    zone, start, end = same_day(datetime.now(UTC) + timedelta(seconds=seconds_ahead), length)
    # Open dial-in unless the test gives a guest password: most of these are about the calls.
    opt_out = {} if "guest_password" in fields else {"open_dial_in": True}
    status, body = stack.request("POST", "/conferences", {
        "topic": "E2E", "zone": zone, "date": start.date().isoformat(), "start": f"{start:%H:%M:%S}",
        "end": f"{end:%H:%M:%S}", **opt_out, **fields})
    assert status == 201, body
    return dict(body)


def test_everyone_is_called_at_the_start_and_waits_with_music_for_the_owner(
    stack: Stack, phones: Callable[..., TestPhone], audio_dir: Path
) -> None:
    owner, owner_number = extension(stack, phones)
    colleague, colleague_number = extension(stack, phones)
    outside = gateway(stack, phones, "carrier-s", prefixes=["80"])
    made = schedule(stack, 4, owner={"number": owner_number, "name": "Owner"},
                    participants=[{"number": colleague_number}, {"number": "80012345678"}])
    started_at = datetime.fromisoformat(made["start_utc"])
    for phone in (owner, colleague, outside):
        phone.wait_for("incoming", 20)
    rung = datetime.now(UTC)
    assert rung >= started_at - timedelta(seconds=1)  # not before its time

    heard = audio_dir / "colleague.wav"
    colleague.answer(play=write_tone(audio_dir / "c.wav", COLLEAGUE, 60), record=heard)
    outside.answer(play=write_tone(audio_dir / "o.wav", OUTSIDE, 60))
    assert wait_for(lambda: [p["state"] for p in people(stack, made["code"])] == ["waiting", "waiting"], timeout=15)
    waiting_from = time.monotonic()
    time.sleep(4)  # music, and not each other, until the owner is in
    owner.answer(play=write_tone(audio_dir / "w.wav", OWNER, 60))
    assert wait_for(lambda: sum(p["state"] == "in_conference" for p in people(stack, made["code"])) == 3,
                    timeout=15)
    time.sleep(3)
    for phone in (colleague, outside, owner):
        phone.hangup()
    colleague.wait_for("recorded", 15)

    total = time.monotonic() - waiting_from
    length = duration(heard)
    # The music and nothing else (another caller's tone mixed in would spoil the match), in the
    # middle 2 s of the 4 s wait: where the wait starts in the recording is known to a few 100 ms.
    music, _ = music_at(heard, ensure_music(audio_dir, 8000), length - total + 1.0, length - total + 3.0)
    assert music > 0.75, music
    joined = levels(heard, [OUTSIDE, OWNER], length - 2.5, length - 0.5)
    assert min(joined.values()) > -25.0, joined

    # The last one hanging up ended it; who came, when and how is in its history.
    assert wait_for(lambda: get(stack, made["code"])["state"] == "past", timeout=20)
    status, attended = stack.request("GET", f"/conferences/{made['code']}/attendance")
    assert status == 200 and sorted(a["joined_by"] for a in attended) == ["called"] * 3
    assert all(a["left_at"] for a in attended)
    assert {a["role"] for a in attended} == {"admin", "user"}


def people(stack: Stack, code: str) -> list[dict[str, Any]]:
    """Who is in the conference (the roster without those it still calls or greets)."""
    return [p for p in live.participants(live.connect(stack.config.redis_url), str(address.scheduled(code)))
            if p["state"] in PRESENT]


def roster(stack: Stack, code: str) -> tuple[dict[str, str], list[dict[str, Any]]]:
    """The roster API's answer: each participant's state by its caller, and the unanswered calls."""
    status, body = stack.request("GET", f"/conferences/{code}/participants")
    assert status == 200, body
    return {p["caller"]: p["state"] for p in body["participants"]}, list(body["unanswered"])


def get(stack: Stack, code: str) -> dict[str, Any]:
    status, body = stack.request("GET", f"/conferences/{code}")
    assert status == 200
    return dict(body)


def dial_in(stack: Stack, phone: TestPhone, code: str, record: Path, play: Path | None = None) -> None:
    phone.forget()
    phone.call(f"sip:{stack.config.conferences.dial_in}@{stack.sip}", play=play, record=record)
    phone.wait_state("CONFIRMED")
    time.sleep(0.5)
    phone.dtmf(f"{code}*")


def test_the_roster_shows_calls_ringing_then_joined_and_a_busy_one_failed(
    stack: Stack, phones: Callable[..., TestPhone], audio_dir: Path
) -> None:
    owner, owner_number = extension(stack, phones)
    colleague, colleague_number = extension(stack, phones)
    busy, busy_number = extension(stack, phones)
    made = schedule(stack, 2, owner={"number": owner_number},
                    participants=[{"number": colleague_number}, {"number": busy_number}])
    code = made["code"]
    for phone in (owner, colleague, busy):
        phone.wait_for("incoming", 20)
    # While the phones ring (12 s here) the roster shows each of them ringing.
    assert wait_for(lambda: roster(stack, code)[0] == dict.fromkeys((owner_number, colleague_number, busy_number),
                                                                    "ringing"), timeout=10), roster(stack, code)
    heard = audio_dir / "colleague.wav"
    colleague.answer(play=write_tone(audio_dir / "c.wav", COLLEAGUE, 60), record=heard)
    owner.answer(play=write_tone(audio_dir / "w.wav", OWNER, 60))
    for attempt in (1, 2):  # the first try and its one retry (tests/support/stack.py: retries 1)
        busy.reject(486)
        busy.wait_state("DISCONNECTED", 20)
        if attempt == 1:
            busy.forget()
            busy.wait_for("incoming", 20)
    assert wait_for(lambda: roster(stack, code) == (
        {owner_number: "in_conference", colleague_number: "in_conference"},
        [{"number": busy_number, "status": 486, "reason": "busy", "attempt": 2}]), timeout=20), roster(stack, code)
    time.sleep(3)  # the colleague hears the owner: joined is joined
    for phone in (owner, colleague):
        phone.hangup()
    colleague.wait_for("recorded", 15)
    assert levels(heard, [OWNER], duration(heard) - 2.5, duration(heard) - 0.5)[OWNER] > -25.0
    failed = [e for e in events(stack) if e.get("type") == "call_failed" and e.get("number") == busy_number]
    assert [(e["status"], e["reason"], e["attempt"]) for e in failed] == [("486", "busy", "1"), ("486", "busy", "2")]


def test_dial_in_before_during_and_after(stack: Stack, phones: Callable[..., TestPhone], audio_dir: Path) -> None:
    _, owner_number = extension(stack, phones)
    later = schedule(stack, 3600, owner={"number": owner_number})
    now = schedule(stack, 0, owner={"number": owner_number}, auto_invite=False, chair_password="1111",
                   guest_password="2222")
    early, chair, guest = phones("early"), phones("chair"), phones("guest")

    dial_in(stack, early, later["code"], audio_dir / "early.wav")
    assert early.wait_state("DISCONNECTED", 20)["code"] == 200  # told, then hung up by the service
    early.wait_for("recorded", 10)
    assert heard_prompt(audio_dir / "early.wav", "conference_unavailable")  # one answer: no code oracle

    chair_heard, guest_heard = audio_dir / "chair.wav", audio_dir / "guest.wav"
    dial_in(stack, chair, now["code"], chair_heard, write_tone(audio_dir / "1.wav", OWNER, 60))
    time.sleep(2.5)
    chair.dtmf("1111#")
    dial_in(stack, guest, now["code"], guest_heard, write_tone(audio_dir / "2.wav", COLLEAGUE, 60))
    time.sleep(2.5)
    guest.dtmf("2222#")
    assert wait_for(lambda: sorted((p["role"], p["state"]) for p in people(stack, now["code"])) == [
        ("admin", "in_conference"), ("user", "in_conference")], timeout=20)
    time.sleep(3)
    guest.hangup()
    chair.hangup()
    guest.wait_for("recorded", 15)
    assert levels(guest_heard, [OWNER], duration(guest_heard) - 2.5, duration(guest_heard) - 0.5)[OWNER] > -25.0
    assert wait_for(lambda: get(stack, now["code"])["state"] == "past", timeout=20)
    status, attended = stack.request("GET", f"/conferences/{now['code']}/attendance")
    assert status == 200 and [a["joined_by"] for a in attended] == ["dial-in", "dial-in"]

    dial_in(stack, early, now["code"], audio_dir / "after.wav")  # over: it no longer exists
    assert early.wait_state("DISCONNECTED", 20)["code"] == 200
    early.wait_for("recorded", 10)
    assert heard_prompt(audio_dir / "after.wav", "conference_unavailable")


def test_wrong_codes_lock_the_address_out_of_the_dial_in_service(
    stack: Stack, phones: Callable[..., TestPhone], audio_dir: Path
) -> None:
    _, owner_number = extension(stack, phones)
    made = schedule(stack, 0, owner={"number": owner_number}, auto_invite=False, guest_password="3141")
    client = live.connect(stack.config.redis_url)
    service, loopback = str(address.DIAL_IN), "address:127.0.0.1"  # the service's room; the address Kamailio saw
    try:
        for second in range(10):  # what ten wrong codes or passwords within 15 minutes leave behind
            live.pin_failed(client, service, loopback, now=time.time() + second)
        guesser = phones("code-guesser")
        dial_in(stack, guesser, "999999", audio_dir / "guess.wav")  # the eleventh: an unknown code
        assert guesser.wait_state("DISCONNECTED", 20)["code"] == 200
        assert wait_for(lambda: live.pin_locked(client, service, loopback), timeout=15)
        late = phones("locked-out")  # the right code now changes nothing: the address is out
        dial_in(stack, late, made["code"], audio_dir / "late.wav")
        assert late.wait_state("DISCONNECTED", 20)["code"] == 200
        late.wait_for("recorded", 10)
        assert heard_prompt(audio_dir / "late.wav", "too_many_attempts")
        assert people(stack, made["code"]) == []
    finally:  # every phone of these tests calls from 127.0.0.1
        client.delete(live.PIN_LOCK.format(service, loopback), live.PIN_FAILURES.format(service, loopback))


def test_an_owner_who_missed_the_call_dials_in_and_chairs_without_the_password(
    stack: Stack, phones: Callable[..., TestPhone], audio_dir: Path
) -> None:
    owner, owner_number = extension(stack, phones)
    colleague, colleague_number = extension(stack, phones)
    made = schedule(stack, 3, owner={"number": owner_number}, participants=[{"number": colleague_number}],
                    chair_password="4711", guest_password="0815")
    owner.wait_for("incoming", 20)
    owner.reject(486)  # missed it
    colleague.wait_for("incoming", 20)
    heard = audio_dir / "colleague.wav"
    colleague.answer(play=write_tone(audio_dir / "c.wav", COLLEAGUE, 60), record=heard)
    assert wait_for(lambda: [p["state"] for p in people(stack, made["code"])] == ["waiting"], timeout=15)
    owner.wait_state("DISCONNECTED")
    # Its phone proves to Kamailio it is the owner's extension: no password, and it chairs.
    dial_in(stack, owner, made["code"], audio_dir / "owner.wav", write_tone(audio_dir / "o.wav", OWNER, 60))
    assert wait_for(lambda: sorted((p["role"], p["state"]) for p in people(stack, made["code"])) == [
        ("admin", "in_conference"), ("user", "in_conference")], timeout=20)
    time.sleep(3)  # the conference has started for the colleague: it hears the owner
    for phone in (owner, colleague):
        phone.hangup()
    colleague.wait_for("recorded", 15)
    assert levels(heard, [OWNER], duration(heard) - 2.5, duration(heard) - 0.5)[OWNER] > -25.0


def heard_prompt(recording: Path, piece: str) -> bool:
    return similarity(recording, prompt_file("en", 8000, piece)) > 0.75


def test_mail_is_sent_for_creation_edit_and_cancellation(stack: Stack, inbox: Inbox) -> None:
    made = schedule(stack, 7200, owner={"number": "100", "email": "owner@example.com"},
                    participants=[{"email": "guest@example.org", "zone": "America/New_York"}],
                    guest_password="5151")
    code = made["code"]
    assert wait_for(lambda: len(inbox.about(code)) == 2, timeout=20)
    status, _ = stack.request("PATCH", f"/conferences/{code}", {"topic": "E2E moved"})
    assert status == 200
    assert wait_for(lambda: len(inbox.about(code)) == 4, timeout=20)
    assert stack.request("DELETE", f"/conferences/{code}")[0] == 204
    assert wait_for(lambda: len(inbox.about(code)) == 6, timeout=20)
    subjects = sorted(str(m["Subject"]).split(":")[0] for m in inbox.about(code))
    assert subjects == ["Cancelled"] * 2 + ["Changed"] * 2 + ["Invitation"] * 2
    guest = next(m for m in inbox.about(code) if m["To"] == "guest@example.org" and "Invitation" in m["Subject"])
    body = guest.get_body(preferencelist=("plain",))
    assert body is not None and "5151" in body.get_content() and "(America/New_York," in body.get_content()
    calendar = next(p for p in guest.iter_attachments() if p.get_content_type() == "text/calendar")
    event = next(iter(icalendar.Calendar.from_ical(calendar.get_content()).walk("VEVENT")))
    assert event.decoded("DTSTART").isoformat() == made["start_utc"]


def test_an_unanswered_call_is_tried_again_and_the_end_time_extends_a_busy_conference(
    stack: Stack, phones: Callable[..., TestPhone], audio_dir: Path
) -> None:
    owner, owner_number = extension(stack, phones)
    shy, shy_number = extension(stack, phones)
    made = schedule(stack, 0, length=timedelta(seconds=35), owner={"number": owner_number},
                    participants=[{"number": shy_number}], auto_extend=15)
    owner.wait_for("incoming", 15)
    heard = audio_dir / "owner.wav"
    owner.answer(record=heard)
    shy.wait_for("incoming", 15)  # rings for ring_seconds (12 s in these tests), unanswered
    shy.wait_state("DISCONNECTED", 25)
    shy.forget()
    shy.wait_for("incoming", 15)  # tried again retry_seconds (2 s) later
    shy.reject(486)  # and that was the last try (retries = 1)
    assert stack.request("PATCH", f"/conferences/{made['code']}", {"topic": "x"})[0] == 409  # current
    end = datetime.fromisoformat(made["end_utc"])
    # At its end time the owner is still in: 15 more minutes, announced.
    assert wait_for(lambda: datetime.fromisoformat(get(stack, made["code"])["end_utc"]) == end + timedelta(minutes=15),
                    timeout=40)
    time.sleep(3)
    owner.hangup()
    owner.wait_for("recorded", 15)
    assert heard_prompt(heard, "conference_extended")
    assert wait_for(lambda: get(stack, made["code"])["state"] == "past", timeout=20)
    room = str(address.scheduled(made["code"]))
    failed = [e for e in events(stack) if e.get("type") == "call_failed" and e.get("room") == room]
    assert [int(e["attempt"]) for e in failed] == [1, 2]


def test_at_its_end_time_an_empty_conference_is_over(stack: Stack) -> None:
    made = schedule(stack, 0, length=timedelta(seconds=8), owner={"number": "89990000000"}, auto_invite=False)
    assert get(stack, made["code"])["state"] == "current"
    assert wait_for(lambda: get(stack, made["code"])["state"] == "past", timeout=30)


def events(stack: Stack) -> list[dict[str, Any]]:
    entries: Any = live.connect(stack.config.redis_url).xrange(live.EVENTS)
    return [dict(fields) for _, fields in entries]


def test_lock_and_end_through_the_api(stack: Stack, phones: Callable[..., TestPhone], audio_dir: Path) -> None:
    owner, owner_number = extension(stack, phones)
    made = schedule(stack, 0, owner={"number": owner_number})
    owner.wait_for("incoming", 15)
    heard = audio_dir / "owner.wav"
    owner.answer(record=heard)
    assert wait_for(lambda: len(people(stack, made["code"])) == 1, timeout=15)
    assert stack.request("POST", f"/conferences/{made['code']}/lock", {"locked": True})[0] == 200
    late = phones("late")
    time.sleep(1)
    dial_in(stack, late, made["code"], audio_dir / "late.wav")
    assert late.wait_state("DISCONNECTED", 20)["code"] == 200
    late.wait_for("recorded", 10)
    assert heard_prompt(audio_dir / "late.wav", "conference_locked")
    assert stack.request("POST", f"/conferences/{made['code']}/end", {})[0] == 200
    assert owner.wait_state("DISCONNECTED", 20)["code"] == 200  # the bridge ended it
    owner.wait_for("recorded", 10)
    assert heard_prompt(heard, "conference_over")
    assert get(stack, made["code"])["state"] == "past"
