"""SRTP as RFC 3711 defines it for AES_CM_128_HMAC_SHA1_80 with SDES keys (RFC 4568), enough for a test
phone to talk and listen through rtpengine: protect and unprotect RTP, no RTCP, no key changes."""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

SUITE = "AES_CM_128_HMAC_SHA1_80"
TAG_BYTES = 10  # HMAC-SHA1 truncated to 80 bits
HEADER_BYTES = 12  # RTP header without CSRCs or extension (what rtpengine and we send)


def _keystream(key: bytes, iv: bytes, length: int) -> bytes:
    encryptor = Cipher(algorithms.AES(key), modes.CTR(iv)).encryptor()
    return encryptor.update(b"\0" * length) + encryptor.finalize()


class Context:
    """One direction's session keys, derived from an SDES `inline:` value (master key || salt)."""

    def __init__(self, inline: str) -> None:
        master = base64.b64decode(inline.split("|", 1)[0])
        key, salt = master[:16], master[16:30]
        self.cipher_key = self._derive(key, salt, 0, 16)
        self.auth_key = self._derive(key, salt, 1, 20)
        self.salt = self._derive(key, salt, 2, 14)
        self.roc = 0  # rollover counter: the number of times the sequence number wrapped
        self.last_seq: int | None = None

    @staticmethod
    def _derive(key: bytes, salt: bytes, label: int, length: int) -> bytes:
        """RFC 3711 4.3.1 with key_derivation_rate 0: AES-CM of (label at bit 48) XOR salt."""
        x = int.from_bytes(salt, "big") ^ (label << 48)
        return _keystream(key, (x << 16).to_bytes(16, "big"), length)

    def _iv(self, ssrc: int, index: int) -> bytes:
        value = (int.from_bytes(self.salt, "big") << 16) ^ (ssrc << 64) ^ (index << 16)
        return value.to_bytes(16, "big")

    def _tag(self, authenticated: bytes, roc: int) -> bytes:
        return hmac.new(self.auth_key, authenticated + struct.pack("!I", roc), hashlib.sha1).digest()[:TAG_BYTES]

    def protect(self, packet: bytes) -> bytes:
        seq, ssrc = struct.unpack("!H", packet[2:4])[0], struct.unpack("!I", packet[8:12])[0]
        if self.last_seq is not None and seq < self.last_seq:
            self.roc += 1
        self.last_seq = seq
        index = (self.roc << 16) | seq
        payload = packet[HEADER_BYTES:]
        stream = _keystream(self.cipher_key, self._iv(ssrc, index), len(payload))
        encrypted = packet[:HEADER_BYTES] + bytes(a ^ b for a, b in zip(payload, stream, strict=True))
        return encrypted + self._tag(encrypted, self.roc)

    def unprotect(self, packet: bytes) -> bytes | None:
        """The RTP packet, or None if its authentication tag is wrong (or it is no SRTP of this key)."""
        if len(packet) < HEADER_BYTES + TAG_BYTES:
            return None
        body, tag = packet[:-TAG_BYTES], packet[-TAG_BYTES:]
        seq, ssrc = struct.unpack("!H", body[2:4])[0], struct.unpack("!I", body[8:12])[0]
        roc = self.roc + 1 if self.last_seq is not None and seq < self.last_seq - 0x8000 else self.roc
        if not hmac.compare_digest(tag, self._tag(body, roc)):
            return None
        self.roc, self.last_seq = roc, seq
        payload = body[HEADER_BYTES:]
        stream = _keystream(self.cipher_key, self._iv(ssrc, (roc << 16) | seq), len(payload))
        return body[:HEADER_BYTES] + bytes(a ^ b for a, b in zip(payload, stream, strict=True))
