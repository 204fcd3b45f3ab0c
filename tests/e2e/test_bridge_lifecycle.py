"""The bridge drops dead legs, and on shutdown hangs up cleanly and leaves the registry."""

from __future__ import annotations

from collections.abc import Callable

from store import live
from tests.support.phone import TestPhone
from tests.support.sip import sipp
from tests.support.stack import E2E_RTP_TIMEOUT, Stack


def test_a_leg_without_rtp_is_hung_up(stack: Stack) -> None:
    stack.create_room("3500")
    # The scenario only succeeds if the bridge sends BYE; sipp's own timeout fails it otherwise.
    done = sipp(stack.sip, "invite_silent", "-s", "3500", timeout=int(E2E_RTP_TIMEOUT) + 15)
    assert done.returncode == 0, done.stdout[-1500:]
    assert "no RTP" in stack.log("bridge")


def test_stopping_the_bridge_says_bye_and_deregisters(stack: Stack, phones: Callable[[str], TestPhone]) -> None:
    stack.create_room("3600")
    phone = phones("stays")
    phone.call(stack.room_uri("3600"))
    phone.wait_state("CONFIRMED")
    client = live.connect(stack.config.redis_url)
    assert [n.id for n in live.live_nodes(client)] == [stack.config.bridge.id]

    assert stack.supervisor.stop_one("bridge") == 0
    ended = phone.wait_state("DISCONNECTED", timeout=10)
    assert ended["code"] == 200  # a BYE from the bridge, not a timeout
    assert live.live_nodes(client) == []
    assert live.affinity(client, "3600") is None

    stack.supervisor.start_one("bridge")
    again = phones("again")
    again.call(stack.room_uri("3600"))
    assert again.wait_state("CONFIRMED")["code"] == 200
