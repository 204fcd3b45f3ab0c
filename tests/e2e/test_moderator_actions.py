"""A moderator's actions (issue 14, item 3) with real phones, judged by what they hear: mute-all
(*92 and the API) leaves a second moderator heard; a whisper reaches its target and nobody else
while the moderator still hears the room; a library sound played to one participant reaches only
it; a paused recording leaves the paused span out of the file; a scheduled conference warns
"five minutes left" five minutes before its end and a moderator's *98 moves the end on."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from conference.room import END_WARNING_SECONDS
from stack.supervisor import wait_for
from store import live
from tests.e2e.test_extensions_and_trunks import extension
from tests.e2e.test_operator_commands import events_of
from tests.e2e.test_participant_keys import Party, enter, press_and_hear, shown, wait_joined
from tests.e2e.test_recording import downloaded, recordings_of
from tests.e2e.test_scheduled_conferences import get, heard_prompt, schedule
from tests.support.audio import duration, levels, write_tone
from tests.support.phone import TestPhone
from tests.support.stack import Stack

# Not multiples of 50 Hz (a lost frame shows), far enough apart for the FFT to tell them apart.
CHAIR, SECOND, GUEST, OTHER = 633.0, 1459.0, 911.0, 1787.0
CHIME = 2221.0
HEARD, SILENT = -25.0, -50.0
CHAIR_PIN, USER_PIN = "9999", "1111"


def moderated_room(stack: Stack, room: str, **fields: object) -> None:
    stack.create_room(room, admin_pin=CHAIR_PIN, user_pin=USER_PIN, announce_count=False, mute_notifications=True,
                      music_on_hold=False, **fields)


def participant_id(stack: Stack, room: str, party: Party) -> str:
    found = shown(stack, room, party)
    assert found, f"{party.phone.name} is not on the roster"
    return str(found["id"])


def test_mute_all_leaves_a_second_moderator_heard(
    stack: Stack, phones: Callable[..., TestPhone], audio_dir: Path
) -> None:
    room = "5710"
    moderated_room(stack, room)
    chair = enter(stack, phones, audio_dir, "mute-chair", room, CHAIR, CHAIR_PIN)
    second = enter(stack, phones, audio_dir, "mute-second", room, SECOND, CHAIR_PIN)
    guest = enter(stack, phones, audio_dir, "mute-guest", room, GUEST, USER_PIN)
    wait_joined(stack, room, chair, second, guest)
    time.sleep(2)
    before = chair.at()
    muted = press_and_hear(stack, chair, "*92", "all_muted")
    assert shown(stack, room, guest)["state"] == "muted" and shown(stack, room, second)["state"] == "in_conference"
    time.sleep(3)
    unmuted_at = chair.at()
    assert stack.request("POST", f"/rooms/{room}/unmute_all") == (202, {"room": room, "op": "unmute_all"})
    assert wait_for(lambda: shown(stack, room, guest).get("state") == "in_conference", timeout=10)
    time.sleep(3)
    end = chair.at()
    heard_by_chair, heard_by_guest = chair.finish(), guest.finish()
    second.finish()

    assert min(levels(heard_by_chair, [SECOND, GUEST], before - 2, before).values()) > HEARD
    during = levels(heard_by_chair, [SECOND, GUEST], muted + 0.5, unmuted_at)
    assert during[SECOND] > HEARD and during[GUEST] < SILENT, during  # the moderator still heard, the guest not
    assert levels(heard_by_guest, [SECOND], muted + 0.5, unmuted_at)[SECOND] > HEARD
    assert levels(heard_by_chair, [GUEST], unmuted_at + 1.5, end)[GUEST] > HEARD


def test_a_whisper_is_heard_by_its_target_alone_and_the_moderator_still_hears_the_room(
    stack: Stack, phones: Callable[..., TestPhone], audio_dir: Path
) -> None:
    room = "5720"
    moderated_room(stack, room)
    client = live.connect(stack.config.redis_url)
    chair = enter(stack, phones, audio_dir, "whisper-chair", room, CHAIR, CHAIR_PIN)
    target = enter(stack, phones, audio_dir, "whisper-target", room, GUEST, USER_PIN)
    other = enter(stack, phones, audio_dir, "whisper-other", room, OTHER, USER_PIN)
    wait_joined(stack, room, chair, target, other)
    chair_id, target_id = participant_id(stack, room, chair), participant_id(stack, room, target)
    other_id = participant_id(stack, room, other)
    time.sleep(2)
    path = f"/rooms/{room}/participants/{target_id}/whisper"
    # Refused: no moderator, the moderator to itself, an unknown target; nothing reaches the node.
    assert stack.request("POST", path, {"from": other_id})[0] == 400
    assert stack.request("POST", f"/rooms/{room}/participants/{chair_id}/whisper", {"from": chair_id})[0] == 400
    assert stack.request("POST", f"/rooms/{room}/participants/{'0' * 16}/whisper", {"from": chair_id})[0] == 404
    assert stack.request("POST", f"/rooms/{room}/start_recording")[0] == 202  # a whisper is not recorded
    assert wait_for(lambda: "recording_started" in events_of(client, room), timeout=10)
    recording_from = time.monotonic()
    time.sleep(2)
    assert stack.request("POST", path, {"from": chair_id}) == (
        202, {"room": room, "participant": target_id, "op": "whisper", "from": chair_id})
    assert wait_for(lambda: "whisper_started" in events_of(client, room), timeout=10)
    started = (target.at(), other.at(), chair.at(), time.monotonic() - recording_from)
    time.sleep(4)
    stopped = (target.at(), other.at(), chair.at(), time.monotonic() - recording_from)
    assert stack.request("POST", f"/rooms/{room}/participants/{target_id}/stop_whisper")[0] == 202
    assert wait_for(lambda: "whisper_stopped" in events_of(client, room), timeout=10)
    time.sleep(3)
    after = (target.at(), other.at(), 0.0, time.monotonic() - recording_from)
    assert stack.request("POST", f"/rooms/{room}/stop_recording")[0] == 202
    assert wait_for(lambda: len(recordings_of(stack, room)) == 1, timeout=15)
    recorded = downloaded(stack, recordings_of(stack, room)[0], audio_dir)
    heard_by_target, heard_by_other, heard_by_chair = target.finish(), other.finish(), chair.finish()

    assert levels(heard_by_target, [CHAIR], started[0] + 0.5, stopped[0])[CHAIR] > HEARD
    assert levels(heard_by_other, [CHAIR], started[1] + 0.5, stopped[1])[CHAIR] < SILENT
    assert levels(heard_by_other, [CHAIR], after[1] - 2, after[1])[CHAIR] > HEARD  # heard by all again
    # The whisperer still hears the whole room, and the two others still hear each other.
    assert min(levels(heard_by_chair, [GUEST, OTHER], started[2] + 0.5, stopped[2]).values()) > HEARD
    assert levels(heard_by_other, [GUEST], started[1] + 0.5, stopped[1])[GUEST] > HEARD
    # The recording keeps what the room heard: the room, not the whisper.
    whispered = levels(recorded, [CHAIR, GUEST], started[3] + 0.5, stopped[3] - 0.5)
    assert whispered[CHAIR] < SILENT and whispered[GUEST] > HEARD, whispered
    assert levels(recorded, [CHAIR], after[3] - 2, after[3] - 0.5)[CHAIR] > HEARD


def test_a_sound_played_to_one_participant_reaches_only_it(
    stack: Stack, phones: Callable[..., TestPhone], audio_dir: Path
) -> None:
    room = "5730"
    moderated_room(stack, room)
    chime = stack.upload_sound(write_tone(audio_dir / "one-chime.wav", CHIME, 3), "one-chime")
    chosen = enter(stack, phones, audio_dir, "play-chosen", room, GUEST, USER_PIN)
    left_out = enter(stack, phones, audio_dir, "play-left-out", room, OTHER, USER_PIN)
    wait_joined(stack, room, chosen, left_out)
    chosen_id = participant_id(stack, room, chosen)
    time.sleep(1)
    path = f"/rooms/{room}/participants/{chosen_id}/play"
    assert stack.request("POST", path, {"sound_id": chime["id"] + 1000})[0] == 400  # no such sound
    start = (chosen.at(), left_out.at())
    assert stack.request("POST", path, {"sound_id": chime["id"]}) == (
        202, {"room": room, "participant": chosen_id, "op": "play", "sound_id": chime["id"]})
    assert wait_for(lambda: f"room {room}: {chosen_id} hears sound:{chime['id']}" in stack.log("bridge"), timeout=10)
    time.sleep(4)  # the 3 s sound, to its end
    heard_by_chosen, heard_by_left_out = chosen.finish(), left_out.finish()

    assert levels(heard_by_chosen, [CHIME], start[0], start[0] + 4)[CHIME] > HEARD
    assert levels(heard_by_left_out, [CHIME], start[1], start[1] + 4)[CHIME] < SILENT
    assert levels(heard_by_left_out, [GUEST], start[1], start[1] + 4)[GUEST] > HEARD  # the room went on


def test_a_paused_recording_leaves_the_paused_span_out(
    stack: Stack, phones: Callable[..., TestPhone], audio_dir: Path, tmp_path: Path
) -> None:
    room = "5740"
    moderated_room(stack, room)
    client = live.connect(stack.config.redis_url)
    talker = enter(stack, phones, audio_dir, "pause-talker", room, GUEST, USER_PIN)
    other = enter(stack, phones, audio_dir, "pause-other", room, OTHER, USER_PIN)
    wait_joined(stack, room, talker, other)

    def act(op: str, event: str) -> float:
        assert stack.request("POST", f"/rooms/{room}/{op}") == (202, {"room": room, "op": op})
        assert wait_for(lambda: event in events_of(client, room), timeout=10)
        return time.monotonic()

    started = act("start_recording", "recording_started")
    time.sleep(3)
    paused = act("pause_recording", "recording_paused")
    time.sleep(6)  # the span left out
    resumed = act("resume_recording", "recording_resumed")
    time.sleep(3)
    stopped = act("stop_recording", "recording_stopped")
    assert wait_for(lambda: len(recordings_of(stack, room)) == 1, timeout=15)
    (recording,) = recordings_of(stack, room)
    audio = downloaded(stack, recording, tmp_path)
    talker.finish()
    other.finish()

    recorded = (paused - started) + (stopped - resumed)  # about 6 s; with the pause it would be 12 s
    assert abs(duration(audio) - recorded) < 1.5, (duration(audio), recorded)
    # Both voices all through the file: no second of it is the pause's silence.
    for second in range(int(duration(audio)) - 1):
        heard = levels(audio, [GUEST, OTHER], second, second + 1)
        assert min(heard.values()) > -30.0, (second, heard)


def test_a_scheduled_conference_warns_five_minutes_before_its_end_and_star_98_extends_it(
    stack: Stack, phones: Callable[..., TestPhone], audio_dir: Path
) -> None:
    owner, owner_number = extension(stack, phones)
    # It ends 5 minutes and 20 seconds after it starts: the warning is due 20 s in, as for any end time.
    made = schedule(stack, 0, length=timedelta(seconds=END_WARNING_SECONDS + 20), owner={"number": owner_number},
                    auto_extend=15)
    code, end = made["code"], datetime.fromisoformat(made["end_utc"])
    owner.wait_for("incoming", 15)
    heard = audio_dir / "end-owner.wav"
    owner.answer(record=heard)
    warned = " hears end_warning\n"
    assert wait_for(lambda: warned in stack.log("bridge"), timeout=45)
    owner.wait_state("CONFIRMED")
    time.sleep(6)  # the warning, to its end
    before = stack.log("bridge").count(" hears conference_extended\n")
    owner.dtmf("*98")
    assert wait_for(lambda: datetime.fromisoformat(get(stack, code)["end_utc"]) == end + timedelta(minutes=15),
                    timeout=20)
    assert wait_for(lambda: stack.log("bridge").count(" hears conference_extended\n") > before, timeout=10)
    time.sleep(3)
    owner.hangup()
    owner.wait_for("recorded", 15)
    assert heard_prompt(heard, "end_warning")
    assert heard_prompt(heard, "conference_extended")
    assert wait_for(lambda: get(stack, code)["state"] == "past", timeout=20)  # emptied: over
