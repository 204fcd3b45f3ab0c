"""The SIP edge as an attacker meets it: forged in-dialog requests, floods, scanners, password
guessing, digest replay, registrations pointing at kamconf (issue 9); the ways to a carrier's
gateway are tests/e2e/test_toll_fraud.py's.

The `walls` stack (conftest), since bans would disturb the shared one. Every test process runs on
127.0.0.1, which is Kamailio's and the bridge's own address and so never banned; attackers and their
victims send from other loopback addresses (rawsip.fresh_source), which pike and the ban list treat
as strangers.
"""

from __future__ import annotations

import subprocess
import time
import uuid
from pathlib import Path

import pytest

from stack.supervisor import wait_for
from tests.support.ports import free_port
from tests.support.rawsip import (
    Call,
    RawUA,
    Reply,
    authenticate,
    fresh_source,
    join,
    new_extension,
    parse,
    request,
    rtpengine_knows,
    sdp,
    waiting,
)
from tests.support.sip import SCENARIOS, sipp
from tests.support.stack import WALLS_AUTH_FAILURES as AUTH_FAILURES
from tests.support.stack import WALLS_CALLS_PER_SOURCE as CALLS_PER_SOURCE
from tests.support.stack import WALLS_KEEPALIVE as KEEPALIVE
from tests.support.stack import Stack, running_stack


def test_in_dialog_requests_pass_only_for_the_parties_of_a_known_dialog(walls: Stack) -> None:
    walls.create_room("6100")
    caller = RawUA(fresh_source(), walls.sip)
    call = join(walls, caller, "6100")
    stranger = RawUA(fresh_source(), walls.sip)
    for as_callee in (False, True):  # the tags of either party are not enough
        reply = stranger.final(call.in_dialog("BYE", 2, ua=stranger, as_callee=as_callee))
        assert reply is not None and reply.code == 403, reply
    reply = caller.final(call.in_dialog("INFO", 3))  # the caller itself still reaches the bridge
    assert reply is not None and reply.code != 403 and reply.header("server") != "kamconf", reply
    reply = caller.final(call.in_dialog("BYE", 4))
    assert reply is not None and reply.code == 200, reply
    assert wait_for(lambda: not rtpengine_knows(walls, call.call_id), timeout=5)
    # An ended dialog is no longer known: only a BYE with our Route cookie passes (as after a restart).
    reply = caller.final(call.in_dialog("INFO", 5))
    assert reply is not None and reply.code == 404 and reply.header("server") == "kamconf", reply


def test_one_address_has_only_so_many_calls_up_at_once(walls: Stack) -> None:
    walls.create_room("6150")
    caller = RawUA(fresh_source(), walls.sip)
    calls = [join(walls, caller, "6150") for _ in range(CALLS_PER_SOURCE)]
    refused = caller.final(request(caller, "INVITE", walls.room_uri("6150"), user="caller", call_id=uuid.uuid4().hex,
                                   tag=uuid.uuid4().hex[:8], to_user="6150", body=sdp(caller)))
    assert refused is not None and refused.code == 503 and refused.header("server") == "kamconf", refused
    assert join(walls, RawUA(fresh_source(), walls.sip), "6150").call_id  # another address is not held back
    reply = caller.final(calls[0].in_dialog("BYE", 2))
    assert reply is not None and reply.code == 200, reply
    assert join(walls, caller, "6150").call_id  # one ended: one more may start


def test_a_room_takes_only_so_many_anonymous_callers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAMCONF_EDGE_ANONYMOUS_PER_ROOM", "2")
    with running_stack(tmp_path / "var") as stack:
        stack.create_room("6160")
        stack.create_room("6161")
        calls = [join(stack, RawUA(fresh_source(), stack.sip), "6160") for _ in range(2)]
        stranger = RawUA(fresh_source(), stack.sip)
        refused = stranger.final(request(stranger, "INVITE", stack.room_uri("6160"), user="caller",
                                         call_id=uuid.uuid4().hex, tag=uuid.uuid4().hex[:8], to_user="6160",
                                         body=sdp(stranger)))
        assert refused is not None and refused.code == 486 and refused.header("server") == "kamconf", refused
        assert join(stack, stranger, "6161").call_id  # another room is not full of them
        number, password = new_extension(stack)
        employee = RawUA(fresh_source(), stack.sip)
        answer = employee.final(authenticate(employee, "INVITE", stack.room_uri("6160"), number, password,
                                             body=sdp(employee)), timeout=10)
        assert answer is not None and answer.code == 200, answer  # an extension is no stranger
        reply = calls[0].ua.final(calls[0].in_dialog("BYE", 2))
        assert reply is not None and reply.code == 200, reply
        assert join(stack, RawUA(fresh_source(), stack.sip), "6160").call_id  # one left: one more may come


def options(ua: RawUA, *extra: str) -> str:
    return request(ua, "OPTIONS", f"sip:{ua.target[0]}:{ua.target[1]}", user="probe", call_id=uuid.uuid4().hex,
                   tag=uuid.uuid4().hex[:8], extra=extra)


def answered_options(source_ip: str, target: str) -> bool:
    ua = RawUA(source_ip, target)
    try:
        reply = ua.final(options(ua), timeout=2)
        return reply is not None and reply.code == 200
    finally:
        ua.close()


def test_a_flood_is_banned_within_two_seconds_while_others_still_join(walls: Stack, tmp_path: Path) -> None:
    walls.create_room("6200")
    flooder = fresh_source()
    started = time.monotonic()
    flood = subprocess.Popen(
        ["sipp", walls.sip, "-sf", str(SCENARIOS / "options.xml"), "-i", flooder, "-p", str(free_port("udp")),
         "-r", "200", "-m", "1000", "-recv_timeout", "500", "-timeout", "20s", "-nostdin"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tmp_path)
    try:
        assert wait_for(lambda: f"flood from {flooder}: banned" in walls.log("kamailio"), timeout=10)
        banned_after = time.monotonic() - started
        # While the flood goes on: a caller joins a room, another stranger is answered, the flooder is not.
        done = sipp(walls.sip, "invite_bye", "-s", "6200", "-set", "pt", "0", "-set", "codec", "PCMU/8000",
                    cwd=tmp_path)
        assert done.returncode == 0, done.stdout + done.stderr
        assert answered_options(fresh_source(), walls.sip)
        assert flood.poll() is None, "the flood ended before the checks: raise its length"
        assert not answered_options(flooder, walls.sip)
    finally:
        flood.kill()
        flood.wait(timeout=10)
    print(f"flood from {flooder} at 200 requests/s banned {banned_after:.2f} s after sipp started")
    assert banned_after < 2.5


def test_scanners_are_dropped_and_malformed_or_oversized_requests_refused(walls: Stack) -> None:
    ua = RawUA(fresh_source(), walls.sip)
    for agent in ("friendly-scanner", "SIPVicious 0.3.4", "sipcli/v1.8", "VaxSIPUserAgent/3.1"):
        assert ua.final(options(ua, f"User-Agent: {agent}"), timeout=1) is None, agent
    reply = ua.final(options(ua, "User-Agent: Linphone/5.2"))  # dropped, not banned
    assert reply is not None and reply.code == 200
    reply = ua.final(options(ua, "X-Padding: " + "a" * 17000))
    assert reply is not None and reply.code == 513
    long_uri = request(ua, "OPTIONS", f"sip:{'1' * 600}@{walls.sip}", user="probe", call_id=uuid.uuid4().hex,
                       tag="t")
    reply = ua.final(long_uri)
    assert reply is not None and reply.code == 414
    reply = ua.final(options(ua, "Proxy-Require: com.example.unknown"))  # sanity: an extension we lack
    assert reply is not None and reply.code == 420


def test_register_tells_nobody_which_extensions_exist(walls: Stack) -> None:
    number, _ = new_extension(walls)
    ua = RawUA(fresh_source(), walls.sip)

    def challenge(user: str) -> tuple[str, str]:
        reply = ua.final(request(ua, "REGISTER", f"sip:{walls.sip}", user=user, call_id=uuid.uuid4().hex, tag="t"))
        assert reply is not None
        status_line = reply.text.split("\r\n", 1)[0]
        header = reply.header("www-authenticate")
        nonce = header.split('nonce="', 1)[1].split('"', 1)[0]
        return status_line, header.replace(nonce, "N")

    known, unknown = challenge(number), challenge("999999")
    assert known == unknown and known[0] == "SIP/2.0 401 Unauthorized", (known, unknown)


def test_wrong_passwords_ban_their_source(walls: Stack) -> None:
    number, password = new_extension(walls)
    guesser = RawUA(fresh_source(), walls.sip)
    uri = f"sip:{walls.sip}"
    for _ in range(AUTH_FAILURES - 1):
        reply = guesser.final(authenticate(guesser, "REGISTER", uri, number, "guess-" + uuid.uuid4().hex[:6]))
        assert reply is not None and reply.code == 401, reply
    assert guesser.final(authenticate(guesser, "REGISTER", uri, number, "one-guess-too-many"), timeout=2) is None
    assert not answered_options(guesser.ip, walls.sip)  # nothing from there is answered any more
    owner = RawUA(fresh_source(), walls.sip)
    reply = owner.final(authenticate(owner, "REGISTER", uri, number, password))
    assert reply is not None and reply.code == 200, reply


def test_a_captured_authenticated_invite_cannot_be_replayed(walls: Stack) -> None:
    number, password = new_extension(walls)
    walls.create_room("6300")
    ua = RawUA(fresh_source(), walls.sip)
    signed = authenticate(ua, "INVITE", walls.room_uri("6300"), number, password, body=sdp(ua))
    call_id = signed.split("Call-ID: ", 1)[1].split("\r\n", 1)[0]
    tag = signed.split(";tag=", 1)[1].split("\r\n", 1)[0]
    call = Call.answered(ua, ua.final(signed, timeout=10), call_id, tag)
    reply = ua.final(call.in_dialog("BYE", 3))
    assert reply is not None and reply.code == 200, reply
    # The attacker sends the captured INVITE again, with a new branch so it is no retransmission.
    branch = signed.split("branch=", 1)[1].split(";", 1)[0]
    for source in (ua, RawUA(fresh_source(), walls.sip)):
        reply = source.final(signed.replace(branch, f"z9hG4bK{uuid.uuid4().hex[:12]}"))
        assert reply is not None and reply.code == 407, reply
    assert not rtpengine_knows(walls, call_id)


def test_no_registration_points_at_kamconf_nor_beyond_max_contacts(walls: Stack) -> None:
    # A Contact at a trunk's gateway is refused too: tests/e2e/test_toll_fraud.py, whose gateway sees nothing.
    number, password = new_extension(walls)
    ua = RawUA(fresh_source(), walls.sip)
    uri = f"sip:{walls.sip}"

    def register(contact: str) -> int:
        reply = ua.final(authenticate(ua, "REGISTER", uri, number, password, contact=contact))
        assert reply is not None
        return reply.code

    bridge = walls.config.bridge
    for forbidden in (f"sip:{number}@{walls.sip}", f"sip:{number}@{bridge.address}:{bridge.sip_port};transport=udp"):
        assert register(forbidden) == 403, forbidden
    devices = [f"sip:{number}@{ua.ip}:{7000 + n}" for n in range(walls.config.edge.max_contacts + 1)]
    assert [register(device) for device in devices[:-1]] == [200] * walls.config.edge.max_contacts
    assert register(devices[-1]) == 503  # registrar: "Too many registered contacts"


def answer(ua: RawUA, invite: Reply, user: str) -> None:
    """Answer a relayed INVITE with 200 and SDP, as a phone would."""
    copied = [f"{name.title()}: {value}" for name, value in invite.headers
              if name in ("via", "record-route", "from", "call-id", "cseq")]
    body = sdp(ua)
    ua.send("\r\n".join(["SIP/2.0 200 OK", *copied, f"To: {invite.header('to')};tag={uuid.uuid4().hex[:8]}",
                          f"Contact: <sip:{user}@{ua.ip}:{ua.port}>", "Content-Type: application/sdp",
                          f"Content-Length: {len(body)}"]) + "\r\n\r\n" + body)


def received_bye(ua: RawUA) -> bool:
    """Whether a BYE has arrived (keepalive OPTIONS, unanswered, are passed over)."""
    while (data := waiting(ua.sock)) is not None:
        if data.startswith(b"BYE "):
            return True
    return False


def test_a_call_whose_sides_vanished_is_ended_with_a_bye_to_both(walls: Stack) -> None:
    (caller_number, caller_password), (callee_number, callee_password) = new_extension(walls), new_extension(walls)
    caller, callee = RawUA(fresh_source(), walls.sip), RawUA(fresh_source(), walls.sip)
    reply = callee.final(authenticate(callee, "REGISTER", f"sip:{walls.sip}", callee_number, callee_password))
    assert reply is not None and reply.code == 200, reply
    signed = authenticate(caller, "INVITE", f"sip:{callee_number}@{walls.sip}", caller_number, caller_password,
                          body=sdp(caller))
    caller.send(signed)
    callee.sock.settimeout(5)
    invite = parse(callee.sock.recv(65535))
    answer(callee, invite, callee_number)
    call_id = invite.header("call-id")
    tag = invite.header("from").rpartition("tag=")[2]
    Call.answered(caller, caller.wait_final(), call_id, tag)
    # Neither side answers the keepalive OPTIONS: after ka_interval (+ up to 10 s timer steps), the
    # 408 and 10 s more, Kamailio ends the dialog and tells both.
    assert wait_for(lambda: received_bye(caller), timeout=KEEPALIVE + 40), "no BYE to the caller"
    assert wait_for(lambda: received_bye(callee), timeout=5), "no BYE to the callee"
