"""A room's orchestration (bridge.rooms.LiveRoom) against fakes of bridge.edge: what it plays,
links, publishes, dials and hangs up as conference.room decides. No PJSIP, no Redis."""

from __future__ import annotations

from typing import Any

from bridge.edge import DialRequest, Rights
from bridge.rooms import LiveRoom
from conference import address, billing
from conference.mixing import DRAIN, MUSIC, music
from conference.room import MAX_RINGING, OPERATOR, SILENCE, Room
from conference.rooms import RoomSettings, hash_pin
from tests.unit.fake_edge import Bridge, FakeLeg

NOW = 1000.0  # monotonic, for the keypad


def open_room(bridge: Bridge, **settings: Any) -> LiveRoom:
    return bridge.rooms.open(address.room("100"), Room(RoomSettings("100", announce_count=False, **settings)))


def arrive(bridge: Bridge, room: LiveRoom, caller: str, extension: str | None = None) -> FakeLeg:
    call = FakeLeg(caller, room=room.number, extension=extension)
    room.arrive(call, room.state.settings, locked_out=False)
    return call


def finish_prompt(bridge: Bridge, room: LiveRoom, call: FakeLeg) -> None:
    room.prompt_ended(bridge.mixer.last(call.participant_id))


def press(room: LiveRoom, call: FakeLeg, digits: str, now: float = NOW) -> None:
    for digit in digits:
        room.digit(call, digit, "rfc2833", now)


def enter_with_pin(bridge: Bridge, room: LiveRoom, caller: str, pin: str) -> FakeLeg:
    call = arrive(bridge, room, caller)
    finish_prompt(bridge, room, call)  # the greeting, then "enter the PIN"
    press(room, call, pin + "#")
    return call


def test_a_caller_in_a_pin_room_hears_the_greeting_then_is_asked_for_the_pin() -> None:
    bridge = Bridge()
    room = open_room(bridge, user_pin=hash_pin("1234"))
    alice = arrive(bridge, room, "sip:alice@example.com")
    assert bridge.mixer.heard(alice.participant_id) == [("welcome",)]
    finish_prompt(bridge, room, alice)
    assert bridge.mixer.heard(alice.participant_id)[-1] == ("enter_pin",)
    assert bridge.live.participants == {}  # not in yet: nobody sees it on the panel
    # In the IVR it hears its prompts only; nobody hears it, so its audio is read into the drain.
    assert bridge.mixer.links == {(alice.participant_id, DRAIN)}


def test_pin_then_hash_joins_publishes_the_participant_and_links_the_mix() -> None:
    bridge = Bridge()
    room = open_room(bridge, user_pin=hash_pin("1234"))
    alice = enter_with_pin(bridge, room, "sip:alice@example.com", "1234")
    published = bridge.live.participants[("100", alice.participant_id)]
    assert (published["caller"], published["role"], published["state"], published["node"]) == (
        "sip:alice@example.com", "user", "in_conference", "node-t")
    assert published["joined_at"] == bridge.live.clock == alice.joined_at
    assert bridge.live.kinds("100") == ["started", "joined"]
    # Alone: music keeps RTP flowing, and what it sends is still read (into the drain).
    assert bridge.mixer.links == {(MUSIC, alice.participant_id), (alice.participant_id, DRAIN)}

    bob = enter_with_pin(bridge, room, "sip:bob@example.com", "1234")
    a, b = alice.participant_id, bob.participant_id
    assert bridge.mixer.links == {(a, b), (b, a)}
    assert bridge.mixer.heard(alice.participant_id)[-1] == ("participant_joined",)
    assert bridge.live.kinds("100") == ["started", "joined", "joined"]


def test_a_room_with_its_own_music_links_a_lone_caller_to_that_track_until_a_second_one_comes() -> None:
    bridge = Bridge()
    room = open_room(bridge, user_pin=hash_pin("1234"), music_sound_id=12)
    alice = enter_with_pin(bridge, room, "sip:alice@example.com", "1234")
    assert bridge.mixer.links == {(music(12), alice.participant_id), (alice.participant_id, DRAIN)}
    bob = enter_with_pin(bridge, room, "sip:bob@example.com", "1234")
    a, b = alice.participant_id, bob.participant_id
    assert bridge.mixer.links == {(a, b), (b, a)}


def test_a_wrong_pin_is_counted_for_the_lockout_and_asked_again() -> None:
    bridge = Bridge()
    room = open_room(bridge, user_pin=hash_pin("1234"))
    alice = enter_with_pin(bridge, room, "sip:alice@example.com", "9")
    assert bridge.live.pin_failures == [("100", "address:192.0.2.1")]  # the address it called from
    assert bridge.mixer.heard(alice.participant_id)[-1] == ("wrong_pin", "enter_pin")
    assert bridge.live.participants == {}


def test_the_last_admin_leaving_ends_the_room_for_everyone_after_a_farewell() -> None:
    bridge = Bridge()
    room = open_room(bridge, user_pin=hash_pin("1234"), admin_pin=hash_pin("9999"), end_on_admin_exit=True)
    admin = enter_with_pin(bridge, room, "sip:admin@example.com", "9999")
    users = [enter_with_pin(bridge, room, f"sip:user{n}@example.com", "1234") for n in (1, 2)]

    bridge.hang_up(admin)

    assert ("left", "100") in [(kind, where) for kind, where, _ in bridge.live.events]
    for user in users:
        assert bridge.mixer.heard(user.participant_id)[-1] == ("ended_by_admin",)
        assert ("100", user.participant_id) not in bridge.live.participants  # gone from the panel at once
    assert bridge.mixer.links == {(user.participant_id, DRAIN) for user in users}  # nobody hears anyone
    assert bridge.switchboard.farewells == []  # not before the farewell is heard
    for user in users:
        finish_prompt(bridge, room, user)
    assert bridge.switchboard.farewells == users
    assert bridge.switchboard.hung_up == []  # the node hangs up once the farewell drained


def test_an_extension_invites_a_number_with_star_8_and_the_room_dials_it_on_its_behalf() -> None:
    bridge = Bridge()
    room = open_room(bridge)
    alice = arrive(bridge, room, "sip:201@example.com", extension="201")
    finish_prompt(bridge, room, alice)
    press(room, alice, "*8555#")
    assert bridge.switchboard.requests == [DialRequest("100", "555", alice.participant_id)]
    assert bridge.mixer.heard(alice.participant_id)[-1] == ("trying_to_get_through",)

    invited = room.dial("555", alice.participant_id)

    ask = bridge.switchboard.dialled[0]
    assert (ask.room, ask.number, ask.rights, ask.inviter and ask.inviter.extension) == ("100", "555", Rights.INVITER,
                                                                                     "201")
    assert ask.billed == billing.Leg("100", billing.LegKind.INVITED, "201", "555", "201")
    assert ask.shown == "201"  # the one called sees who invites
    assert invited is not None and invited.participant_id in room.calls
    assert bridge.live.participants[("100", invited.participant_id)]["state"] == "ringing"
    room.media(invited)  # early media: heard by the room at once
    assert (invited.participant_id, alice.participant_id) in bridge.mixer.links
    assert bridge.live.participants[("100", invited.participant_id)]["state"] == "ringing"  # not answered yet
    room.answered(invited)
    assert bridge.live.participants[("100", invited.participant_id)]["state"] == "in_conference"


def test_a_star_8_invitation_that_is_busy_leaves_the_roster_as_a_failed_call() -> None:
    bridge = Bridge()
    room = open_room(bridge)
    alice = arrive(bridge, room, "sip:201@example.com", extension="201")
    finish_prompt(bridge, room, alice)
    room.dial("555", alice.participant_id)
    invited = bridge.switchboard.legs[-1]
    bridge.hang_up(invited, 486)
    assert ("100", invited.participant_id) not in bridge.live.participants
    assert bridge.live.events[-1] == ("call_failed", "100", {"participant": invited.participant_id, "number": "555",
                                                             "status": 486, "reason": "busy", "attempt": 1})
    assert bridge.mixer.heard(alice.participant_id)[-1] == ("number_busy",)


def test_a_call_the_number_plan_refuses_never_rings_and_the_inviter_hears_why() -> None:
    bridge = Bridge()
    bridge.switchboard.refuse["900"] = 403
    room = open_room(bridge)
    alice = arrive(bridge, room, "sip:201@example.com", extension="201")
    finish_prompt(bridge, room, alice)

    assert room.dial("900", alice.participant_id) is None

    assert list(room.calls) == [alice.participant_id]
    assert [key for key in bridge.live.participants if key[0] == "100"] == [("100", alice.participant_id)]
    assert bridge.live.events[-1][2]["reason"] == "not_allowed"  # failed: shown with why
    assert bridge.mixer.heard(alice.participant_id)[-1] == ("number_unavailable",)


def test_a_recorded_session_follows_who_is_in_and_is_filed_when_the_room_closes() -> None:
    bridge = Bridge()
    room = open_room(bridge, record=True)
    alice = arrive(bridge, room, "sip:alice@example.com")
    finish_prompt(bridge, room, alice)
    assert bridge.mixer.heard(alice.participant_id)[-1] == ("recording_notice",)
    finish_prompt(bridge, room, alice)
    [recording] = bridge.mixer.recordings
    assert recording.recorded == {alice.participant_id: "sip:alice@example.com"}

    bridge.hang_up(alice)
    assert room.empty and recording.recorded == {}
    room.close()
    assert recording.closed and bridge.live.filed_recordings == [recording.id]


def test_a_recording_takes_only_the_voices_the_others_hear_and_asks_for_tracks_when_the_room_does() -> None:
    bridge = Bridge()
    room = open_room(bridge, record=True, record_tracks=True, user_pin=hash_pin("1234"),
                     listener_pins=(hash_pin("5555"),))
    alice = enter_with_pin(bridge, room, "sip:alice@example.com", "1234")
    finish_prompt(bridge, room, alice)
    listener = enter_with_pin(bridge, room, "sip:quiet@example.com", "5555")
    finish_prompt(bridge, room, listener)
    [recording] = bridge.mixer.recordings
    assert recording.tracks and recording.inside == {alice.participant_id, listener.participant_id}
    assert recording.recorded == {alice.participant_id: "sip:alice@example.com"}  # a listener is never heard
    room.command("mute", alice.participant_id)
    assert recording.recorded == {} and alice.participant_id in recording.inside  # muted: not taken, still in
    room.command("unmute", alice.participant_id)
    assert recording.recorded == {alice.participant_id: "sip:alice@example.com"}


def test_no_recording_when_the_mixer_has_no_port_left() -> None:
    bridge = Bridge()
    bridge.mixer.free_ports = False
    room = open_room(bridge, record=True)
    alice = arrive(bridge, room, "sip:alice@example.com")
    finish_prompt(bridge, room, alice)
    finish_prompt(bridge, room, alice)
    assert room.recording is None and bridge.live.kinds("100") == ["started", "joined"]
    room.close()
    assert bridge.live.filed_recordings == []


def test_operator_commands_mute_drop_lock_and_end_through_the_rules() -> None:
    bridge = Bridge()
    room = open_room(bridge, user_pin=hash_pin("1234"))
    alice = enter_with_pin(bridge, room, "sip:alice@example.com", "1234")
    bob = enter_with_pin(bridge, room, "sip:bob@example.com", "1234")
    a, b = alice.participant_id, bob.participant_id
    room.command("mute", a)
    assert bridge.mixer.links == {(b, a), (a, DRAIN)}  # bob no longer hears alice (still read); she hears him
    assert bridge.live.participants[("100", a)]["state"] == "muted" and bridge.live.kinds("100")[-1] == "muted"
    room.command("unmute", a)
    assert bridge.mixer.links == {(a, b), (b, a)}
    room.command("lock")
    assert room.state.locked
    room.command("drop", b)
    assert bob in bridge.switchboard.farewells
    room.command("frobnicate", a)  # unknown: logged, nothing happens
    room.command("end")
    assert bridge.mixer.heard(a)[-1] == ("conference_over",)


def test_an_operator_starts_and_stops_recording_and_each_start_is_a_file_of_its_own() -> None:
    bridge = Bridge()
    room = open_room(bridge)
    alice = arrive(bridge, room, "sip:alice@example.com")
    finish_prompt(bridge, room, alice)
    assert bridge.mixer.recordings == []
    room.command("start_recording")
    assert bridge.mixer.heard(alice.participant_id)[-1] == ("recording_notice",)  # nobody recorded unawares
    [first] = bridge.mixer.recordings
    assert first.recorded == {alice.participant_id: "sip:alice@example.com"}
    assert bridge.live.recording_now == {"100": first.id} and bridge.live.kinds("100")[-1] == "recording_started"
    room.command("start_recording")  # already on: no second file, no second notice
    assert len(bridge.mixer.recordings) == 1 and len(bridge.mixer.heard(alice.participant_id)) == 2

    room.command("stop_recording")
    assert first.closed and bridge.live.filed_recordings == [first.id] and bridge.live.recording_now == {}
    assert bridge.live.kinds("100")[-1] == "recording_stopped"
    bob = arrive(bridge, room, "sip:bob@example.com")
    finish_prompt(bridge, room, bob)
    assert bridge.mixer.heard(bob.participant_id) == [("welcome",)]  # no notice: not recorded now

    room.command("start_recording")
    second = bridge.mixer.recordings[-1]
    assert second is not first and set(second.recorded) == {alice.participant_id, bob.participant_id}
    bridge.hang_up(alice)
    bridge.hang_up(bob)
    room.close()
    assert bridge.live.filed_recordings == [first.id, second.id]


def test_an_operator_stops_the_recording_of_a_room_recorded_by_its_settings() -> None:
    bridge = Bridge()
    room = open_room(bridge, record=True)
    alice = arrive(bridge, room, "sip:alice@example.com")
    finish_prompt(bridge, room, alice)
    finish_prompt(bridge, room, alice)
    room.command("stop_recording")
    assert bridge.mixer.recordings[0].closed and room.recording is None


def test_an_operator_plays_a_library_sound_to_everyone_in_the_conference() -> None:
    bridge = Bridge()
    room = open_room(bridge)
    alice = arrive(bridge, room, "sip:alice@example.com")
    finish_prompt(bridge, room, alice)
    waiting = arrive(bridge, room, "sip:bob@example.com")  # still hearing the greeting: not in yet
    room.command("play", value="7")
    assert bridge.mixer.heard(alice.participant_id)[-1] == ("sound:7",)
    assert bridge.mixer.heard(waiting.participant_id) == [("welcome",)]
    room.command("play", value="../7")  # not an id: nothing is played
    assert len(bridge.mixer.heard(alice.participant_id)) == 2


def test_an_operator_invites_a_number_with_an_operators_rights_billed_to_no_extension() -> None:
    bridge = Bridge()
    room = open_room(bridge)
    alice = arrive(bridge, room, "sip:201@example.com", extension="201")
    finish_prompt(bridge, room, alice)
    room.command("invite", value="202")
    assert bridge.switchboard.requests == [DialRequest("100", "202", OPERATOR)]

    invited = room.dial("202", OPERATOR)

    [ask] = bridge.switchboard.dialled
    assert (ask.number, ask.rights, ask.inviter, ask.shown) == ("202", Rights.OPERATOR, None, "7000")
    assert ask.billed == billing.Leg("100", billing.LegKind.INVITED, OPERATOR, "202", "")
    assert invited is not None
    room.answered(invited)
    assert (invited.participant_id, alice.participant_id) in bridge.mixer.links
    assert (alice.participant_id, invited.participant_id) in bridge.mixer.links


def test_operator_invitations_ringing_at_once_are_limited_and_a_refused_one_leaves_quietly() -> None:
    bridge = Bridge()
    bridge.switchboard.refuse["89001"] = 403
    room = open_room(bridge)
    alice = arrive(bridge, room, "sip:alice@example.com")
    finish_prompt(bridge, room, alice)
    assert room.dial("89001", OPERATOR) is None
    assert list(room.calls) == [alice.participant_id] and bridge.mixer.heard(alice.participant_id) == [("welcome",)]
    for number in range(MAX_RINGING):
        room.dial(str(300 + number), OPERATOR)
    room.command("invite", value="399")
    assert bridge.switchboard.requests == []  # MAX_RINGING ring already


def test_a_room_never_invites_itself() -> None:
    bridge = Bridge()
    room = open_room(bridge)
    alice = arrive(bridge, room, "sip:201@example.com", extension="201")
    finish_prompt(bridge, room, alice)
    room.command("invite", value="100")  # its own number: its audio would come back to it
    press(room, alice, "*8100#")
    assert bridge.switchboard.requests == []
    assert bridge.mixer.heard(alice.participant_id)[-1] == ("number_unavailable",)


def test_own_keys_set_the_levels_raise_a_hand_the_panel_sees_and_the_operator_unmutes_it() -> None:
    bridge = Bridge()
    room = open_room(bridge, user_pin=hash_pin("1234"), users_join_muted=True)
    alice = enter_with_pin(bridge, room, "sip:alice@example.com", "1234")
    bob = enter_with_pin(bridge, room, "sip:bob@example.com", "1234")
    a, b = alice.participant_id, bob.participant_id
    assert bridge.mixer.levels[a] == (0, 0) and bridge.live.participants[("100", a)]["state"] == "muted"
    press(room, alice, "*6*6*2")
    assert bridge.mixer.levels[a] == (6, -3)
    assert bridge.mixer.heard(a)[-1] == ("talk_quieter",)
    press(room, alice, "*5")
    assert bridge.live.participants[("100", a)]["hand"] == 1 and bridge.live.kinds("100")[-1] == "hand_raised"
    room.command("unmute_hand")
    assert (a, b) in bridge.mixer.links and bridge.live.participants[("100", a)]["hand"] == 0
    assert bridge.live.kinds("100")[-2:] == ["unmuted", "hand_lowered"]
    assert bridge.mixer.heard(a)[-1] == ("unmuted",)


def test_the_lobby_is_listed_for_the_panel_and_an_operator_lets_callers_in() -> None:
    bridge = Bridge()
    room = open_room(bridge, user_pin=hash_pin("1234"), lobby=True)
    alice = enter_with_pin(bridge, room, "sip:alice@example.com", "1234")
    finish_prompt(bridge, room, alice)  # "please wait, a moderator will let you in"
    a = alice.participant_id
    assert bridge.live.participants[("100", a)]["state"] == "lobby" and bridge.live.kinds("100") == ["started", "lobby"]
    assert bridge.mixer.links == {(MUSIC, a), (a, DRAIN)}
    assert room.present_now().keys() == {a}  # the heartbeat keeps it listed
    press(room, alice, "*97")  # its keys lead nowhere
    assert bridge.live.participants[("100", a)]["state"] == "lobby"
    room.command("admit_next")
    assert bridge.live.participants[("100", a)]["state"] == "in_conference"
    assert bridge.live.kinds("100") == ["started", "lobby", "joined"]
    bob = enter_with_pin(bridge, room, "sip:bob@example.com", "1234")
    finish_prompt(bridge, room, bob)
    room.command("drop", bob.participant_id)
    assert ("100", bob.participant_id) not in bridge.live.participants


def test_the_noise_gate_takes_a_closed_voice_out_of_the_mix_in_a_room_of_three_and_not_of_two() -> None:
    bridge = Bridge()
    bridge.rooms.noise_gate = True  # [bridge] noise_gate
    room = open_room(bridge, user_pin=hash_pin("1234"))
    a, b, c = (enter_with_pin(bridge, room, f"sip:{name}@example.com", "1234").participant_id
               for name in ("alice", "bob", "carol"))
    mix = {(a, b), (a, c), (b, a), (b, c), (c, a), (c, b)}
    comfort = {(SILENCE, a), (SILENCE, b), (SILENCE, c)}
    assert sorted(room.gated) == sorted([a, b, c])
    assert bridge.mixer.links == mix | comfort
    room.gate(c, is_open=False)
    # Nobody hears carol's noise; her audio still feeds the drain, where the node reads its level.
    assert bridge.mixer.links == (mix - {(c, a), (c, b)}) | comfort | {(c, DRAIN)}
    room.gate(c, is_open=True)
    assert bridge.mixer.links == mix | comfort
    room.gate(c, is_open=False)
    room.command("mute", b)  # two voices left: no gate, carol is heard again
    assert room.gated == []
    assert bridge.mixer.links == {(a, b), (a, c), (c, a), (c, b), (b, DRAIN)}
