from __future__ import annotations

from bridge.sip import caller_of, room_number

INVITE = (
    "INVITE sip:1000@127.0.0.1:5080;transport=udp SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK1\r\n"
    'From: "Alice" <sip:alice@example.com>;tag=abc\r\n'
    "To: <sip:1000@127.0.0.1>\r\n\r\n"
)


def test_room_is_the_request_uri_user() -> None:
    assert room_number(INVITE) == "1000"


def test_no_user_no_room() -> None:
    assert room_number("INVITE sip:127.0.0.1:5080 SIP/2.0\r\n") is None


def test_caller_is_the_from_uri_without_name_or_tag() -> None:
    assert caller_of(INVITE) == "sip:alice@example.com"
    assert caller_of("INVITE sip:1@h SIP/2.0\r\nf: sip:bob@h;tag=1\r\n") == "sip:bob@h"
    assert caller_of("INVITE sip:1@h SIP/2.0\r\n") == ""
