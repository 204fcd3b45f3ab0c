"""Voice menus with real phones, judged by what they hear: the spoken greeting, then the key's room
(dialled directly, or a carrier's number mapped to the menu), where another phone hears the caller's
tone and the caller hears its; invalid keys to the final destination; silence to the timeout
destination; outside the opening hours to the closed one; a destination the owner may no longer
reach is refused with a notice, never dialled."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from conference.menus import DAYS
from stack.prompts import prompt_file
from stack.supervisor import wait_for
from store import live
from tests.e2e.test_extensions_and_trunks import cdrs, gateway
from tests.support.audio import duration, levels, peak_level, similarity, write_tone
from tests.support.phone import TestPhone
from tests.support.stack import Stack

HEARD, SILENT = -25.0, -50.0
GREETING = "For the weekly meeting, press two. For the sales team, press three."


def menu(stack: Stack, number: str, **fields: Any) -> dict[str, Any]:
    status, body = stack.request("POST", "/menus", {"number": number, **fields})
    assert status == 201, body
    return dict(body)


@pytest.fixture(scope="module")
def rooms(stack: Stack, phones_module: Callable[..., TestPhone], tmp_path_factory: pytest.TempPathFactory
          ) -> Iterator[dict[str, float]]:
    """Two rooms, each with a phone in it sending its own tone (room -> tone)."""
    folder = tmp_path_factory.mktemp("menu-rooms")
    tones = {"7400": 500.0, "7401": 700.0}
    for room, tone in tones.items():
        stack.create_room(room, mute_notifications=True, announce_count=False)
        phone = phones_module(f"in-{room}")
        phone.call(stack.room_uri(room), play=write_tone(folder / f"{room}.wav", tone, 600))
        phone.wait_state("CONFIRMED")
        stack.wait_in_conference(room, 1)
    yield tones


@pytest.fixture(scope="module")
def phones_module() -> Iterator[Callable[..., TestPhone]]:
    made: list[TestPhone] = []

    def make(name: str) -> TestPhone:
        made.append(TestPhone(name))
        return made[-1]

    yield make
    for phone in made:
        phone.close()


def call_menu(stack: Stack, phones: Callable[..., TestPhone], audio_dir: Path, number: str,
              tone: float = 900.0) -> tuple[TestPhone, Path]:
    phone = phones(f"caller-{number}")
    heard = audio_dir / f"caller-{number}.wav"
    phone.call(stack.room_uri(number), play=write_tone(audio_dir / f"caller-{number}-tone.wav", tone, 60), record=heard)
    phone.wait_state("CONFIRMED")
    return phone, heard


def in_new_room(stack: Stack, phones: Callable[..., TestPhone], audio_dir: Path, room: str,
                tone: float) -> tuple[TestPhone, Path]:
    """A room with a phone in it sending `tone` and recording what it hears."""
    stack.create_room(room, mute_notifications=True, announce_count=False)
    phone = phones(f"in-{room}")
    heard = audio_dir / f"in-{room}.wav"
    phone.call(stack.room_uri(room), play=write_tone(audio_dir / f"{room}.wav", tone, 60), record=heard)
    stack.wait_in_conference(room, 1)
    return phone, heard


def finish(phone: TestPhone) -> None:
    phone.hangup()
    phone.wait_for("recorded", timeout=15)


def in_room_with(stack: Stack, room: str, tone: float, phone: TestPhone, heard: Path) -> None:
    """The caller reached `room`: the room's phone and it hear each other (the last seconds)."""
    stack.wait_in_conference(room, 2)
    time.sleep(3)
    finish(phone)
    length = duration(heard)
    assert levels(heard, [tone], length - 2.0, length - 0.2)[tone] > HEARD


def test_a_caller_hears_the_spoken_greeting_and_its_key_takes_it_into_the_room(
    stack: Stack, rooms: dict[str, float], phones: Callable[..., TestPhone], audio_dir: Path
) -> None:
    inside, inside_heard = in_new_room(stack, phones, audio_dir, "7402", 1300.0)
    menu(stack, "7300", greeting_text=GREETING, options={"2": "7402", "3": "7401"})
    spoken = stack.config.var_path / "sounds" / "menus" / "7300-8000.wav"
    assert wait_for(spoken.exists, timeout=30)  # the worker speaks the greeting text
    phone, heard = call_menu(stack, phones, audio_dir, "7300")
    time.sleep(4)
    phone.dtmf("2")
    in_room_with(stack, "7402", 1300.0, phone, heard)
    finish(inside)
    assert similarity(heard, spoken) > 0.75
    length = duration(heard)
    assert levels(heard, [rooms["7401"]], length - 2.0, length - 0.2)[rooms["7401"]] < SILENT  # that room only
    assert peak_level(inside_heard, 900.0) > HEARD  # the room's phone heard the caller
    events: Any = live.connect(stack.config.redis_url).xrange(live.EVENTS)
    forwarded = [fields for _, fields in events if fields.get("type") == "menu_forwarded"
                 and fields.get("room") == "menu-7300"]
    assert [(f["to"], f["why"], f["refused"]) for f in forwarded] == [("7402", "2", "0")]


def test_a_carriers_number_mapped_to_a_menu_reaches_it_and_the_key_takes_the_caller_on(
    stack: Stack, rooms: dict[str, float], phones: Callable[..., TestPhone], audio_dir: Path
) -> None:
    menu(stack, "7305", options={"1": "7400"})
    carrier = gateway(stack, phones, "menu-trunk", inbound={"74957300000": "7305"})
    carrier.become("74951234567")
    heard = audio_dir / "carrier.wav"
    carrier.call(f"sip:74957300000@{stack.sip}", play=write_tone(audio_dir / "carrier-tone.wav", 900.0, 60),
                 record=heard)
    carrier.wait_state("CONFIRMED")
    time.sleep(1)
    carrier.dtmf("1")
    in_room_with(stack, "7400", rooms["7400"], carrier, heard)


def test_invalid_keys_end_at_the_final_destination_after_the_invalid_notice(
    stack: Stack, rooms: dict[str, float], phones: Callable[..., TestPhone], audio_dir: Path
) -> None:
    menu(stack, "7301", options={"1": "7400"}, tries=2, invalid_destination="7401")
    phone, heard = call_menu(stack, phones, audio_dir, "7301")
    time.sleep(1)
    phone.dtmf("9")
    time.sleep(3)  # "that is not a valid option", the menu again
    phone.dtmf("8")
    in_room_with(stack, "7401", rooms["7401"], phone, heard)
    assert similarity(heard, prompt_file("en", 8000, "menu_invalid")) > 0.75


def test_silence_after_the_greeting_goes_to_the_timeout_destination(
    stack: Stack, rooms: dict[str, float], phones: Callable[..., TestPhone], audio_dir: Path
) -> None:
    menu(stack, "7302", options={"1": "7400"}, timeout_seconds=2, timeout_destination="7401")
    phone, heard = call_menu(stack, phones, audio_dir, "7302")
    in_room_with(stack, "7401", rooms["7401"], phone, heard)
    assert similarity(heard, prompt_file("en", 8000, "menu_choose")) > 0.75


def test_outside_the_opening_hours_the_caller_goes_to_the_closed_destination(
    stack: Stack, rooms: dict[str, float], phones: Callable[..., TestPhone], audio_dir: Path
) -> None:
    # Open only on the day after tomorrow: never now, even if the test runs across midnight.
    open_day = DAYS[(datetime.now(UTC) + timedelta(days=2)).weekday()]
    menu(stack, "7303", options={"1": "7400"}, time_zone="UTC", hours=[f"{open_day} 00:00-24:00"],
         closed_destination="7401")
    phone, heard = call_menu(stack, phones, audio_dir, "7303")
    in_room_with(stack, "7401", rooms["7401"], phone, heard)


def test_a_destination_its_owner_may_no_longer_call_is_refused_with_a_notice_and_never_dialled(
    stack: Stack, phones: Callable[..., TestPhone], audio_dir: Path
) -> None:
    status, body = stack.request("POST", "/trunks", {"name": "menu-carrier", "gateway": "127.0.0.1:9",
                                                     "sources": ["192.0.2.77"], "prefixes": ["77"]})
    assert status == 201, body
    status, body = stack.request("POST", "/extensions", {"number": "7201", "password": "menu-owner-1",
                                                         "external_calls": True})
    assert status == 201, body
    menu(stack, "7304", owner="7201", options={"0": "7712345"})
    status, body = stack.request("PATCH", "/extensions/7201", {"external_calls": False})
    assert status == 200, body
    phone, heard = call_menu(stack, phones, audio_dir, "7304")
    time.sleep(1)
    phone.dtmf("0")
    assert phone.wait_state("DISCONNECTED", timeout=20)["code"] == 200  # the bridge hung up, after the notice
    phone.wait_for("recorded", timeout=15)
    assert similarity(heard, prompt_file("en", 8000, "number_unavailable")) > 0.75
    assert "may not be sent to 7712345" in stack.log("bridge")


def test_a_call_back_number_refuses_the_caller_calls_it_back_into_the_room_and_stops_at_the_limit(
    stack: Stack, rooms: dict[str, float], phones: Callable[..., TestPhone], audio_dir: Path
) -> None:
    status, body = stack.request("POST", "/extensions", {"number": "7202", "password": "callback-owner-1",
                                                         "external_calls": True})
    assert status == 201, body
    inside, inside_heard = in_new_room(stack, phones, audio_dir, "7403", 1300.0)
    # The carrier's gateway both sends the call in and takes the call back (its prefix routes to it).
    carrier = gateway(stack, phones, "callback-trunk", prefixes=["88"], inbound={"74957300009": "7403"},
                      callback=["74957300009"], callback_owner="7202", callback_per_hour=3)
    carrier.become("88123456")
    client = live.connect(stack.config.redis_url)

    def ask() -> None:
        carrier.forget()
        carrier.call(f"sip:74957300009@{stack.sip}")
        assert carrier.wait_state("DISCONNECTED")["code"] == 486  # refused: it is called back instead

    def refusals() -> list[str]:
        entries: Any = client.xrange(live.EVENTS)
        return [fields["refused"] for _, fields in entries if fields.get("type") == "callback"
                and fields.get("number") == "88123456"]

    ask()
    carrier.wait_for("incoming", timeout=15)
    heard = audio_dir / "called-back.wav"
    carrier.answer(play=write_tone(audio_dir / "called-back-tone.wav", 900.0, 60), record=heard)
    in_room_with(stack, "7403", 1300.0, carrier, heard)
    finish(inside)
    assert peak_level(inside_heard, 900.0) > HEARD  # and the room heard the caller
    # The call back and the call it was put through with are both the owner's.
    assert wait_for(lambda: len(cdrs(stack, extension="7202")) == 2, timeout=15), cdrs(stack, extension="7202")
    legs = {(r["kind"], r["callee"], r["billed_to"], r["disposition"]) for r in cdrs(stack, extension="7202")}
    assert legs == {("callback", "88123456", "7202", "answered"), ("original", "7403", "7202", "answered")}
    for _ in range(2):  # the second and third calls back of the hour are made (and declined here)
        ask()
        carrier.wait_for("incoming", timeout=15)
        carrier.reject(486)
        carrier.wait_state("DISCONNECTED")
    ask()  # the fourth is not
    assert wait_for(lambda: refusals() == ["0", "0", "0", "429"], timeout=10), refusals()
    with pytest.raises(TimeoutError):
        carrier.wait_for("incoming", timeout=3)
