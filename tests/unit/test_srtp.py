"""The test phones' SRTP (tests/support/srtp.py) against RFC 3711's own key derivation vectors."""

from __future__ import annotations

import base64
import struct

from tests.support.srtp import Context

MASTER_KEY = bytes.fromhex("E1F97A0D3E018BE0D64FA32C06DE4139")
MASTER_SALT = bytes.fromhex("0EC675AD498AFEEBB6960B3AABE6")


def test_session_keys_are_derived_as_rfc_3711_b3_says() -> None:
    context = Context(base64.b64encode(MASTER_KEY + MASTER_SALT).decode())
    assert context.cipher_key.hex().upper() == "C61E7A93744F39EE10734AFE3FF7A087"
    assert context.salt.hex().upper() == "30CBBC08863D8C85D49DB34A9AE1"
    assert context.auth_key.hex().upper() == "CEBE321F6FF7716B6FD4AB49AF256A156D38BAA4"


def test_what_one_side_protects_the_other_reads_and_a_changed_byte_is_refused() -> None:
    inline = base64.b64encode(MASTER_KEY + MASTER_SALT).decode()
    sender, receiver = Context(inline), Context(inline)
    for seq in (65534, 65535, 0, 1):  # across a wrap of the sequence number
        packet = struct.pack("!BBHII", 0x80, 0, seq, seq * 160, 0xCAFE) + bytes(range(160))
        protected = sender.protect(packet)
        assert protected[12:-10] != packet[12:] and len(protected) == len(packet) + 10
        assert receiver.unprotect(protected) == packet
    tampered = bytearray(sender.protect(struct.pack("!BBHII", 0x80, 0, 2, 320, 0xCAFE) + bytes(160)))
    tampered[20] ^= 1
    assert receiver.unprotect(bytes(tampered)) is None
