"""An operator's commands to a live room (what the panel and the API send): mute, unmute and drop one
participant, judged by what the other participant hears; start and stop recording, judged by the file;
play a library sound and invite an extension, judged by what the phones hear; an outside number
refused, by the API and by the node, with no INVITE reaching the carrier's gateway."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import redis

from stack.prompts import prompt_file
from stack.supervisor import wait_for
from store import live
from tests.e2e.test_extensions_and_trunks import extension, gateway
from tests.e2e.test_recording import downloaded, recordings_of
from tests.support.audio import last_seconds, levels, peak_level, similarity, write_tone
from tests.support.phone import Event, TestPhone
from tests.support.stack import Stack

ALICE, BOB = 700.0, 1300.0
HEARD, SILENT = -25.0, -50.0


def test_an_operator_mutes_unmutes_and_drops_a_participant(
    stack: Stack, phones: Callable[..., TestPhone], audio_dir: Path
) -> None:
    room = "4300"
    stack.create_room(room, announce_count=False, mute_notifications=True)
    client = live.connect(stack.config.redis_url)
    alice, bob = phones("alice"), phones("bob")
    heard_by_bob = audio_dir / "bob-heard.wav"
    alice.call(stack.room_uri(room), play=write_tone(audio_dir / "alice.wav", ALICE, 60))
    stack.wait_in_conference(room, 1)
    bob.call(stack.room_uri(room), play=write_tone(audio_dir / "bob.wav", BOB, 60), record=heard_by_bob)
    bob.wait_for("media")
    start = time.monotonic()  # bob's recording starts with his media
    stack.wait_in_conference(room, 2)
    (speaker,) = [p for p in live.participants(client, room) if p["caller"].startswith(f"sip:phone-{alice.proc.pid}@")]

    def at() -> float:
        return time.monotonic() - start

    time.sleep(3)
    muted = at()
    assert live.room_command(client, room, "mute", speaker["id"])
    time.sleep(3)
    unmuted = at()
    assert [p["state"] for p in live.participants(client, room) if p["id"] == speaker["id"]] == ["muted"]
    assert live.room_command(client, room, "unmute", speaker["id"])
    time.sleep(3)
    dropped = at()
    (listener,) = [p for p in live.participants(client, room) if p["id"] != speaker["id"]]
    assert live.room_command(client, room, "drop", listener["id"])
    assert bob.wait_state("DISCONNECTED")["code"] == 200  # a BYE from the bridge
    bob.wait_for("recorded", 10)

    assert levels(heard_by_bob, [ALICE], muted - 2, muted)[ALICE] > HEARD
    assert levels(heard_by_bob, [ALICE], muted + 1, unmuted)[ALICE] < SILENT
    assert levels(heard_by_bob, [ALICE], unmuted + 1, dropped)[ALICE] > HEARD
    assert not live.room_command(client, "4399", "end")  # not live: nothing to command
    alice.hangup()


def join(stack: Stack, phone: TestPhone, room: str, tone: float, audio_dir: Path) -> Path:
    """The phone calls the room sending its tone; what it hears is recorded there."""
    heard = audio_dir / f"{phone.name}-heard.wav"
    phone.call(stack.room_uri(room), play=write_tone(audio_dir / f"{phone.name}.wav", tone, 60), record=heard)
    phone.wait_state("CONFIRMED")
    return heard


def events_of(client: redis.Redis, room: str) -> list[str]:
    entries: Any = client.xrange(live.EVENTS)
    return [str(fields["type"]) for _, fields in entries if fields.get("room") == room]


def test_an_operator_records_a_stretch_of_the_conference_from_the_api(
    stack: Stack, phones: Callable[..., TestPhone], audio_dir: Path
) -> None:
    room = "4310"
    # Not recorded by its settings; no music, so what the first caller hears is the notice alone.
    stack.create_room(room, announce_count=False, mute_notifications=True, music_on_hold=False)
    client = live.connect(stack.config.redis_url)
    alice, bob = phones("rec-alice"), phones("rec-bob")
    heard_by_alice = join(stack, alice, room, ALICE, audio_dir)
    stack.wait_in_conference(room, 1)

    assert stack.request("POST", f"/rooms/{room}/start_recording") == (202, {"room": room, "op": "start_recording"})
    assert wait_for(lambda: room in live.recordings_now(client), timeout=10)
    heard_by_bob = join(stack, bob, room, BOB, audio_dir)  # told on entry, as in a room recorded by its settings
    stack.wait_in_conference(room, 2)
    time.sleep(4)  # the stretch with both recorded
    assert stack.request("POST", f"/rooms/{room}/stop_recording")[0] == 202
    assert wait_for(lambda: room not in live.recordings_now(client), timeout=10)
    assert wait_for(lambda: len(recordings_of(stack, room)) == 1, timeout=15)  # filed while the call goes on
    assert events_of(client, room).count("recording_started") == events_of(client, room).count("recording_stopped") == 1

    (recording,) = recordings_of(stack, room)
    length = recording["duration_seconds"]
    assert 4.0 < length < 30.0
    audio = downloaded(stack, recording, audio_dir)
    heard = levels(audio, [ALICE, BOB], length - 3.5, length - 0.5)
    assert min(heard.values()) > -30.0, heard
    for phone in (alice, bob):
        phone.hangup()
        phone.wait_for("recorded", 15)
    # Everyone in the conference is told: nobody is recorded unawares.
    notice = prompt_file("en", 8000, "recording_notice")
    assert similarity(heard_by_alice, notice) > 0.75
    assert similarity(heard_by_bob, notice) > 0.75


CHIME = 2200.0


def test_an_operator_plays_a_library_sound_to_the_room(
    stack: Stack, phones: Callable[..., TestPhone], audio_dir: Path
) -> None:
    room = "4320"
    stack.create_room(room, announce_count=False, mute_notifications=True, music_on_hold=False)
    chime = stack.upload_sound(write_tone(audio_dir / "chime.wav", CHIME, 3), "chime")
    alice = phones("play-alice")
    heard = join(stack, alice, room, ALICE, audio_dir)
    stack.wait_in_conference(room, 1)
    assert stack.request("POST", f"/rooms/{room}/play", {"sound_id": chime["id"]}) == (
        202, {"room": room, "op": "play", "sound_id": chime["id"]})
    time.sleep(5)  # the 3 s sound, heard to its end
    alice.hangup()
    alice.wait_for("recorded", 15)
    assert peak_level(heard, CHIME) > HEARD
    assert stack.request("POST", f"/rooms/{room}/play", {"sound_id": chime["id"] + 1000})[0] == 400


CARRIER_PREFIX = "76"


def test_an_operator_invites_an_extension_but_no_outside_number(
    stack: Stack, phones: Callable[..., TestPhone], audio_dir: Path
) -> None:
    room = "4330"
    stack.create_room(room, announce_count=False, mute_notifications=True)
    client = live.connect(stack.config.redis_url)
    invitee, number = extension(stack, phones)
    carrier = gateway(stack, phones, "carrier-op", prefixes=[CARRIER_PREFIX])
    alice = phones("invite-alice")
    join(stack, alice, room, ALICE, audio_dir)
    stack.wait_in_conference(room, 1)
    outside = f"{CARRIER_PREFIX}001234567"

    # Refused by the API, nothing sent to the node ...
    status, body = stack.request("POST", f"/rooms/{room}/invite", {"number": outside})
    assert (status, body["error"]["id"], body["error"]["field"]) == (403, "forbidden", "number"), body
    # ... and by the node, which asks the number plan again, for a command that did not come through the API.
    assert live.room_command(client, room, "invite", value=outside)

    assert stack.request("POST", f"/rooms/{room}/invite", {"number": number}) == (
        202, {"room": room, "op": "invite", "number": number})
    invitee.wait_for("incoming", 10)  # it rings: the node dialled it through Kamailio
    heard = audio_dir / "invitee-heard.wav"
    invitee.answer(play=write_tone(audio_dir / "invitee.wav", BOB, 60), record=heard)
    invitee.wait_state("CONFIRMED")
    stack.wait_in_conference(room, 2)
    time.sleep(3)  # what the invitee records of the room
    invitee.hangup()
    invitee.wait_for("recorded", 15)
    assert levels(heard, [ALICE], *last_seconds(heard, 2.0))[ALICE] > HEARD

    refused = cdrs_of(stack, outside)
    assert [(r["caller"], r["status"], r["billed_to"]) for r in refused] == [("operator", 403, "")]
    # The node took the commands in order: the refused one long before the extension rang.
    assert not any(event["event"] == "incoming" for event in seen(carrier))
    alice.hangup()


def cdrs_of(stack: Stack, number: str) -> list[dict[str, object]]:
    def found() -> list[dict[str, object]]:
        status, body = stack.request("GET", f"/cdrs?number={number}")
        assert status == 200, body
        return list(body)

    assert wait_for(lambda: bool(found()), timeout=15)
    return found()


def seen(phone: TestPhone) -> list[Event]:
    """Every event the phone reported so far, without waiting for more."""
    while not phone.events.empty():
        phone.seen.append(phone.events.get_nowait())
    return phone.seen
