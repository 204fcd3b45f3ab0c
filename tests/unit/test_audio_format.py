"""conference.audio_format.sniff: audio kind by content, never by name."""

from __future__ import annotations

import pytest

from conference.audio_format import HEAD_BYTES, sniff

# MPEG-1 Layer III, 128 kbit/s, 44.1 kHz: the commonest frame header.
MP3_FRAME = bytes([0xFF, 0xFB, 0x90, 0x64])


def test_wav_is_riff_wave() -> None:
    assert sniff(b"RIFF\x24\x08\x00\x00WAVEfmt ") == "wav"


def test_mp3_with_id3_tag_or_bare_frame() -> None:
    assert sniff(b"ID3\x04\x00\x00\x00\x00\x00\x00\x00\x00") == "mp3"
    assert sniff(MP3_FRAME + bytes(8)) == "mp3"
    assert sniff(bytes([0xFF, 0xF3, 0x50, 0xC4])) == "mp3"  # MPEG-2 Layer III


@pytest.mark.parametrize("head", [
    b"", b"RIFF", b"RIFF\x00\x00\x00\x00AVI LIST", b"hello, world, this is text",
    b"RIFF\x00\x00\x00\x00WAV", b"\x00\x00\x00\x18ftypM4A ", b"OggS\x00\x02\x00\x00", b"fLaC\x00\x00\x00\x22",
    bytes([0xFF, 0xE0]), bytes([0xFF, 0xD8, 0xFF, 0xE0]),  # too short; JPEG
    bytes([0xFF, 0xEB, 0x90, 0x64]),  # reserved MPEG version
    bytes([0xFF, 0xF9, 0x90, 0x64]),  # reserved layer
    bytes([0xFF, 0xFB, 0xF0, 0x64]),  # bad bitrate index
    bytes([0xFF, 0xFB, 0x9C, 0x64]),  # reserved sample rate
])
def test_anything_else_is_refused(head: bytes) -> None:
    assert sniff(head) is None


def test_the_name_plays_no_part_only_the_head() -> None:
    # A head of HEAD_BYTES bytes is enough to decide.
    assert HEAD_BYTES >= 12 and sniff((b"RIFF\x00\x00\x00\x00WAVE" + b"junk" * 10)[:HEAD_BYTES]) == "wav"
