"""What Kamailio + KEMI answer to every kind of request, checked with sipp and raw SIP."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from conference.placement import NodeStatus
from stack.supervisor import wait_for
from store import live
from tests.support import rtpengine
from tests.support.phone import TestPhone
from tests.support.ports import free_port
from tests.support.sip import SCENARIOS, final_response, invite, sipp
from tests.support.stack import Stack

PCMU = ("-set", "pt", "0", "-set", "codec", "PCMU/8000")


def rtpengine_knows(stack: Stack, call_id: str) -> bool:
    reply = rtpengine.query(stack.config.rtpengine.ng_address, stack.config.rtpengine.ng_port, call_id)
    return reply.get("result") == "ok"


def test_options_is_answered(stack: Stack) -> None:
    done = sipp(stack.sip, "options")
    assert done.returncode == 0, done.stdout + done.stderr


def test_unknown_number_gets_404(stack: Stack) -> None:
    done = sipp(stack.sip, "invite_unknown", "-s", "5550000")
    assert done.returncode == 0, done.stdout + done.stderr


def test_join_then_bye_releases_the_media_anchor(stack: Stack) -> None:
    stack.create_room("3200")
    done = sipp(stack.sip, "invite_bye", "-s", "3200", "-cid_str", "bye-test-%u", *PCMU)
    assert done.returncode == 0, done.stdout + done.stderr
    assert not rtpengine_knows(stack, "bye-test-1")


def test_a_phone_offering_only_opus_is_transcoded_by_rtpengine(stack: Stack, tmp_path: Path) -> None:
    stack.create_room("3210")
    done = sipp(stack.sip, "invite_bye", "-s", "3210", "-set", "pt", "111", "-set", "codec", "opus/48000/2",
                "-trace_msg", "-message_file", str(tmp_path / "messages.log"))
    assert done.returncode == 0, done.stdout + done.stderr
    answer = (tmp_path / "messages.log").read_text().split("SIP/2.0 200 OK", 1)[1]
    assert "a=rtpmap:111 opus/48000/2" in answer  # the phone keeps its codec; the bridge got G.711


@pytest.fixture
def ringing_node(stack: Stack) -> Iterator[NodeStatus]:
    """A sipp UAS that rings and never answers, registered as the bridge node of room 3300."""
    port = free_port("udp")
    uas = subprocess.Popen(
        ["sipp", "-sf", str(SCENARIOS / "uas_ringing.xml"), "-i", "127.0.0.1", "-p", str(port),
         "-m", "1", "-nostdin", "-timeout", "30s"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    client = live.connect(stack.config.redis_url)
    node = NodeStatus("ringing-node", "127.0.0.1", port, capacity=10, load=100)
    live.heartbeat(client, node, ttl=60)
    live.claim_affinity(client, "3300", node.id, live.affinity(client, "3300"))
    yield node
    live.deregister(client, node.id)
    live.release_affinity(client, "3300", node.id)
    uas.wait(timeout=30)
    assert uas.returncode == 0, uas.stdout.read() if uas.stdout else ""


def test_cancel_while_ringing(stack: Stack, ringing_node: NodeStatus) -> None:
    stack.create_room("3300")
    done = sipp(stack.sip, "invite_cancel", "-s", "3300", "-cid_str", "cancel-test-%u")
    assert done.returncode == 0, done.stdout + done.stderr
    assert not rtpengine_knows(stack, "cancel-test-1")


def test_loop_gets_483(stack: Stack) -> None:
    code = final_response(stack.sip, invite(stack.sip, "3100", max_forwards=0))
    assert code == 483


def test_malformed_request_gets_400(stack: Stack) -> None:
    code = final_response(stack.sip, invite(stack.sip, "3100", cseq="x INVITE"))
    assert code == 400


def test_redis_outage_gets_a_quick_503_then_recovers(stack: Stack, phones: Callable[..., TestPhone]) -> None:
    stack.create_room("3400")
    redis_pid = stack.supervisor.procs["redis"].pid
    os.kill(redis_pid, signal.SIGSTOP)  # hung, not refusing: the harder case
    try:
        # Redis stays stopped until the answer arrives: a 503 here proves KEMI did not hang on it.
        code = final_response(stack.sip, invite(stack.sip, "3400"))
    finally:
        os.kill(redis_pid, signal.SIGCONT)
    assert code == 503

    phone = phones("after-outage")
    phone.call(stack.room_uri("3400"))
    assert phone.wait_state("CONFIRMED")["code"] == 200


def test_dtmf_reaches_the_bridge_as_rfc2833_and_as_sip_info(stack: Stack, phones: Callable[..., TestPhone]) -> None:
    stack.create_room("3900")
    phone = phones("keys")
    phone.call(stack.room_uri("3900"))
    phone.wait_state("CONFIRMED")
    phone.dtmf("7", method="rfc2833")  # in the media, through rtpengine
    phone.dtmf("9", method="info")  # in-dialog INFO, routed by record-route
    assert wait_for(lambda: "pressed 7 (rfc2833)" in stack.log("bridge") and "pressed 9 (info)" in stack.log("bridge"),
                    timeout=10), stack.log("bridge")[-2000:]
