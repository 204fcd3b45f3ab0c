"""The empty rooms a bridge node opens for local and scheduled conferences (bridge.templates)."""

from __future__ import annotations

from bridge.templates import local_conference, scheduled_conference
from conference import address
from conference.extensions import ExtensionSettings
from conference.room import Kind
from conference.schedule import LiveMeeting


def test_a_local_conference_follows_its_owners_extension() -> None:
    owner = ExtensionSettings("201", "ha1", language="ru", conference_pin="pbkdf2_sha256$1$s$00",
                              conference_end_on_exit=True, conference_announce_caller_name=True)
    room = local_conference(owner.as_dict(), address.local("201"))
    assert room is not None
    assert (room.kind, room.owner, room.announce_names) == (Kind.LOCAL, "201", True)
    settings = room.settings
    assert (settings.number, settings.language, settings.user_pin) == ("*8201", "ru", "pbkdf2_sha256$1$s$00")
    assert settings.end_on_admin_exit and not settings.announce_count and not settings.mute_notifications


def test_a_local_conference_of_an_extension_that_is_gone_does_not_exist() -> None:
    assert local_conference(None, address.local("201")) is None


def test_a_scheduled_conference_greets_and_plays_music_until_its_owner() -> None:
    meeting = LiveMeeting("4242", start=0.0, end=3600.0, owner="201", greeting_sound_id=7, max_participants=5,
                          locked=True)
    room = scheduled_conference(meeting, "de")
    assert (room.kind, room.owner, room.locked) == (Kind.SCHEDULED, "201", True)
    settings = room.settings
    assert (settings.number, settings.language, settings.greeting_sound_id, settings.max_participants) == (
        str(address.scheduled("4242")), "de", 7, 5)
    assert settings.wait_for_admin and settings.music_on_hold and not settings.announce_count
