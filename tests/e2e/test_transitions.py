"""Every transition sounds clean: the first seconds after a "#" merge (the held party included) and
after a scheduled conference's owner arrives (those who waited included).

A leg nobody hears (on hold, waiting for the owner) still receives RTP; if the mixer stops
reading it meanwhile, its jitter buffer fills and is drained late and with skips once it is
heard again. These tests listen to the first seconds after such a transition.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from stack.supervisor import wait_for
from tests.e2e.test_extensions_and_trunks import extension, gateway
from tests.e2e.test_scheduled_conferences import people, schedule
from tests.support.audio import tone_to_noise, write_tone
from tests.support.phone import TestPhone
from tests.support.stack import Stack

# Not multiples of 50 Hz: a 20 ms frame of those holds whole cycles, so a skipped frame would not
# break their phase and could not be heard.
CUSTOMER, EMPLOYEE, COLLEAGUE = 633.0, 1077.0, 1459.0
AUDIBLE = -30.0  # dBFS in every quarter second: no gap
CLEAN = 20.0  # dB between the tones and everything else


def assert_clean(recording: Path, tones: list[float], start: float, end: float) -> None:
    """No gap anywhere, and clean in every quarter second but at most one: a single frame concealed
    once (a jitter buffer adapting while the machine is busy) is not the defect, which broke the
    phase every ~190 ms, in about a third of the windows, for seconds."""
    windows = tone_to_noise(recording, tones, start, end)
    weakest = min(level for level, _ in windows)
    second_noisiest = sorted(ratio for _, ratio in windows)[1]
    assert weakest > AUDIBLE and second_noisiest > CLEAN, [(round(a, 1), round(b, 1)) for a, b in windows]


def test_the_held_customer_is_heard_clean_from_the_first_second_after_a_merge(
    stack: Stack, phones: Callable[..., TestPhone], audio_dir: Path
) -> None:
    employee, employee_number = extension(stack, phones, consult_merge=True)
    colleague, colleague_number = extension(stack, phones)
    customer = gateway(stack, phones, "carrier-t", prefixes=["81"], inbound={"74953330000": employee_number})
    heard_by_colleague = audio_dir / "colleague.wav"

    customer.call(f"sip:74953330000@{stack.sip}", play=write_tone(audio_dir / "c.wav", CUSTOMER, 60))
    employee.wait_for("incoming", 10)
    employee.answer(play=write_tone(audio_dir / "e.wav", EMPLOYEE, 60))
    customer.wait_state("CONFIRMED")
    time.sleep(1)
    employee.dtmf("#")  # the customer is held: music, and nobody hears it
    time.sleep(0.5)
    employee.dtmf(f"{colleague_number}#")
    colleague.wait_for("incoming", 10)
    colleague.answer(play=write_tone(audio_dir / "k.wav", COLLEAGUE, 60), record=heard_by_colleague)
    colleague.wait_for("media")
    start = time.monotonic()  # the colleague's recording starts with its media
    time.sleep(5)  # the customer stays held while they talk
    employee.dtmf("#")  # merge
    merged = time.monotonic() - start
    time.sleep(7)
    customer.hangup()
    colleague.wait_state("DISCONNECTED", 10)
    colleague.wait_for("recorded", 15)
    # From the merge (and the key's way through rtpengine and the bridge) on, 6 s: the customer and
    # the employee, each clean and without a gap.
    assert_clean(heard_by_colleague, [CUSTOMER, EMPLOYEE], merged + 0.5, merged + 6.5)


def test_those_who_waited_for_the_owner_are_heard_clean_from_the_first_second_after_the_owner_arrives(
    stack: Stack, phones: Callable[..., TestPhone], audio_dir: Path
) -> None:
    owner, owner_number = extension(stack, phones)
    colleague, colleague_number = extension(stack, phones)
    outside = gateway(stack, phones, "carrier-u", prefixes=["79"])
    made = schedule(stack, 3, owner={"number": owner_number, "name": "Owner"},
                    participants=[{"number": colleague_number}, {"number": "79012345678"}])
    for phone in (owner, colleague, outside):
        phone.wait_for("incoming", 20)
    # Listened to from a leg up for seconds already: a new leg's own jitter buffer still settles
    # as it starts, which is the phone's business, not the transition's.
    heard_by_colleague = audio_dir / "colleague.wav"
    colleague.answer(play=write_tone(audio_dir / "c.wav", COLLEAGUE, 60), record=heard_by_colleague)
    colleague.wait_for("media")
    start = time.monotonic()
    outside.answer(play=write_tone(audio_dir / "o.wav", CUSTOMER, 60))
    assert wait_for(lambda: [p["state"] for p in people(stack, made["code"])] == ["waiting", "waiting"], timeout=15)
    time.sleep(5)  # they wait with music; nobody hears them
    owner.answer()  # silent: what the colleague hears of the mix is the outside caller who waited
    assert wait_for(lambda: sum(p["state"] == "in_conference" for p in people(stack, made["code"])) == 3,
                    timeout=15)
    arrived = time.monotonic() - start
    time.sleep(7)
    for phone in (colleague, outside, owner):
        phone.hangup()
    colleague.wait_for("recorded", 15)
    assert_clean(heard_by_colleague, [CUSTOMER], arrived + 0.5, arrived + 6.5)
