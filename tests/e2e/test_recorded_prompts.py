"""Counts spoken with the recorded voice and each language's plural form, to a caller joining a
crowd of sipp participants (silent: the node's RTP timeout is raised so they stay)."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from stack.prompts import prompt_file
from stack.supervisor import wait_for
from tests.support.audio import similarity
from tests.support.phone import TestPhone
from tests.support.ports import free_port
from tests.support.sip import SCENARIOS
from tests.support.stack import Stack, running_stack

HEARD = 0.75  # see tests/e2e/test_room_options.py


@pytest.fixture(scope="module")
def patient(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(tmp_path_factory.mktemp("patient"), rtp_timeout=300.0) as running:
        yield running


@pytest.fixture
def crowd(patient: Stack) -> Iterator[Callable[[str, int], None]]:
    started: list[subprocess.Popen[bytes]] = []

    def fill(room: str, n: int) -> None:
        """n silent sipp participants in the room; returns once all n are in the conference."""
        # 3 calls a second: INVITE and ACK stay under Kamailio's flood limit (16 requests in 2 s).
        argv = ["sipp", patient.sip, "-sf", str(SCENARIOS / "invite_silent.xml"), "-s", room,
                "-m", str(n), "-l", str(n), "-r", "3", "-i", "127.0.0.1", "-p", str(free_port("udp")),
                "-mp", str(free_port("udp")), "-nostdin"]
        started.append(subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        patient.wait_in_conference(room, n, timeout=60)

    yield fill
    for process in started:
        process.terminate()
        process.wait(timeout=10)


@pytest.mark.parametrize(("others", "pieces", "words"), [
    (21, "count_intro+number_21+noun_one", ("number_21", "noun_one")),  # двадцать один другой участник
    (5, "count_intro+number_5+noun_many", ("number_5", "noun_many")),  # пять других участников
])
def test_a_russian_count_has_its_plural_form(
    patient: Stack, crowd: Callable[[str, int], None], phones: Callable[..., TestPhone], audio_dir: Path,
    others: int, pieces: str, words: tuple[str, ...],
) -> None:
    room = f"71{others:02d}"
    patient.create_room(room, language="ru", mute_notifications=True)
    crowd(room, others)
    newcomer, heard = phones("newcomer"), audio_dir / "newcomer.wav"
    newcomer.call(patient.room_uri(room), record=heard)
    newcomer.wait_state("CONFIRMED")
    said = f"room {room}: "
    assert wait_for(lambda: any(said in line and line.endswith(f" hears {pieces}")
                                for line in patient.log("bridge").splitlines()), timeout=20)
    patient.wait_in_conference(room, others + 1)
    newcomer.hangup()
    newcomer.wait_for("recorded", timeout=15)
    for piece in ("count_intro", *words):
        assert similarity(heard, prompt_file("ru", 8000, piece)) > HEARD, piece
    wrong = "noun_many" if "noun_one" in words else "noun_one"
    assert similarity(heard, prompt_file("ru", 8000, wrong)) < 0.6
