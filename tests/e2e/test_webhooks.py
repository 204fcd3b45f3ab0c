"""Signed webhooks on the whole stack: a phone joins and leaves a recorded room, and a receiver on
loopback gets the room's started, joined, left, ended and recording_ready events, each with a valid
signature; a dead receiver (a port nobody listens at) registered first for every event is tried,
retried and recorded as failed, while the call goes on as if it were not there."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from conference.webhooks import EVENT_KINDS
from stack.supervisor import wait_for
from store import live
from tests.support.phone import TestPhone
from tests.support.stack import Stack
from tests.support.webhooks import Receiver, closed_port_url, receiving

ROOM = "4790"
WANTED = ["started", "joined", "left", "ended", "recording_ready"]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving() as running:
        yield running


@pytest.fixture
def endpoints(stack: Stack, receiver: Receiver) -> Iterator[dict[str, dict[str, Any]]]:
    """A dead endpoint for every kind of event, then the receiver's; deleted after the test, so the
    session's stack sends nothing more to them."""
    made = {}
    for name, body in (("dead", {"url": closed_port_url(), "events": list(EVENT_KINDS)}),
                       ("live", {"url": receiver.url, "events": WANTED})):
        status, made[name] = stack.request("POST", "/webhooks", body)
        assert status == 201, made[name]
    yield made
    for endpoint in made.values():
        stack.request("DELETE", f"/webhooks/{endpoint['id']}")


def deliveries(stack: Stack, endpoint: dict[str, Any]) -> list[dict[str, Any]]:
    status, found = stack.request("GET", f"/webhooks/{endpoint['id']}/deliveries")
    assert status == 200, found
    return [d for d in found if d["body"]["room"] == ROOM]


def stream_kinds(stack: Stack) -> list[str]:
    entries: Any = live.connect(stack.config.redis_url).xrange(live.EVENTS)
    return [fields["type"] for _, fields in entries if fields.get("room") == ROOM]


def test_a_receiver_gets_every_event_signed_and_a_dead_one_never_holds_up_the_call(
    stack: Stack, phones: Callable[..., TestPhone], receiver: Receiver, endpoints: dict[str, dict[str, Any]],
) -> None:
    stack.create_room(ROOM, record=True)
    phone = phones("hooked")
    phone.call(stack.room_uri(ROOM))
    phone.wait_state("CONFIRMED")
    stack.wait_in_conference(ROOM, 1)  # joined, whatever the dead endpoint's tries are doing
    assert wait_for(lambda: "joined" in receiver.types(ROOM), timeout=20), receiver.types(ROOM)
    phone.hangup()

    assert wait_for(lambda: sorted(receiver.types(ROOM)) == sorted(WANTED), timeout=60), receiver.types(ROOM)
    assert [r.event["type"] for r in receiver.events() if r.event["room"] == ROOM][:2] == ["started", "joined"]
    secret = endpoints["live"]["secret"]
    assert all(r.signed_by(secret) for r in receiver.events()), [r.headers for r in receiver.events()]
    assert not any(r.signed_by(endpoints["dead"]["secret"]) for r in receiver.events())
    joined = next(r.event for r in receiver.events() if r.event["type"] == "joined")
    assert joined["data"]["present"] == 1 and joined["data"]["caller"].startswith("sip:")
    ready = next(r.event for r in receiver.events() if r.event["type"] == "recording_ready")
    status, recording = stack.request("GET", f"/recordings/{ready['data']['recording']}")
    assert status == 200 and recording["room"] == ROOM, recording
    # What was sent is what the stream holds, each event once.
    assert sorted(receiver.types(ROOM)) == sorted(k for k in stream_kinds(stack) if k in WANTED)
    assert {d["state"] for d in deliveries(stack, endpoints["live"])} == {"delivered"}

    # The dead endpoint's deliveries of the same events: every one tried 3 times ([webhooks] attempts
    # in tests/support/stack.py), each try refused, then failed.
    def dead_states() -> list[str]:
        return [d["state"] for d in deliveries(stack, endpoints["dead"])]
    assert wait_for(lambda: bool(dead_states()) and set(dead_states()) == {"failed"}, timeout=60), dead_states()
    dead = deliveries(stack, endpoints["dead"])
    assert {d["type"] for d in dead} >= set(WANTED)
    assert all(d["attempts"] == 3 and [t["status"] for t in d["tries"]] == [None] * 3 for d in dead), dead
