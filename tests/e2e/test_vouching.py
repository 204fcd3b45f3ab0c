"""As an attacker: nothing a caller writes makes the bridge believe it is an extension or dial for it.

Only Kamailio vouches for identity (a signed header, conference.vouch), and the bridge takes calls
from Kamailio only. Each attack ends with `*8<trunk number>#`, which dials out only for a caller
the bridge believes to be an extension with outside calls; a control call by the real extension
proves the same keys do reach the trunk when identity is genuine.
"""

from __future__ import annotations

import itertools
import time
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from conference import address, vouch
from stack.supervisor import wait_for
from tests.e2e.test_extensions_and_trunks import extension, gateway
from tests.support.audio import write_tone
from tests.support.phone import TestPhone
from tests.support.sip import final_response, invite
from tests.support.stack import Stack

OUTSIDE = "781234567"  # behind the test trunk (prefix 78)
_rooms = itertools.count(4200)


def cdrs(stack: Stack, number: str) -> list[dict[str, Any]]:
    status, body = stack.request("GET", "/cdrs?" + urllib.parse.urlencode({"number": number}))
    assert status == 200, body
    return list(body)


def people(stack: Stack, room: str) -> list[dict[str, Any]]:
    status, body = stack.request("GET", f"/rooms/{room}/participants")
    assert status == 200, body
    return list(body)


@pytest.fixture(scope="module")
def victim(stack: Stack, phones_module: Callable[..., TestPhone]) -> tuple[TestPhone, str, TestPhone]:
    """An extension allowed to call outside (registered, so the control call can prove itself), and the
    trunk gateway it would reach."""
    phone, number = extension(stack, phones_module, external_calls=True)
    return phone, number, gateway(stack, phones_module, "carrier-v", prefixes=["78"])


@pytest.fixture(scope="module")
def phones_module() -> Iterator[Callable[..., TestPhone]]:
    made: list[TestPhone] = []

    def make(name: str, codec: str | None = None) -> TestPhone:
        made.append(TestPhone(name, codec=codec))
        return made[-1]

    yield make
    for phone in made:
        phone.close()


def rang(trunk: TestPhone) -> bool:
    try:
        trunk.wait_for("incoming", 1)
    except TimeoutError:
        return False
    return True


def forged(number: str) -> str:
    return (f"X-Kamconf-Caller: extension {number}\r\nX-Kamconf-Anchor: {OUTSIDE} caller\r\n"
            f"{vouch.HEADER}: v1;ts={int(time.time())};who=extension:{number};anchor=-;sig={'0' * 64}\r\n")


def attack_bodies(number: str) -> list[list[tuple[str, str]]]:
    """Bodies beside the SDP that carry our headers' lines: plain, after an empty line, folded, CR-only."""
    lines = forged(number)
    return [[("text/plain", lines)], [("text/plain", "\r\n" + lines)],
            [("text/plain", lines.replace(": ", ":\r\n  "))], [("message/sipfrag", lines.replace("\r\n", "\r"))]]


def attack_headers(number: str) -> list[list[tuple[str, str]]]:
    """Our headers sent as real headers: as we write them, in other cases, and twice."""
    caller = ("X-Kamconf-Caller", f"extension {number}")
    identity = (vouch.HEADER, f"v1;ts={int(time.time())};who=extension:{number};anchor=-;sig={'0' * 64}")
    return [[caller, ("X-Kamconf-Anchor", f"{OUTSIDE} caller")], [(n.upper(), v) for n, v in (caller, identity)],
            [(n.lower(), v) for n, v in (caller, identity, caller, identity)]]


def join_and_dial_out(stack: Stack, phone: TestPhone, room: str, method: str, audio_dir: Path,
                      headers: list[tuple[str, str]] | None = None, parts: list[tuple[str, str]] | None = None) -> None:
    phone.forget()
    phone.call(stack.room_uri(room), play=write_tone(audio_dir / f"{phone.name}.wav", 600.0, 30),
               headers=headers, parts=parts)
    phone.wait_state("CONFIRMED")
    phone.wait_for("media")
    stack.wait_in_conference(room, 1)
    phone.dtmf(f"*8{OUTSIDE}#", method)


def test_nothing_a_caller_writes_makes_it_an_extension(
    stack: Stack, victim: tuple[TestPhone, str, TestPhone], phones_module: Callable[..., TestPhone], audio_dir: Path
) -> None:
    _, number, trunk = victim
    attacker = phones_module("attacker")
    attempts = [(h, None) for h in attack_headers(number)] + [(None, p) for p in attack_bodies(number)]
    for index, (headers, parts) in enumerate(attempts):
        room = str(next(_rooms))
        stack.create_room(room)
        method = "info" if index % 2 else "rfc2833"
        join_and_dial_out(stack, attacker, room, method, audio_dir, headers, parts)
        (person,) = people(stack, room)
        assert person["extension"] is None and person["caller"].startswith("sip:phone-"), person  # anonymous
        # The keys reached the room, whose rules let no anonymous member invite.
        invited = f"room {room}: Invite"
        assert wait_for(lambda: invited in stack.log("bridge"), 10), (headers, parts, attacker.seen)  # noqa: B023
        assert not [r for r in cdrs(stack, OUTSIDE) if r["billed_to"] == number], (headers, parts)
        attacker.hangup()
        attacker.wait_state("DISCONNECTED")
    assert not rang(trunk)


def test_the_same_keys_dial_out_for_the_real_extension(
    stack: Stack, victim: tuple[TestPhone, str, TestPhone], audio_dir: Path
) -> None:
    phone, number, trunk = victim
    room = str(next(_rooms))
    stack.create_room(room)
    join_and_dial_out(stack, phone, room, "info", audio_dir)
    assert [person["extension"] for person in people(stack, room)] == [number]
    trunk.wait_for("incoming", 10)
    trunk.reject(486)
    assert wait_for(lambda: any(r["billed_to"] == number for r in cdrs(stack, OUTSIDE)), 10)
    phone.hangup()
    phone.wait_state("DISCONNECTED")


def test_the_bridge_takes_no_call_that_did_not_come_through_kamailio(
    stack: Stack, victim: tuple[TestPhone, str, TestPhone]
) -> None:
    _, number, trunk = victim
    trunk.forget()
    bridge = f"{stack.config.bridge.address}:{stack.config.bridge.sip_port}"
    room = str(next(_rooms))
    stack.create_room(room)
    direct = invite(bridge, room).replace("Content-Length: 0\r\n", forged(number) + "Content-Length: 0\r\n")
    assert final_response(bridge, direct) == 403
    anchored = invite(bridge, str(address.call("stolen"))).replace("Content-Length: 0\r\n",
                                                               forged(number) + "Content-Length: 0\r\n")
    assert final_response(bridge, anchored) == 403
    assert not rang(trunk)
    assert people(stack, room) == []
