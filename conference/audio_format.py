"""What kind of audio an upload holds, judged by its first bytes only (never its name).

Pure: no I/O. The caller reads the head of the file and passes it here.
"""

from __future__ import annotations

from typing import Literal

AudioKind = Literal["wav", "mp3"]

# How many leading bytes sniff() needs to decide.
HEAD_BYTES = 12


def sniff(head: bytes) -> AudioKind | None:
    """ "wav" for a RIFF/WAVE file, "mp3" for an ID3 tag or an MPEG audio frame header, else None."""
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "wav"
    if head[:3] == b"ID3":
        return "mp3"
    if _mpeg_frame_header(head):
        return "mp3"
    return None


def _mpeg_frame_header(head: bytes) -> bool:
    if len(head) < 4 or head[0] != 0xFF or head[1] & 0xE0 != 0xE0:
        return False  # no 11-bit frame sync (0xFFE)
    version = (head[1] >> 3) & 0b11
    layer = (head[1] >> 1) & 0b11
    bitrate = head[2] >> 4
    sample_rate = (head[2] >> 2) & 0b11
    # The reserved values: a sync followed by them is some other binary, not audio.
    return version != 0b01 and layer != 0b00 and bitrate != 0b1111 and sample_rate != 0b11
