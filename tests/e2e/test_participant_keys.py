"""Roles, join options and a participant's own keys with real phones, judged by what the phones hear:
a listener is never heard; joining muted then *1; *4/*6 and *2 change levels by their step; *0 says
the count and ** the keys (en, ru); *5 raises a hand the API and the event stream show and a
moderator's *96 unmutes it; the lobby holds a caller whatever it types until the moderator's *97."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from conference.room import LEVEL_STEP, LEVELS
from stack.prompts import prompt_file
from stack.supervisor import wait_for
from store import live
from tests.e2e.test_operator_commands import events_of
from tests.e2e.test_transitions import assert_clean
from tests.support.audio import duration, levels, similarity, write_tone
from tests.support.phone import TestPhone
from tests.support.stack import Stack

# Not multiples of 50 Hz, so a lost frame breaks the tone's phase and shows (assert_clean).
FIRST, SECOND = 633.0, 1459.0
HEARD, SILENT = -25.0, -50.0
PROMPT_HEARD, PROMPT_ABSENT = 0.75, 0.6  # similarity of a prompt heard / not heard (test_room_options)
STEP_TOLERANCE = 2.0  # dB


@dataclass
class Party:
    phone: TestPhone
    recording: Path
    start: float  # monotonic time of the recording's first sample (the call's media)

    def at(self) -> float:
        """Now, in seconds of this party's recording."""
        return time.monotonic() - self.start

    def finish(self) -> Path:
        self.phone.hangup()
        self.phone.wait_for("recorded", timeout=15)
        return self.recording


def enter(stack: Stack, phones: Callable[..., TestPhone], audio_dir: Path, name: str, room: str,
          tone: float | None = None, pin: str = "") -> Party:
    """A phone calls the room (sending `tone`, if any), types the PIN once the bridge has it, and
    records what it hears from its media on."""
    phone = phones(name)
    recording = audio_dir / f"{name}-heard.wav"
    play = write_tone(audio_dir / f"{name}.wav", tone, 90) if tone else None
    phone.call(stack.room_uri(room), play=play, record=recording)
    phone.wait_for("media")
    party = Party(phone, recording, time.monotonic())
    if pin:
        caller = f"phone-{phone.proc.pid}@127.0.0.1 arrived"
        assert wait_for(lambda: caller in stack.log("bridge"), timeout=10)
        phone.dtmf(pin + "#")
    return party


def shown(stack: Stack, room: str, party: Party) -> dict[str, Any]:
    people = live.participants(live.connect(stack.config.redis_url), room)
    found = [p for p in people if p["caller"].startswith(f"sip:phone-{party.phone.proc.pid}@")]
    return found[0] if found else {}


def wait_joined(stack: Stack, room: str, *parties: Party) -> None:
    """Until every party is in the mix (in the conference, muted or not)."""
    assert wait_for(lambda: all(shown(stack, room, p).get("state") in ("in_conference", "muted") for p in parties),
                    timeout=25), [shown(stack, room, p) for p in parties]


def said(stack: Stack, pieces: str) -> int:
    """How many times the bridge has played these pieces ("a+b") so far (its log)."""
    return stack.log("bridge").count(f" hears {pieces}\n")


def press_and_hear(stack: Stack, party: Party, keys: str, pieces: str, times: int = 1, language: str = "en") -> float:
    """Press the keys and wait until the bridge answered with `pieces` (`times` times) and they have
    been said; the moment after, in the party's recording."""
    before = said(stack, pieces)
    party.phone.dtmf(keys)
    assert wait_for(lambda: said(stack, pieces) >= before + times, timeout=10), pieces
    time.sleep(sum(duration(prompt_file(language, 8000, piece)) for piece in pieces.split("+")) + 0.3)
    return party.at()


def test_a_listener_hears_everyone_and_nobody_ever_hears_it(
    stack: Stack, phones: Callable[..., TestPhone], audio_dir: Path
) -> None:
    room = "5610"
    stack.create_room(room, user_pin="1111", listener_pins=["5555"], announce_count=False, mute_notifications=True)
    speaker = enter(stack, phones, audio_dir, "speaker", room, FIRST, "1111")
    listener = enter(stack, phones, audio_dir, "listener", room, SECOND, "5555")
    wait_joined(stack, room, speaker, listener)
    assert shown(stack, room, listener)["role"] == "listener"
    time.sleep(3)
    unmute_tried = press_and_hear(stack, listener, "*1", "listen_only")  # no way to speak
    time.sleep(3)
    heard_by_speaker, heard_by_listener = speaker.finish(), listener.finish()
    assert levels(heard_by_speaker, [SECOND], 1.0, unmute_tried + 3)[SECOND] < SILENT
    assert levels(heard_by_listener, [FIRST], unmute_tried, unmute_tried + 2.5)[FIRST] > HEARD


def test_joining_muted_then_star_1_unmutes_cleanly(
    stack: Stack, phones: Callable[..., TestPhone], audio_dir: Path
) -> None:
    room = "5620"
    stack.create_room(room, users_join_muted=True, announce_count=False, mute_notifications=True)
    talker = enter(stack, phones, audio_dir, "talker", room, FIRST)
    hearer = enter(stack, phones, audio_dir, "hearer", room, SECOND)
    wait_joined(stack, room, talker, hearer)
    assert shown(stack, room, talker)["state"] == "muted"
    time.sleep(3)
    pressed = hearer.at()
    talker.phone.dtmf("*1")
    assert wait_for(lambda: shown(stack, room, talker).get("state") == "in_conference", timeout=10)
    unmuted = hearer.at()
    time.sleep(4)
    recording = hearer.finish()
    talker.finish()
    assert levels(recording, [FIRST], pressed - 2.5, pressed)[FIRST] < SILENT
    assert levels(recording, [FIRST], unmuted + 0.3, unmuted + 3.5)[FIRST] > HEARD
    assert_clean(recording, [FIRST], unmuted + 0.3, unmuted + 3.5)  # no gap nor glitch as it opens


def test_volume_keys_change_what_a_phone_hears_by_their_step(
    stack: Stack, phones: Callable[..., TestPhone], audio_dir: Path
) -> None:
    room = "5630"
    stack.create_room(room, announce_count=False, mute_notifications=True)
    talker = enter(stack, phones, audio_dir, "vol-talker", room, FIRST)
    hearer = enter(stack, phones, audio_dir, "vol-hearer", room)
    wait_joined(stack, room, talker, hearer)
    time.sleep(3)
    marks = [hearer.at()]  # the end of each stretch
    press_and_hear(stack, hearer, "*4", "hear_quieter")  # -3 dB
    time.sleep(2.5)
    marks.append(hearer.at())
    press_and_hear(stack, hearer, "*6*6*6*6", "hear_louder", times=4)  # capped at the top
    time.sleep(2.5)
    marks.append(hearer.at())
    press_and_hear(stack, talker, "*2", "talk_quieter")  # the talker's voice -3 dB in the mix
    time.sleep(2.5)
    marks.append(hearer.at())
    recording = hearer.finish()
    talker.finish()
    heard = [levels(recording, [FIRST], end - 2.0, end)[FIRST] for end in marks]
    expected = [0.0, -LEVEL_STEP, LEVELS[1], LEVELS[1] - LEVEL_STEP]
    changes = [round(level - heard[0], 1) for level in heard]
    assert heard[0] > HEARD, heard
    assert all(abs(change - want) <= STEP_TOLERANCE for change, want in zip(changes, expected, strict=True)), (
        changes, expected)


@pytest.mark.parametrize(("language", "room", "noun"), [("en", "5640", "noun_many"), ("ru", "5641", "noun_few")])
def test_star_0_says_how_many_others_are_in_and_star_star_the_keys(
    stack: Stack, phones: Callable[..., TestPhone], audio_dir: Path, language: str, room: str, noun: str
) -> None:
    stack.create_room(room, language=language, announce_count=False, mute_notifications=True)
    asker = enter(stack, phones, audio_dir, f"asker-{language}", room)
    others = [enter(stack, phones, audio_dir, f"other{n}-{language}", room) for n in range(2)]
    wait_joined(stack, room, asker, *others)
    press_and_hear(stack, asker, "*0", f"count_intro+number_2+{noun}", language=language)
    press_and_hear(stack, asker, "**", "help_keys", language=language)
    recording = asker.finish()
    for party in others:
        party.finish()
    for piece in ("count_intro", "number_2", noun, "help_keys"):
        assert similarity(recording, prompt_file(language, 8000, piece)) > PROMPT_HEARD, piece
    assert similarity(recording, prompt_file(language, 8000, "number_3")) < PROMPT_ABSENT


def test_a_raised_hand_is_shown_and_the_moderators_star_96_unmutes_it(
    stack: Stack, phones: Callable[..., TestPhone], audio_dir: Path
) -> None:
    room = "5650"
    stack.create_room(room, user_pin="1111", admin_pin="2222", users_join_muted=True, announce_count=False,
                      mute_notifications=True)
    client = live.connect(stack.config.redis_url)
    moderator = enter(stack, phones, audio_dir, "moderator", room, pin="2222")
    asker = enter(stack, phones, audio_dir, "hand", room, FIRST, "1111")
    wait_joined(stack, room, moderator, asker)
    assert shown(stack, room, asker)["state"] == "muted" and shown(stack, room, asker)["hand"] == 0
    asker.phone.dtmf("*5")
    assert wait_for(lambda: shown(stack, room, asker).get("hand", 0) > 0, timeout=10)
    status, people = stack.request("GET", f"/rooms/{room}/participants")
    assert status == 200 and [p["hand"] > 0 for p in people if p["role"] == "user"] == [True]
    assert "hand_raised" in events_of(client, room)
    time.sleep(duration(prompt_file("en", 8000, "hand_raised_notice")) + 3)  # the moderator is told, then quiet
    pressed = moderator.at()
    unmuted = press_and_hear(stack, moderator, "*96", "hand_unmuted")
    assert shown(stack, room, asker)["state"] == "in_conference" and shown(stack, room, asker)["hand"] == 0
    kinds = [kind for kind in events_of(client, room) if kind in ("muted", "unmuted", "hand_raised", "hand_lowered")]
    assert kinds == ["hand_raised", "unmuted", "hand_lowered"]  # joined muted: no "muted" event
    time.sleep(3.5)
    recording = moderator.finish()
    asker.finish()
    assert levels(recording, [FIRST], pressed - 2.0, pressed)[FIRST] < SILENT
    assert levels(recording, [FIRST], unmuted, unmuted + 3.0)[FIRST] > HEARD
    assert_clean(recording, [FIRST], unmuted, unmuted + 3.0)
    # Said to the moderator while the raised hand was still muted: heard alone, recognizable.
    assert similarity(recording, prompt_file("en", 8000, "hand_raised_notice")) > PROMPT_HEARD


def test_the_lobby_holds_a_caller_whatever_it_types_until_the_moderators_star_97(
    stack: Stack, phones: Callable[..., TestPhone], audio_dir: Path
) -> None:
    room = "5660"
    # No music: the moderator alone in the conference hears silence, so any tone in it is the guest's.
    stack.create_room(room, user_pin="1111", admin_pin="2222", lobby=True, announce_count=False,
                      mute_notifications=True, music_on_hold=False)
    client = live.connect(stack.config.redis_url)
    moderator = enter(stack, phones, audio_dir, "lobby-moderator", room, pin="2222")
    wait_joined(stack, room, moderator)
    guest = enter(stack, phones, audio_dir, "lobby-guest", room, FIRST, "1111")
    assert wait_for(lambda: shown(stack, room, guest).get("state") == "lobby", timeout=25)
    assert "lobby" in events_of(client, room)
    knocked = time.monotonic()  # the moderator hears "someone is waiting in the lobby"
    for keys in ("*97", "2222#", "*1", "##", "*8" + room + "#"):  # moderator codes, its PIN, own keys, invites
        guest.phone.dtmf(keys)
        time.sleep(1.0)
    time.sleep(max(3.0, knocked + duration(prompt_file("en", 8000, "lobby_knock")) + 4.0 - time.monotonic()))
    assert shown(stack, room, guest)["state"] == "lobby"
    pressed = moderator.at()
    moderator.phone.dtmf("*97")
    assert wait_for(lambda: shown(stack, room, guest).get("state") == "in_conference", timeout=10)
    let_in = moderator.at()
    time.sleep(duration(prompt_file("en", 8000, "lobby_admitted")) + 3.5)
    recording = moderator.finish()
    guest.finish()
    assert levels(recording, [FIRST], pressed - 3.0, pressed)[FIRST] < SILENT
    heard_from = let_in + duration(prompt_file("en", 8000, "lobby_admitted")) + 0.3
    assert levels(recording, [FIRST], heard_from, heard_from + 3.0)[FIRST] > HEARD
    assert_clean(recording, [FIRST], heard_from, heard_from + 3.0)
