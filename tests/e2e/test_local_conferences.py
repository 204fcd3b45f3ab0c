"""Seed 003 with real phones: *8 local conferences, *8NUMBER invites with early media, ##,
and the moderator's *92-*95 in a room."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from conference import address
from stack.supervisor import wait_for
from store import live
from tests.e2e.test_extensions_and_trunks import extension, gateway
from tests.e2e.test_room_options import HEARD, Caller, heard
from tests.support.audio import levels, peak_level, similarity, write_tone
from tests.support.phone import TestPhone
from tests.support.stack import Stack

HEARD_ABOVE_DBFS = -30.0
OWNER, GUEST, EARLY, ANSWER = 500.0, 900.0, 1700.0, 2300.0


def test_a_local_conference_invites_outside_numbers_and_drops_them(
    stack: Stack, phones: Callable[..., TestPhone], audio_dir: Path
) -> None:
    owner, owner_number = extension(stack, phones, conference_pin="5555")
    guest, _ = extension(stack, phones)
    carrier = gateway(stack, phones, "carrier-c", prefixes=["86"])
    dialled, room = f"*8{owner_number}", str(address.local(owner_number))  # the feature code; its room

    guest.call(f"sip:{dialled}@{stack.sip}")  # nobody opened it yet
    assert guest.wait_state("DISCONNECTED")["code"] == 404
    guest.forget()

    owner_heard, guest_heard = audio_dir / "owner.wav", audio_dir / "guest.wav"
    owner.call(f"sip:{dialled}@{stack.sip}", play=write_tone(audio_dir / "o.wav", OWNER, 60), record=owner_heard)
    stack.wait_in_conference(room, 1)  # the owner needs no PIN
    guest.call(f"sip:{dialled}@{stack.sip}", play=write_tone(audio_dir / "g.wav", GUEST, 60), record=guest_heard)
    guest.wait_state("CONFIRMED")
    guest.dtmf("5555#")
    stack.wait_in_conference(room, 2)

    owner.dtmf("*886001234#")
    carrier.wait_for("incoming", 10)
    carrier.early(play=write_tone(audio_dir / "early.wav", EARLY, 60))
    time.sleep(3)  # everyone hears the early media
    owner.dtmf("##")  # drop it while it rings: CANCEL
    assert carrier.wait_state("DISCONNECTED")["code"] == 487
    carrier.forget()

    owner.dtmf("*886005678")  # ended by 3 s of silence, not #
    carrier.wait_for("incoming", 10)
    carrier.answer(play=write_tone(audio_dir / "answer.wav", ANSWER, 60))
    carrier.wait_state("CONFIRMED")
    stack.wait_in_conference(room, 3)
    time.sleep(3)
    owner.dtmf("##")  # drop it once answered: BYE
    carrier.wait_state("DISCONNECTED")
    stack.wait_in_conference(room, 2)

    owner.hangup()
    guest.hangup()
    owner.wait_for("recorded", 15)
    guest.wait_for("recorded", 15)
    for recording in (owner_heard, guest_heard):
        assert peak_level(recording, EARLY) > HEARD_ABOVE_DBFS, recording
        assert peak_level(recording, ANSWER) > HEARD_ABOVE_DBFS, recording
    assert peak_level(owner_heard, GUEST) > HEARD_ABOVE_DBFS
    assert peak_level(guest_heard, OWNER) > HEARD_ABOVE_DBFS


def test_only_extensions_open_local_conferences(stack: Stack, phones: Callable[..., TestPhone]) -> None:
    _, number = extension(stack, phones)
    stranger = phones("stranger8")
    stranger.call(f"sip:*8{number}@{stack.sip}")
    assert stranger.wait_state("DISCONNECTED")["code"] == 403


def test_the_moderator_mutes_locks_drops_and_ends_a_room(
    stack: Stack, phones: Callable[..., TestPhone], audio_dir: Path
) -> None:
    stack.create_room("7100", user_pin="1111", admin_pin="2222", mute_notifications=True, announce_count=False)
    mod = Caller(stack, phones, audio_dir, "mod").dial("7100", OWNER).pin("2222#")
    t0 = time.monotonic()  # about when mod's recording starts
    user = Caller(stack, phones, audio_dir, "user").dial("7100", GUEST).pin("1111#")
    stack.wait_in_conference("7100", 2)
    last = Caller(stack, phones, audio_dir, "last").dial("7100", ANSWER).pin("1111#")
    stack.wait_in_conference("7100", 3)
    all_in = time.monotonic() - t0
    time.sleep(2.5)
    user.pin("*92")  # a user cannot moderate
    time.sleep(1)
    mod.pin("*92")
    assert wait_for(lambda: sum(p["state"] == "muted" for p in participants(stack, "7100")) == 2, timeout=5)
    muted_at = time.monotonic() - t0
    time.sleep(3)
    mod.pin("*93")  # lock: nobody new gets in
    time.sleep(1.5)
    late = Caller(stack, phones, audio_dir, "late").dial("7100")
    assert late.hung_up_by_bridge()
    mod.pin("*94")  # drops the last joined
    assert last.hung_up_by_bridge()
    mod.pin("*95")  # ends it for everyone
    assert user.hung_up_by_bridge() and mod.hung_up_by_bridge()

    recording = mod.finish()
    before = levels(recording, [GUEST, ANSWER], all_in + 0.5, all_in + 2.0)
    after = levels(recording, [GUEST, ANSWER], muted_at + 1.0, muted_at + 2.5)
    for tone in (GUEST, ANSWER):
        assert before[tone] > HEARD_ABOVE_DBFS, (before, after)
        assert after[tone] < before[tone] - 30, (before, after)
    assert heard(late.finish(), "conference_locked") > HEARD
    assert heard(recording, "all_muted") > HEARD and heard(recording, "entry_locked") > HEARD
    assert heard(user.finish(), "ended_by_admin") > HEARD


def participants(stack: Stack, room: str) -> list[dict[str, object]]:
    return live.participants(live.connect(stack.config.redis_url), room)


def test_a_local_conference_speaks_joining_names_and_ends_with_its_owner(
    stack: Stack, phones: Callable[..., TestPhone], audio_dir: Path
) -> None:
    owner, owner_number = extension(stack, phones, conference_announce_caller_name=True,
                                    conference_end_on_exit=True)
    guest, guest_number = extension(stack, phones, display_name="Boris Petrov")
    spoken = stack.config.var_path / "sounds" / "names" / f"{guest_number}-8000.wav"
    assert wait_for(spoken.exists, timeout=20)  # the worker synthesized the name
    dialled, room = f"*8{owner_number}", str(address.local(owner_number))  # the feature code; its room
    owner_heard, guest_heard = audio_dir / "owner.wav", audio_dir / "guest.wav"
    owner.call(f"sip:{dialled}@{stack.sip}", record=owner_heard)
    stack.wait_in_conference(room, 1)
    guest.call(f"sip:{dialled}@{stack.sip}", record=guest_heard)
    stack.wait_in_conference(room, 2)
    time.sleep(4)  # the name, then "has joined"
    owner.hangup()
    assert guest.wait_state("DISCONNECTED", 15)["code"] == 200  # hung up by the bridge
    owner.wait_for("recorded", 15)
    guest.wait_for("recorded", 15)
    assert similarity(owner_heard, spoken) > HEARD
    assert heard(owner_heard, "participant_joined") > HEARD
    assert heard(guest_heard, "ended_by_admin") > HEARD


def test_a_room_reached_through_a_trunk_where_an_extension_invites_an_outside_number(
    stack: Stack, phones: Callable[..., TestPhone], audio_dir: Path
) -> None:
    stack.create_room("7200", mute_notifications=True, announce_count=False)
    member, _ = extension(stack, phones)
    customer = gateway(stack, phones, "carrier-f", inbound={"74953330000": "7200"})
    invited = gateway(stack, phones, "carrier-g", prefixes=["82"])
    member.call(f"sip:7200@{stack.sip}", play=write_tone(audio_dir / "m.wav", OWNER, 60))
    stack.wait_in_conference("7200", 1)
    customer_heard = audio_dir / "customer.wav"
    customer.call(f"sip:74953330000@{stack.sip}", record=customer_heard)  # the trunk's number for the room
    stack.wait_in_conference("7200", 2)
    member.dtmf("*882001#")  # any extension in a room may invite
    invited.wait_for("incoming", 10)
    invited.answer(play=write_tone(audio_dir / "i.wav", ANSWER, 60))
    stack.wait_in_conference("7200", 3)
    time.sleep(3)
    customer.hangup()
    customer.wait_for("recorded", 15)
    assert peak_level(customer_heard, OWNER) > HEARD_ABOVE_DBFS
    assert peak_level(customer_heard, ANSWER) > HEARD_ABOVE_DBFS


def user_token(stack: Stack, number: str) -> str:
    """An API token of a `user` account for the extension (signed in with its SIP password)."""
    status, body = stack.request("POST", "/accounts", {"name": number, "role": "user"})
    assert status == 201, body
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
    def post(path: str, body: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
        request = urllib.request.Request(stack.api + path, json.dumps(body).encode(), method="POST",
                                         headers={"Content-Type": "application/json", **headers})
        with opener.open(request, timeout=10) as response:
            return dict(json.loads(response.read()))
    session = post("/session", {"name": number, "password": f"pass-{number}-word"}, {})
    return str(post("/tokens", {"name": "e2e"}, {"X-CSRF-Token": session["csrf_token"]})["token"])


def as_user(stack: Stack, token: str, method: str, path: str) -> tuple[int, Any]:
    request = urllib.request.Request(stack.api + path, method=method, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def test_the_owner_reads_its_star_8_roster_and_mutes_an_invitee_through_the_api(
    stack: Stack, phones: Callable[..., TestPhone], audio_dir: Path
) -> None:
    owner, owner_number = extension(stack, phones)
    invitee, invitee_number = extension(stack, phones)
    _, stranger_number = extension(stack, phones)
    mine, strangers = user_token(stack, owner_number), user_token(stack, stranger_number)
    room = str(address.local(owner_number))
    path = f"/rooms/{room}/participants"

    def states() -> dict[str, str]:
        status, body = as_user(stack, mine, "GET", path)
        return {p["extension"]: p["state"] for p in body} if status == 200 else {}

    heard = audio_dir / "owner.wav"
    owner.call(f"sip:*8{owner_number}@{stack.sip}", play=write_tone(audio_dir / "o.wav", OWNER, 60), record=heard)
    t0 = time.monotonic()  # about when the owner's recording starts
    stack.wait_in_conference(room, 1)
    owner.dtmf(f"*8{invitee_number}#")
    invitee.wait_for("incoming", 10)
    assert wait_for(lambda: states() == {owner_number: "in_conference", invitee_number: "ringing"}, timeout=10)
    assert as_user(stack, strangers, "GET", path)[0] == 403  # not in it: not its business
    invitee.answer(play=write_tone(audio_dir / "i.wav", GUEST, 60))
    assert wait_for(lambda: states() == {owner_number: "in_conference", invitee_number: "in_conference"},
                    timeout=10)
    time.sleep(3)
    (guest_id,) = [p["id"] for p in as_user(stack, mine, "GET", path)[1] if p["extension"] == invitee_number]
    assert as_user(stack, strangers, "POST", f"{path}/{guest_id}/mute")[0] == 403
    assert as_user(stack, mine, "POST", f"{path}/{guest_id}/mute")[0] == 202
    assert wait_for(lambda: states()[invitee_number] == "muted", timeout=10)
    muted_at = time.monotonic() - t0
    time.sleep(3)
    assert as_user(stack, mine, "POST", f"{path}/{guest_id}/drop")[0] == 202
    assert invitee.wait_state("DISCONNECTED", 20)["code"] == 200  # the bridge hung up on it
    owner.hangup()
    owner.wait_for("recorded", 15)
    before = levels(heard, [GUEST], muted_at - 2.5, muted_at - 0.5)[GUEST]
    after = levels(heard, [GUEST], muted_at + 0.5, muted_at + 2.5)[GUEST]
    assert before > HEARD_ABOVE_DBFS and after < before - 30, (before, after)
