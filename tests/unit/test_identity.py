"""conference.identity: which identity goes out, for each kind of caller and trunk setting, and
which number a call the bridge places stands for."""

from __future__ import annotations

import pytest

from conference.address import Kind
from conference.extensions import Presentation, TrunkSettings
from conference.identity import Outgoing, claimed, is_number, outgoing, presented
from conference.numberplan import CallerKind
from conference.room import Member, Room, Stage
from conference.rooms import RoomSettings

PLAIN = TrunkSettings("carrier", "192.0.2.1")
FIXED = TrunkSettings("carrier", "192.0.2.1", caller_id="+74950000000")
IN_FROM = TrunkSettings("carrier", "192.0.2.1", present_as=Presentation.PAI_AND_FROM)
FIXED_IN_FROM = TrunkSettings("carrier", "192.0.2.1", caller_id="74950000000", present_as=Presentation.PAI_AND_FROM)


@pytest.mark.parametrize("kind, own, trusted, trunk, expected", [
    # An extension calling out: its own number, in From too where the trunk wants it, or the trunk's number.
    (CallerKind.EXTENSION, "100", False, PLAIN, Outgoing(asserted="100")),
    (CallerKind.EXTENSION, "100", False, IN_FROM, Outgoing(asserted="100", from_number="100")),
    (CallerKind.EXTENSION, "100", False, FIXED, Outgoing(asserted="+74950000000")),
    (CallerKind.EXTENSION, "100", False, FIXED_IN_FROM, Outgoing(asserted="74950000000", from_number="74950000000")),
    # A bridge's call: the number it states.
    (CallerKind.BRIDGE, "74951112233", False, PLAIN, Outgoing(asserted="74951112233")),
    (CallerKind.BRIDGE, "74951112233", False, FIXED, Outgoing(asserted="+74950000000")),
    (CallerKind.BRIDGE, None, False, PLAIN, Outgoing()),
    (CallerKind.BRIDGE, "sip:bridge-1", False, PLAIN, Outgoing()),  # no number: nothing asserted
    # A trunk's call forwarded out: a trusted one keeps its own headers (and no fixed number replaces
    # them); an untrusted one's are removed, and only the trunk's fixed number, if any, is shown.
    (CallerKind.TRUNK, None, True, FIXED, Outgoing(keep_callers=True)),
    (CallerKind.TRUNK, None, False, PLAIN, Outgoing()),
    (CallerKind.TRUNK, None, False, FIXED, Outgoing(asserted="+74950000000")),
    # Whatever number a trunk or a stranger would bring is not theirs to assert.
    (CallerKind.TRUNK, "100", False, PLAIN, Outgoing()),
    (CallerKind.ANONYMOUS, "100", False, PLAIN, Outgoing()),
    (CallerKind.OPERATOR, "100", False, PLAIN, Outgoing()),
])
def test_what_a_trunk_is_told(kind: CallerKind, own: str | None, trusted: bool, trunk: TrunkSettings,
                              expected: Outgoing) -> None:
    assert outgoing(kind, own, trusted, trunk) == expected


@pytest.mark.parametrize("kind, own, trusted, expected", [
    (CallerKind.BRIDGE, "74951112233", False, Outgoing(asserted="74951112233", from_number="74951112233")),
    (CallerKind.BRIDGE, None, False, Outgoing()),
    (CallerKind.EXTENSION, "100", False, Outgoing(asserted="100")),
    (CallerKind.TRUNK, None, True, Outgoing(keep_callers=True)),
    (CallerKind.TRUNK, None, False, Outgoing()),
    (CallerKind.ANONYMOUS, None, False, Outgoing()),
])
def test_what_an_extension_is_told(kind: CallerKind, own: str | None, trusted: bool, expected: Outgoing) -> None:
    assert outgoing(kind, own, trusted, None) == expected


@pytest.mark.parametrize("header, number", [
    ("<sip:74951112233@127.0.0.1:5080>", "74951112233"),
    ('"Bank" <sip:+74951112233@bank.example;user=phone>', "+74951112233"),
    ("sip:100@127.0.0.1", "100"),
    ("<tel:+74951112233>", "+74951112233"),
    ("<SIP:100@host>, <tel:200>", "100"),
    ("<sip:bridge-1@127.0.0.1>", None),
    ("<sip:@127.0.0.1>", None),
    ("<http://100@host>", None),
    ("<sip:" + "1" * 40 + "@host>", None),
    ("<sip:1" + "0" * 300 + "@host>", None),
    ("", None),
    (None, None),
])
def test_the_number_a_p_asserted_identity_names(header: str | None, number: str | None) -> None:
    assert claimed(header) == number


def test_numbers_are_digits_after_an_optional_plus() -> None:
    assert is_number("100") and is_number("+74950000000")
    assert not any(is_number(value) for value in ("", "+", "1 2", "12a", "١٢", "1" * 33, None))


# The bridge -----------------------------------------------------------------------------------

CUSTOMER = Member("c", "sip:74951112233@127.0.0.1:5099", Stage.IN_CONFERENCE)
EMPLOYEE = Member("e", "sip:200@127.0.0.1", Stage.IN_CONFERENCE, extension="200")
STRANGER = Member("s", "sip:anonymous@127.0.0.1", Stage.IN_CONFERENCE)


def call_room(*members: Member, customer: str | None = None, controller: str | None = None) -> Room:
    return Room(RoomSettings("call-x"), members, kind=Kind.CALL, controller_is_caller=customer is None,
                customer=customer, controller=controller)


def test_a_hash_calls_first_leg_shows_the_caller_it_was_made_for() -> None:
    # A customer calling an employee whose "#" works: the employee sees the customer.
    assert presented(call_room(CUSTOMER, customer="c"), None, True, False, "7000") == "74951112233"
    # An employee calling out with "#": the outside sees the employee's extension.
    assert presented(call_room(EMPLOYEE, controller="e"), None, True, False, "7000") == "200"


def test_a_consultation_shows_the_customer() -> None:
    room = call_room(CUSTOMER, EMPLOYEE, customer="c", controller="e")
    assert presented(room, EMPLOYEE, False, False, "7000") == "74951112233"
    # The employee called out: the colleague consulted sees the number the employee is talking to.
    dialled = Member("d", "84951234567", Stage.IN_CONFERENCE)
    room = Room(RoomSettings("call-x"), (EMPLOYEE, dialled), kind=Kind.CALL, controller="e", customer="d")
    assert presented(room, EMPLOYEE, False, False, "7000") == "84951234567"


def test_an_invitation_shows_the_inviter_and_a_schedule_or_an_operator_the_installation() -> None:
    conference = Room(RoomSettings("7100"), (EMPLOYEE, CUSTOMER), kind=Kind.LOCAL, owner="200")
    assert presented(conference, EMPLOYEE, False, False, "7000") == "200"
    assert presented(conference, CUSTOMER, False, False, "7000") == "74951112233"
    assert presented(conference, STRANGER, False, False, "7000") is None  # nobody's number: none shown
    assert presented(conference, EMPLOYEE, False, True, "+74950000000") == "+74950000000"
    scheduled = Room(RoomSettings("conf-1"), kind=Kind.SCHEDULED, owner="200")
    assert presented(scheduled, None, False, False, "74950000000") == "74950000000"
    assert presented(scheduled, None, False, False, "") is None
