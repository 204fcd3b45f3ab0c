"""Registered extensions call each other and the outside through a trunk; strangers are refused."""

from __future__ import annotations

import itertools
import time
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from stack.supervisor import wait_for
from tests.support.audio import last_seconds, levels, write_tone
from tests.support.phone import TestPhone
from tests.support.rtpengine import assert_relayed_by_rtpengine
from tests.support.stack import Stack

HEARD_ABOVE_DBFS = -25.0
_numbers = itertools.count(200)


def extension(stack: Stack, phones: Callable[..., TestPhone], **options: object) -> tuple[TestPhone, str]:
    """A new extension (from the API) and a test phone registered as it."""
    number = str(next(_numbers))
    password = f"pass-{number}-word"
    status, body = stack.request("POST", "/extensions", {"number": number, "password": password, **options})
    assert status == 201, body
    phone = phones(f"ext{number}")
    phone.register(f"sip:{stack.sip}", number, password)
    return phone, number


def gateway(stack: Stack, phones: Callable[..., TestPhone], name: str, **fields: object) -> TestPhone:
    """A test phone standing in for a carrier's gateway, and a trunk pointing at it."""
    status, trunks = stack.request("GET", "/trunks")
    taken = {prefix for trunk in trunks for prefix in trunk["prefixes"]}
    # The session's stack keeps every module's trunks; a shared prefix would route to a closed phone.
    prefixes = fields.get("prefixes", [])
    assert isinstance(prefixes, list) and not taken & set(prefixes), f"prefixes {prefixes} already in {taken}"
    phone = phones(name)
    address = f"127.0.0.1:{phone.sip_port}"
    status, body = stack.request("POST", "/trunks", {"name": name, "gateway": address, "sources": [address],
                                                    **fields})
    assert status == 201, body
    return phone


def talk(caller: TestPhone, callee: TestPhone, uri: str, audio_dir: Path) -> None:
    """caller dials uri, callee answers; each must hear the other's tone."""
    caller.forget()
    callee.forget()
    heard_by_caller, heard_by_callee = audio_dir / f"{caller.name}-heard.wav", audio_dir / f"{callee.name}-heard.wav"
    caller.call(uri, play=write_tone(audio_dir / f"{caller.name}.wav", 700.0, 20), record=heard_by_caller)
    callee.wait_for("incoming", 10)
    callee.answer(play=write_tone(audio_dir / f"{callee.name}.wav", 1300.0, 20), record=heard_by_callee)
    caller.wait_state("CONFIRMED")
    time.sleep(3)  # the length of conversation each phone records
    caller.hangup()
    callee.wait_state("DISCONNECTED")
    for phone in (caller, callee):
        phone.wait_for("recorded", 10)
    assert levels(heard_by_caller, [1300.0], *last_seconds(heard_by_caller, 2.0))[1300.0] > HEARD_ABOVE_DBFS
    assert levels(heard_by_callee, [700.0], *last_seconds(heard_by_callee, 2.0))[700.0] > HEARD_ABOVE_DBFS


def test_extensions_register_and_call_each_other_through_rtpengine(
    stack: Stack, phones: Callable[..., TestPhone], audio_dir: Path
) -> None:
    anna, anna_number = extension(stack, phones)
    boris, boris_number = extension(stack, phones)
    heard = audio_dir / "boris-heard.wav"
    anna.call(f"sip:{boris_number}@{stack.sip}", play=write_tone(audio_dir / "anna.wav", 700.0, 20))
    boris.wait_for("incoming", 10)
    boris.answer(record=heard)
    call_id = anna.wait_state("CONFIRMED")["call_id"]
    time.sleep(3)
    assert_relayed_by_rtpengine(stack, call_id, bridge_leg=False)
    anna.hangup()
    boris.wait_for("recorded", 10)
    assert levels(heard, [700.0], *last_seconds(heard, 2.0))[700.0] > HEARD_ABOVE_DBFS
    # Kamailio relayed it without a bridge, and recorded it: billed to the caller from the answer.
    assert wait_for(lambda: len(cdrs(stack, call=call_id)) == 1, timeout=10)
    [record] = cdrs(stack, call=call_id)
    assert (record["kind"], record["caller"], record["callee"], record["billed_to"], record["disposition"],
            record["node"]) == ("relayed", anna_number, boris_number, anna_number, "answered", "kamailio"), record
    assert 2 <= record["billable_seconds"] <= 10, record


def test_extensions_reach_the_outside_and_the_outside_reaches_them_through_a_trunk(
    stack: Stack, phones: Callable[..., TestPhone], audio_dir: Path
) -> None:
    anna, anna_number = extension(stack, phones)
    carrier = gateway(stack, phones, "carrier-a", prefixes=["89"], inbound={"74951110000": anna_number})
    talk(anna, carrier, f"sip:89161234567@{stack.sip}", audio_dir)
    talk(carrier, anna, f"sip:74951110000@{stack.sip}", audio_dir)


def test_a_carriers_call_an_extension_refuses_is_recorded_as_nobodys(
    stack: Stack, phones: Callable[..., TestPhone]
) -> None:
    anna, anna_number = extension(stack, phones)
    carrier = gateway(stack, phones, "carrier-cdr", inbound={"74951110009": anna_number})
    carrier.become("74957654321")
    carrier.call(f"sip:74951110009@{stack.sip}")
    anna.wait_for("incoming", 10)
    anna.reject(486)
    call_id = carrier.wait_state("DISCONNECTED")["call_id"]
    assert wait_for(lambda: len(cdrs(stack, call=call_id)) == 1, timeout=10)
    [record] = cdrs(stack, call=call_id)
    assert (record["kind"], record["caller"], record["callee"], record["billed_to"], record["status"],
            record["disposition"], record["billable_seconds"]) == (
        "relayed", "74957654321", anna_number, "", 486, "busy", 0), record


def cdrs(stack: Stack, **filters: str) -> list[dict[str, Any]]:
    status, body = stack.request("GET", "/cdrs?" + urllib.parse.urlencode(filters))
    assert status == 200, body
    return list(body)


def test_strangers_and_wrong_passwords_are_refused(stack: Stack, phones: Callable[..., TestPhone]) -> None:
    _, boris_number = extension(stack, phones)
    gateway(stack, phones, "carrier-b", prefixes=["87"])
    stranger = phones("stranger")
    stranger.call(f"sip:{boris_number}@{stack.sip}")
    assert stranger.wait_state("DISCONNECTED")["code"] == 403
    stranger.call(f"sip:87001234567@{stack.sip}")  # no relay to the outside
    assert stranger.wait_for("state", 10, lambda e: e["state"] == "DISCONNECTED" and e["code"] == 403)

    impostor = phones("impostor")
    impostor.register(f"sip:{stack.sip}", boris_number, "not-the-password", expect=401)
    impostor.call(f"sip:87001234567@{stack.sip}")
    # Its credentials are wrong, so the INVITE is challenged again and never relayed.
    assert impostor.wait_state("DISCONNECTED")["code"] in (401, 407)

    nobody = phones("nobody")
    nobody.register(f"sip:{stack.sip}", "999999", "whatever-pass", expect=401)  # as for a known user: no enumeration
