"""The empty room a first caller opens, from what the live state holds for it (bridge.redis_state)."""

from __future__ import annotations

from typing import Any

from conference import room as rules
from conference.address import Kind, RoomAddress
from conference.extensions import ExtensionSettings
from conference.rooms import RoomSettings
from conference.schedule import LiveMeeting


def local_conference(projected: dict[str, Any] | None, address: RoomAddress) -> rules.Room | None:
    """An extension's *8 conference (seed 003): a PIN for guests, ending with the owner, names
    spoken instead of plain notices. None: the extension is gone."""
    if projected is None:
        return None
    extension = ExtensionSettings.from_dict(projected)
    settings = RoomSettings(str(address), language=extension.language, user_pin=extension.conference_pin,
                            end_on_admin_exit=extension.conference_end_on_exit, announce_count=False,
                            mute_notifications=not extension.conference_announce_caller_name)
    return rules.Room(settings, kind=Kind.LOCAL, owner=address.id,
                      announce_names=extension.conference_announce_caller_name)


def scheduled_conference(meeting: LiveMeeting, language: str) -> rules.Room:
    """A scheduled conference (seed 001): greeting on answer, music until the owner; warned of its end,
    which a moderator's *98 moves on by its auto-extension step (or EXTEND_MINUTES)."""
    settings = RoomSettings(str(meeting.address), language=language, greeting_sound_id=meeting.greeting_sound_id,
                            wait_for_admin=True, music_on_hold=True, announce_count=False,
                            max_participants=meeting.max_participants)
    return rules.Room(settings, kind=Kind.SCHEDULED, owner=meeting.owner, locked=meeting.locked, ends_at=meeting.end,
                      extend_minutes=meeting.auto_extend or rules.EXTEND_MINUTES)
