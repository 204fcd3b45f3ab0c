"""bridge.rooms.LiveRoom carrying out the moderator actions of issue 14 (item 3) against fakes of
bridge.edge: mute_all, a sound to one participant, whisper links and events, a paused recording."""

from __future__ import annotations

from bridge.rooms import LiveRoom
from conference.mixing import DRAIN
from conference.rooms import hash_pin
from tests.unit.fake_edge import Bridge, FakeLeg
from tests.unit.test_bridge_rooms import enter_with_pin, open_room


def meeting(bridge: Bridge) -> tuple[LiveRoom, FakeLeg, FakeLeg, FakeLeg]:
    """A moderator, a second moderator and a participant, all in."""
    room = open_room(bridge, admin_pin=hash_pin("9"), user_pin=hash_pin("1"), mute_notifications=True)
    mod = enter_with_pin(bridge, room, "sip:mod@example.com", "9")
    second = enter_with_pin(bridge, room, "sip:second@example.com", "9")
    user = enter_with_pin(bridge, room, "sip:user@example.com", "1")
    return room, mod, second, user


def test_mute_all_mutes_the_participant_and_leaves_the_second_moderator_in_the_mix() -> None:
    bridge = Bridge()
    room, mod, second, user = meeting(bridge)
    room.command("mute_all")
    assert (second.participant_id, mod.participant_id) in bridge.mixer.links
    assert {dst for src, dst in bridge.mixer.links if src == user.participant_id} == {DRAIN}  # read, unheard
    assert bridge.live.kinds("100")[-1] == "muted"
    room.command("unmute_all")
    assert (user.participant_id, mod.participant_id) in bridge.mixer.links


def test_a_sound_to_one_participant_is_played_into_its_call_alone() -> None:
    bridge = Bridge()
    room, mod, _, user = meeting(bridge)
    heard_before = len(bridge.mixer.heard(mod.participant_id))
    room.command("play", user.participant_id, "7")
    assert bridge.mixer.heard(user.participant_id)[-1] == ("sound:7",)
    assert len(bridge.mixer.heard(mod.participant_id)) == heard_before


def test_a_whisper_links_the_moderator_to_its_target_only_and_is_reported() -> None:
    bridge = Bridge()
    room, mod, second, user = meeting(bridge)
    m, s, u = mod.participant_id, second.participant_id, user.participant_id
    room.command("whisper", u, m)
    assert {dst for src, dst in bridge.mixer.links if src == m} == {u}
    assert {(s, m), (u, m)} <= bridge.mixer.links  # it still hears the room
    kind, _, fields = bridge.live.events[-1]
    assert (kind, fields["participant"], fields["to"]) == ("whisper_started", m, u)
    room.command("stop_whisper", u)
    assert {dst for src, dst in bridge.mixer.links if src == m} == {s, u}
    assert bridge.live.kinds("100")[-1] == "whisper_stopped"


def test_a_paused_recording_records_nobody_until_resumed_in_the_same_file() -> None:
    bridge = Bridge()
    room, *_ = meeting(bridge)
    room.command("start_recording")
    [recording] = bridge.mixer.recordings
    assert len(recording.recorded) == 3
    room.command("pause_recording")
    assert recording.paused and recording.recorded == {} and bridge.live.kinds("100")[-1] == "recording_paused"
    room.command("resume_recording")
    assert len(recording.recorded) == 3 and bridge.live.kinds("100")[-1] == "recording_resumed"
    assert bridge.mixer.recordings == [recording] and not recording.closed


def test_the_recording_keeps_what_the_room_hears_and_its_time() -> None:
    bridge = Bridge()
    room, mod, second, user = meeting(bridge)
    room.command("start_recording")
    [recording] = bridge.mixer.recordings
    m, s, u = mod.participant_id, second.participant_id, user.participant_id
    assert set(recording.recorded) == {m, s, u} and recording.clocked
    room.command("mute", u)  # a muted participant's microphone is not recorded
    room.command("whisper", s, m)  # nor a whisper
    assert set(recording.recorded) == {s}
    room.command("mute_all")
    room.command("stop_whisper", s)
    assert set(recording.recorded) == {m, s}
    room.command("pause_recording")  # nothing at all, not even the silence that keeps the time
    assert recording.recorded == {} and not recording.clocked
    room.command("resume_recording")
    assert set(recording.recorded) == {m, s} and recording.clocked
