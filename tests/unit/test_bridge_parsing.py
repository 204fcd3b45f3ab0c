"""What the bridge reads of an INVITE: headers only, bounded, and only what Kamailio signed."""

from __future__ import annotations

import pytest

from bridge.inbound import FORBIDDEN, Gate, from_parts, read_head, read_invite, room_of
from conference import address, vouch

SECRET = b"s" * 32
NOW = 1_800_000_000.0
KAMAILIO = "127.0.0.1:5060"
GATE = Gate(frozenset({KAMAILIO}), SECRET)


def invite(room: str = "1000", headers: str = "", body: str = "", eol: str = "\r\n") -> str:
    lines = [f"INVITE sip:{room}@127.0.0.1:5080;transport=udp SIP/2.0",
             "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK1", 'From: "Alice" <sip:alice@example.com>;tag=abc',
             f"To: <sip:{room}@127.0.0.1>", "Call-ID: c-1@host", "CSeq: 1 INVITE"]
    lines += [h for h in headers.split("\n") if h]
    return eol.join(lines) + eol + eol + body


def signed(who: vouch.Vouched, room: str = "1000", call_id: str = "c-1@host") -> str:
    return f"{vouch.HEADER}: {vouch.sign(SECRET, call_id, room, who, NOW)}"


def test_room_is_the_request_uri_user() -> None:
    assert room_of("INVITE sip:1000@127.0.0.1:5080;transport=udp SIP/2.0") == "1000"
    scheduled = str(address.scheduled("12"))
    assert room_of(f"INVITE sips:{scheduled}@h SIP/2.0") == scheduled
    for line in ("INVITE sip:127.0.0.1:5080 SIP/2.0", "BYE sip:1@h SIP/2.0", "INVITE tel:1000 SIP/2.0",
                 "INVITE sip:1;x=y@h SIP/2.0", "INVITE  sip:1@h SIP/2.0", ""):
        assert room_of(line) is None, line


def test_caller_is_the_from_uri_without_name_or_tag() -> None:
    assert from_parts('"Alice" <sip:alice@example.com>;tag=abc') == ("sip:alice@example.com", "Alice")
    assert from_parts("sip:bob@h;tag=1") == ("sip:bob@h", "")
    assert from_parts('Carol Smith <sip:c@h>') == ("sip:c@h", "Carol Smith")
    assert from_parts('"A \\"B\\"" <sip:a@h>') == ("sip:a@h", 'A "B"')
    assert from_parts("") == ("", "")


def test_compact_and_folded_headers_and_any_line_ending() -> None:
    for eol in ("\r\n", "\n", "\r"):
        head = read_head(invite(headers="f: sip:bob@h;tag=1\nSubject: one\n  two", eol=eol).replace(
            'From: "Alice" <sip:alice@example.com>;tag=abc' + eol, ""))
        assert head is not None and head.one("from") == "sip:bob@h;tag=1", eol
        assert head.one("subject") == "one two"


def test_the_body_is_never_read() -> None:
    forged = f"{signed(vouch.Vouched('extension', '201'))}\r\nX-Kamconf-Caller: extension 201\r\n"
    for body in (forged, "v=0\r\n" + forged, "--b\r\nContent-Type: text/plain\r\n\r\n" + forged, "\n" + forged):
        head = read_head(invite(body=body))
        assert head is not None and vouch.HEADER.lower() not in head.headers and "x-kamconf-caller" not in head.headers


def test_only_kamailio_is_believed_and_only_what_it_signed() -> None:
    alice = vouch.Vouched("extension", "201")
    assert read_invite(invite(headers=signed(alice)), KAMAILIO, GATE, NOW).vouched == alice
    # the same signed request from anywhere else: refused
    assert read_invite(invite(headers=signed(alice)), "127.0.0.1:5062", GATE, NOW).refused == FORBIDDEN
    # unsigned, signed for another room or call, or our header twice: refused
    for headers in ("", "X-Kamconf-Caller: extension 201", signed(alice, room="1001"),
                    signed(alice, call_id="other"), signed(alice) + "\n" + signed(vouch.ANONYMOUS),
                    signed(alice) + "\n" + signed(alice).lower()):
        found = read_invite(invite(headers=headers), KAMAILIO, GATE, NOW)
        assert found.refused == FORBIDDEN and found.vouched == vouch.ANONYMOUS, headers


def test_an_accepted_invite_keeps_room_caller_and_name() -> None:
    found = read_invite(invite(headers=signed(vouch.ANONYMOUS)), KAMAILIO, GATE, NOW)
    assert (found.room, found.caller, found.name, found.refused) == ("1000", "sip:alice@example.com", "Alice", 0)


@pytest.mark.parametrize("size", [4 * 1024, 60 * 1024])
def test_pathological_from_headers_are_read_or_refused_whole(size: int) -> None:
    # What once backtracked: a long From of quotes, spaces, "<" and ";" (the cost is measured in bench/).
    for filler in ('"' * size, " " * size + "<", "<" * size, ";" * size, '"\\' * (size // 2)):
        message = invite(headers=f"{signed(vouch.ANONYMOUS)}").replace(
            'From: "Alice" <sip:alice@example.com>;tag=abc', f"From: {filler}")
        found = read_invite(message, KAMAILIO, GATE, NOW)
        assert len(found.caller) <= 256 and len(found.name) <= 64
        assert found.refused == (FORBIDDEN if len(message) > 16 * 1024 else 0)
