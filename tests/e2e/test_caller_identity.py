"""Caller identity on every call kamconf sends out (issues 9 and 11), seen by the phone that rings:
an extension calling out, a carrier's call forwarded out through a trusted and an untrusted trunk, a
"#" call's legs showing the customer, a *8 invitation showing the inviter, a scheduled conference's
call-outs showing the installation's number ([conferences] caller_id) or a trunk's own."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from conference import address
from tests.e2e.test_extensions_and_trunks import HEARD_ABOVE_DBFS, extension, gateway, talk
from tests.e2e.test_scheduled_conferences import schedule
from tests.support.audio import last_seconds, levels, write_tone
from tests.support.phone import Event, TestPhone
from tests.support.stack import INSTALLATION_NUMBER, Stack

PLAIN_PREFIX, FIXED_PREFIX = "75", "74"  # this module's trunks out: no other module uses them
COMPANY = "74990000000"  # the fixed number of the trunk behind FIXED_PREFIX, presented in From too
CUSTOMER = "74951112233"  # a carrier's caller
CLAIMED = "<sip:+79990000000@carrier.example>"  # what a carrier's call says of its caller
CALLER_TONE, CALLEE_TONE = 700.0, 1300.0


def user(uri: str) -> str:
    """The user part of a URI or name-addr (what a phone shows as the caller)."""
    return uri.split("sip:", 1)[1].split("@", 1)[0]


def asserted(incoming: Event) -> list[str]:
    return [user(value) for value in incoming["identity"].get("p-asserted-identity", [])]


@pytest.fixture(scope="module")
def gateways(stack: Stack) -> Iterator[tuple[TestPhone, TestPhone]]:
    """The two carriers' gateways calls go out to, for the whole module (a trunk's prefix is taken
    once): plain, and one showing the company's number, in From too."""
    made: list[TestPhone] = []

    def make(name: str, codec: str | None = None) -> TestPhone:
        made.append(TestPhone(name, codec=codec))
        return made[-1]

    yield (gateway(stack, make, "carrier-id-plain", prefixes=[PLAIN_PREFIX]),
           gateway(stack, make, "carrier-id-fixed", prefixes=[FIXED_PREFIX], caller_id=COMPANY,
                   present_as="pai_and_from"))
    for phone in made:
        phone.close()


@pytest.fixture
def outside(gateways: tuple[TestPhone, TestPhone]) -> tuple[TestPhone, TestPhone]:
    """The gateways, with what earlier tests' calls brought them forgotten."""
    for phone in gateways:
        phone.forget()
    return gateways


def test_an_extension_calling_out_shows_its_number_or_the_trunks(
    stack: Stack, phones: Callable[..., TestPhone], outside: tuple[TestPhone, TestPhone], audio_dir: Path
) -> None:
    plain, fixed = outside
    anna, anna_number = extension(stack, phones)
    claims = [("P-Asserted-Identity", CLAIMED), ("Remote-Party-ID", CLAIMED), ("Diversion", CLAIMED)]
    anna.call(f"sip:{PLAIN_PREFIX}1234567@{stack.sip}", headers=claims)
    incoming = plain.wait_for("incoming", 10)
    # Its own number in P-Asserted-Identity, nothing it wrote; the From is the extension's own.
    assert asserted(incoming) == [anna_number] and set(incoming["identity"]) == {"p-asserted-identity"}, incoming
    assert user(incoming["remote"]) == anna_number
    plain.reject(486)
    anna.wait_state("DISCONNECTED")

    talk(anna, fixed, f"sip:{FIXED_PREFIX}1234567@{stack.sip}", audio_dir)  # heard both ways
    incoming = fixed.wait_for("incoming")
    assert asserted(incoming) == [COMPANY] and user(incoming["remote"]) == COMPANY, incoming


@pytest.mark.parametrize("trusted", [True, False])
def test_a_carriers_call_forwarded_out_keeps_its_identity_only_from_a_trusted_trunk(
    stack: Stack, phones: Callable[..., TestPhone], outside: tuple[TestPhone, TestPhone], trusted: bool
) -> None:
    fixed = outside[1]
    inbound = "7495222000" + ("1" if trusted else "2")
    _, forwarding = extension(stack, phones, forward_to=f"{FIXED_PREFIX}7654321")
    carrier = gateway(stack, phones, f"carrier-id-in-{str(trusted).lower()}", trusted=trusted,
                      inbound={inbound: forwarding})
    carrier.become(CUSTOMER)
    carrier.call(f"sip:{inbound}@{stack.sip}", headers=[("P-Asserted-Identity", CLAIMED), ("Diversion", CLAIMED)])
    incoming = fixed.wait_for("incoming", 10)
    if trusted:
        # The carrier's own headers go on, and so does its From.
        assert incoming["identity"] == {"p-asserted-identity": [CLAIMED], "diversion": [CLAIMED]}, incoming
        assert user(incoming["remote"]) == CUSTOMER
    else:
        # Removed; the trunk out shows the company's number, in PAI and From.
        assert asserted(incoming) == [COMPANY] and set(incoming["identity"]) == {"p-asserted-identity"}, incoming
        assert user(incoming["remote"]) == COMPANY
    fixed.reject(486)
    carrier.wait_state("DISCONNECTED")


def test_a_hash_calls_legs_show_the_customer_to_the_employee_and_the_colleague(
    stack: Stack, phones: Callable[..., TestPhone], audio_dir: Path
) -> None:
    employee, employee_number = extension(stack, phones, consult_merge=True)
    colleague, colleague_number = extension(stack, phones)
    customer = gateway(stack, phones, "carrier-id-customer", inbound={"74952220003": employee_number})
    customer.become(CUSTOMER)
    heard_by_customer, heard_by_employee = audio_dir / "customer.wav", audio_dir / "employee.wav"
    customer.call(f"sip:74952220003@{stack.sip}", play=write_tone(audio_dir / "c.wav", CALLER_TONE, 60),
                  record=heard_by_customer)
    incoming = employee.wait_for("incoming", 10)
    assert user(incoming["remote"]) == CUSTOMER and asserted(incoming) == [CUSTOMER], incoming
    employee.answer(play=write_tone(audio_dir / "e.wav", CALLEE_TONE, 60), record=heard_by_employee)
    customer.wait_state("CONFIRMED")
    time.sleep(3)

    employee.dtmf("#")
    time.sleep(0.5)
    employee.dtmf(f"{colleague_number}#")
    incoming = colleague.wait_for("incoming", 10)
    assert user(incoming["remote"]) == CUSTOMER and asserted(incoming) == [CUSTOMER], incoming
    colleague.reject(486)
    customer.hangup()
    employee.wait_state("DISCONNECTED", 10)
    for phone in (customer, employee):
        phone.wait_for("recorded", 15)
    # Before the hold (both recordings start at the answer), each heard the other.
    heard = {**levels(heard_by_employee, [CALLER_TONE], 0.5, 2.5), **levels(heard_by_customer, [CALLEE_TONE], 0.5, 2.5)}
    assert min(heard.values()) > HEARD_ABOVE_DBFS, heard


def test_a_star_8_invitation_shows_the_inviter(
    stack: Stack, phones: Callable[..., TestPhone], audio_dir: Path
) -> None:
    owner, owner_number = extension(stack, phones)
    guest, guest_number = extension(stack, phones)
    owner.call(f"sip:*8{owner_number}@{stack.sip}", play=write_tone(audio_dir / "o.wav", CALLER_TONE, 60))
    stack.wait_in_conference(str(address.local(owner_number)), 1)
    owner.dtmf(f"*8{guest_number}#")
    incoming = guest.wait_for("incoming", 10)
    assert user(incoming["remote"]) == owner_number and asserted(incoming) == [owner_number], incoming
    heard = audio_dir / "guest.wav"
    guest.answer(record=heard)
    stack.wait_in_conference(str(address.local(owner_number)), 2)
    time.sleep(3)
    guest.hangup()  # its BYE names the number it was shown: the bridge must still know the call
    guest.wait_for("recorded", 15)
    stack.wait_in_conference(str(address.local(owner_number)), 1)
    owner.hangup()
    joined = levels(heard, [CALLER_TONE], *last_seconds(heard, 2.0))
    assert joined[CALLER_TONE] > HEARD_ABOVE_DBFS, joined


def test_a_scheduled_conference_calls_out_with_the_installations_number(
    stack: Stack, phones: Callable[..., TestPhone], outside: tuple[TestPhone, TestPhone], audio_dir: Path
) -> None:
    plain, fixed = outside
    owner, owner_number = extension(stack, phones)
    made = schedule(stack, 3, owner={"number": owner_number, "name": "Owner"},
                    participants=[{"number": f"{PLAIN_PREFIX}0001111"}, {"number": f"{FIXED_PREFIX}0002222"}])
    extension_call, plain_call, fixed_call = (phone.wait_for("incoming", 20) for phone in (owner, plain, fixed))
    for incoming in (extension_call, plain_call):
        assert asserted(incoming) == [INSTALLATION_NUMBER], incoming
    assert user(extension_call["remote"]) == INSTALLATION_NUMBER  # a phone shows the From
    # A trunk with a number of its own shows it instead, in From too.
    assert asserted(fixed_call) == [COMPANY] and user(fixed_call["remote"]) == COMPANY, fixed_call
    heard = audio_dir / "owner.wav"
    owner.answer(play=write_tone(audio_dir / "o.wav", CALLER_TONE, 60), record=heard)
    plain.answer(play=write_tone(audio_dir / "p.wav", CALLEE_TONE, 60))
    fixed.reject(486)
    stack.wait_in_conference(str(address.scheduled(made["code"])), 2)
    time.sleep(3)
    for phone in (owner, plain):
        phone.hangup()
    owner.wait_for("recorded", 15)
    joined = levels(heard, [CALLEE_TONE], *last_seconds(heard, 2.0))
    assert joined[CALLEE_TONE] > HEARD_ABOVE_DBFS, joined
