"""Room options of seed 000 with real phones: PINs and roles, waiting for the admin, ending, limits, counts.

Prompts are recognized in what a phone recorded by correlating with the prompt files."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from stack.prompts import prompt_file
from stack.sounds import MUSIC_FOLDER, ensure_music
from stack.supervisor import wait_for
from store import live
from tests.support.audio import duration, last_seconds, levels, music_at, music_windows, similarity, write_tone
from tests.support.phone import TestPhone
from tests.support.stack import Stack

HEARD = 0.75  # a prompt heard scores about 0.9-1.0 (see similarity); prompts not heard score below 0.6


class Caller:
    """A phone that dials a room, optionally playing a tone, and records what it hears."""

    def __init__(self, stack: Stack, phones: Callable[..., TestPhone], audio_dir: Path, name: str) -> None:
        self.stack, self.name = stack, name
        self.phone = phones(name)
        self.recording = audio_dir / f"{name}.wav"
        self.audio_dir = audio_dir

    def dial(self, room: str, tone: float | None = None) -> Caller:
        play = write_tone(self.audio_dir / f"{self.name}-tone.wav", tone, 60) if tone else None
        self.phone.call(self.stack.room_uri(room), play=play, record=self.recording)
        self.phone.wait_state("CONFIRMED")
        caller = f"phone-{self.phone.proc.pid}@"
        assert wait_for(lambda: f"{caller}127.0.0.1 arrived" in self.stack.log("bridge"), timeout=10)
        return self

    def pin(self, digits: str) -> Caller:
        self.phone.dtmf(digits)
        return self

    def finish(self) -> Path:
        """Hang up if still in, and return the complete recording."""
        if not any(e.get("state") == "DISCONNECTED" for e in self.phone.seen):
            self.phone.hangup()
        self.phone.wait_for("recorded", timeout=15)
        return self.recording

    def hung_up_by_bridge(self, timeout: float = 20) -> bool:
        return self.phone.wait_state("DISCONNECTED", timeout)["code"] == 200


def person(stack: Stack, room: str, caller: Caller) -> dict[str, Any] | None:
    people = live.participants(live.connect(stack.config.redis_url), room)
    return next((p for p in people if p["caller"].startswith(f"sip:phone-{caller.phone.proc.pid}@")), None)


def heard(recording: Path, piece: str, language: str = "en") -> float:
    return similarity(recording, prompt_file(language, 8000, piece))


def test_pins_give_roles_and_three_wrong_pins_hang_up(
    stack: Stack, phones: Callable[..., TestPhone], audio_dir: Path
) -> None:
    stack.create_room("5100", user_pin="1234", admin_pin="9876")
    admin = Caller(stack, phones, audio_dir, "admin").dial("5100").pin("9876#")
    assert wait_for(lambda: (person(stack, "5100", admin) or {}).get("role") == "admin", timeout=20)
    user = Caller(stack, phones, audio_dir, "user").dial("5100").pin("1234#")
    assert wait_for(lambda: (person(stack, "5100", user) or {}).get("role") == "user", timeout=20)

    intruder = Caller(stack, phones, audio_dir, "intruder").dial("5100").pin("1111#")
    time.sleep(5)  # listening to "wrong PIN, try again" in full
    intruder.pin("1111#")
    time.sleep(0.5)  # one try at a time, as a person types
    intruder.pin("1111#")
    assert intruder.hung_up_by_bridge()
    recording = intruder.finish()
    assert heard(recording, "wrong_pin") > HEARD
    assert heard(recording, "too_many_attempts") > HEARD
    assert person(stack, "5100", intruder) is None
    user_heard = user.finish()
    assert heard(user_heard, "only_participant") < 0.6  # the admin was already in
    assert heard(user_heard, "only_one_other") > HEARD


@pytest.mark.parametrize("own_music", [False, True], ids=["standard-music", "library-music"])
def test_wait_for_admin_music_plays_on_across_another_callers_pin_then_the_admin_starts_the_conference(
    stack: Stack, phones: Callable[..., TestPhone], audio_dir: Path, own_music: bool
) -> None:
    room = "5201" if own_music else "5200"
    music = ensure_music(audio_dir, 8000)
    fields: dict[str, Any] = {}
    if own_music:  # a room's music from the library is one continuous playback too
        sound = stack.upload_sound(MUSIC_FOLDER / "reno_project-system.wav", "System")
        fields["music_sound_id"] = sound["id"]
        music = stack.config.var_path / "sounds" / "library" / f"{sound['id']}-8000.wav"
    stack.create_room(room, user_pin="1111", admin_pin="2222", wait_for_admin=True, mute_notifications=True,
                      **fields)
    first = Caller(stack, phones, audio_dir, "first").dial(room, tone=600.0).pin("1111#")
    assert wait_for(lambda: (person(stack, room, first) or {}).get("state") == "waiting", timeout=20)
    waiting_from = time.monotonic()
    time.sleep(3)  # the first caller waits alone
    second = Caller(stack, phones, audio_dir, "second").dial(room, tone=1000.0).pin("1111#")
    assert wait_for(lambda: (person(stack, room, second) or {}).get("state") == "waiting", timeout=20)
    both_waiting = time.monotonic()
    time.sleep(3)  # both wait: music, not each other
    boss_called = time.monotonic()
    Caller(stack, phones, audio_dir, "boss").dial(room).pin("2222#")
    assert wait_for(lambda: stack.in_conference(room) == 3, timeout=20)
    time.sleep(3)  # what they hear once the conference runs
    ended = time.monotonic()  # the first caller's hangup ends its recording (not the second's)
    recording = first.finish()
    second.finish()
    length = duration(recording)

    def at(moment: float) -> float:
        """Where a moment of the test is in the first caller's recording (it ends at `ended`)."""
        return length - (ended - moment)

    # The better of two seconds while alone: a frame slipped on a busy machine spoils only its own.
    alone_windows = music_windows(recording, music, at(waiting_from) + 0.5, at(waiting_from) + 2.5)
    best = max(range(len(alone_windows)), key=lambda i: alone_windows[i][0])
    alone, alone_at = alone_windows[best]
    # One playback went on while the second caller dialled, typed its PIN and began to wait: the
    # later excerpt is the track where it had got to by then (a restart would be at its start).
    went_on = alone_at + (both_waiting - waiting_from) - best
    # The better of the seconds while both wait, each looked for where the track should be by then.
    together_windows = [(*music_at(recording, music, start, start + 1.0, near=went_on + k), k)
                        for k, start in enumerate(np.arange(at(both_waiting) + 0.5, at(boss_called) - 1.5 + 1e-6, 1.0))]
    together, together_at, later = max(together_windows)  # two seconds: both waited 3 s
    assert min(alone, together) > 0.75, (alone, together)  # the track, and never the other caller's tone
    apart = (together_at - went_on - later + duration(music) / 2) % duration(music) - duration(music) / 2
    assert abs(apart) < 0.2, apart
    after = levels(recording, [1000.0], length - 2.5, length - 0.5)
    assert after[1000.0] > -25.0, after  # the admin's entry started the mix
    assert heard(recording, "waiting_for_admin") > HEARD


def test_end_on_admin_exit(stack: Stack, phones: Callable[..., TestPhone], audio_dir: Path) -> None:
    stack.create_room("5300", user_pin="1111", admin_pin="2222", end_on_admin_exit=True)
    boss = Caller(stack, phones, audio_dir, "boss").dial("5300").pin("2222#")
    user = Caller(stack, phones, audio_dir, "user").dial("5300").pin("1111#")
    assert wait_for(lambda: stack.in_conference("5300") == 2, timeout=20)
    boss.phone.hangup()
    assert user.hung_up_by_bridge()
    assert heard(user.finish(), "ended_by_admin") > HEARD


def test_a_full_room_turns_callers_away(stack: Stack, phones: Callable[..., TestPhone], audio_dir: Path) -> None:
    stack.create_room("5400", max_participants=1)
    Caller(stack, phones, audio_dir, "in").dial("5400")
    assert wait_for(lambda: stack.in_conference("5400") == 1, timeout=20)
    late = Caller(stack, phones, audio_dir, "late").dial("5400")
    assert late.hung_up_by_bridge()
    assert heard(late.finish(), "conference_full") > HEARD


def test_newcomers_hear_the_count_in_their_language(
    stack: Stack, phones: Callable[..., TestPhone], audio_dir: Path
) -> None:
    stack.create_room("5500", language="ru")
    first = Caller(stack, phones, audio_dir, "first").dial("5500")
    assert wait_for(lambda: stack.in_conference("5500") == 1, timeout=20)
    second = Caller(stack, phones, audio_dir, "second").dial("5500")
    assert wait_for(lambda: stack.in_conference("5500") == 2, timeout=20)
    time.sleep(3)  # the join notice the first caller hears
    first_heard, second_heard = first.finish(), second.finish()
    assert heard(first_heard, "only_participant", "ru") > HEARD
    assert heard(second_heard, "only_one_other", "ru") > HEARD
    assert heard(second_heard, "welcome", "ru") > HEARD
    assert heard(first_heard, "participant_joined", "ru") > HEARD


def test_participants_api_shows_who_is_in(stack: Stack, phones: Callable[..., TestPhone], audio_dir: Path) -> None:
    stack.create_room("5600", user_pin="1111", admin_pin="2222", wait_for_admin=True)
    user = Caller(stack, phones, audio_dir, "user").dial("5600").pin("1111#")
    assert wait_for(lambda: stack.request("GET", "/rooms/5600/participants")[1] != [], timeout=20)
    status, people = stack.request("GET", "/rooms/5600/participants")
    assert status == 200
    assert [(p["role"], p["state"]) for p in people] == [("user", "waiting")]
    assert people[0]["caller"] == f"sip:phone-{user.phone.proc.pid}@127.0.0.1"
    Caller(stack, phones, audio_dir, "boss").dial("5600").pin("2222#")
    assert wait_for(lambda: sorted((p["role"], p["state"]) for p in stack.request(
        "GET", "/rooms/5600/participants")[1]) == [("admin", "in_conference"), ("user", "in_conference")], timeout=20)
    assert stack.request("GET", "/rooms/5699/participants")[0] == 404


def test_wrong_pins_lock_out_the_address_whatever_from_it_writes(
    stack: Stack, phones: Callable[..., TestPhone], audio_dir: Path
) -> None:
    stack.create_room("5700", user_pin="1111")
    client = live.connect(stack.config.redis_url)
    loopback = "address:127.0.0.1"  # anonymous callers are counted by the address Kamailio saw
    for second in range(10):  # what ten wrong PINs within 15 minutes leave behind
        live.pin_failed(client, "5700", loopback, now=time.time() + second)
    Caller(stack, phones, audio_dir, "guesser").dial("5700").pin("9999#")  # the eleventh
    assert wait_for(lambda: live.pin_locked(client, "5700", loopback), timeout=15)
    other = Caller(stack, phones, audio_dir, "other-from")  # another From URI, the same address
    other.dial("5700")
    assert other.hung_up_by_bridge()
    assert heard(other.finish(), "too_many_attempts") > HEARD


def test_the_greeting_from_the_sound_library_replaces_the_welcome(
    stack: Stack, phones: Callable[..., TestPhone], audio_dir: Path
) -> None:
    greeting = write_tone(audio_dir / "greeting-upload.wav", 1800.0, 2.0)
    sound = stack.upload_sound(greeting, "company greeting")
    stack.create_room("5800", greeting_sound_id=sound["id"])
    caller = Caller(stack, phones, audio_dir, "greeted").dial("5800")
    assert wait_for(lambda: stack.in_conference("5800") == 1, timeout=20)
    recording = caller.finish()
    assert levels(recording, [1800.0], 0.0, 2.5)[1800.0] > -25.0
    assert heard(recording, "welcome") < 0.6
    assert heard(recording, "only_participant") > HEARD


def test_without_music_on_hold_waiting_callers_hear_silence(
    stack: Stack, phones: Callable[..., TestPhone], audio_dir: Path
) -> None:
    stack.create_room("5900", user_pin="1111", admin_pin="2222", wait_for_admin=True, music_on_hold=False,
                      announce_count=False)
    caller = Caller(stack, phones, audio_dir, "waits").dial("5900").pin("1111#")
    assert wait_for(lambda: (person(stack, "5900", caller) or {}).get("state") == "waiting", timeout=20)
    time.sleep(3)  # what a waiting caller hears
    assert (person(stack, "5900", caller) or {}).get("state") == "waiting"  # still there, still waiting
    recording = caller.finish()
    quiet = levels(recording, [200.0, 400.0, 800.0, 1600.0, 3000.0], *last_seconds(recording, 2.5))
    assert max(quiet.values()) < -50.0, quiet
    assert music_at(recording, ensure_music(audio_dir, 8000), *last_seconds(recording, 2.5))[0] < 0.5


def test_pin_digits_never_reach_the_log(stack: Stack, phones: Callable[..., TestPhone], audio_dir: Path) -> None:
    stack.create_room("5950", user_pin="8642")
    caller = Caller(stack, phones, audio_dir, "secret").dial("5950").pin("8642#")
    assert wait_for(lambda: (person(stack, "5950", caller) or {}).get("role") == "user", timeout=20)
    log = stack.log("bridge")
    assert "pressed a key" in log
    assert not any(f"pressed {d} " in log.split("room 5950", 1)[1] for d in "8642")
