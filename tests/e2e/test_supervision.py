"""A crashed process is restarted alone: live calls keep their audio, and the stack never goes down with it.

The supervision itself first, on stand-in processes (fast: restart, stop order, stopped on
purpose, failing restarts and backoff); then a real stack of this module's own (these tests
kill its processes): the RQ worker killed mid-call, the bridge node, Kamailio mid-call,
Redis, the web server; last `python -m stack up/status/down` (what the make targets run).
"""

from __future__ import annotations

import json
import os
import signal
import struct
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from rq.job import JobStatus

import settings
from conference import address
from stack.components import Component
from stack.restart import Backoff
from stack.supervisor import Supervisor, wait_for
from store import live
from store.queue import queue
from tests.e2e.test_extensions_and_trunks import extension, gateway
from tests.e2e.test_scheduled_conferences import schedule
from tests.support.audio import duration, levels, write_tone
from tests.support.phone import TestPhone
from tests.support.stack import Stack, running_stack, write_config

OTHER_ABOVE_DBFS = -25.0  # as the three-tone test: others are heard at about -12 dBFS
WAV_HEADER = 44


# The supervision on stand-in processes ----------------------------------------------------


def sleeper(name: str, var: Path, fail_after_first: bool = False) -> Component:
    """A process that is healthy once it has written its pid file; optionally one that only
    ever starts once (every later start exits with code 3, as a component with a broken
    config or a lost dependency would)."""
    pid_path = var / f"{name}.pid"
    script = (
        "import os, pathlib, signal, sys, time\n"
        f"path = pathlib.Path({str(pid_path)!r})\n"
        f"if {fail_after_first} and path.exists(): sys.exit(3)\n"
        # Each one notes when SIGTERM reaches it and when it is done (taking a moment, as the
        # bridge does to hang up), so a test can check that each stops only after the next one.
        f"def note(what): open({str(var / 'stopped')!r}, 'a').write({name!r} + what + ' ')\n"
        "def stop(*_): note(':asked'); time.sleep(0.5); note(':gone'); sys.exit(0)\n"
        "signal.signal(signal.SIGTERM, stop)\n"
        "path.write_text(str(os.getpid()))\n"
        "time.sleep(600)\n"
    )

    def healthy() -> bool:
        # Its own pid, alive: a file left by a killed predecessor does not count.
        try:
            os.kill(int(pid_path.read_text()), 0)
        except (OSError, ValueError):
            return False
        return True

    return Component(name=name, argv=[sys.executable, "-c", script], address=name, healthy=healthy,
                     exclusive=False)


@pytest.fixture
def make_supervisor(tmp_path: Path) -> Iterator[Callable[..., Supervisor]]:
    made: list[Supervisor] = []

    def make(*parts: Component) -> Supervisor:
        config = settings.load(write_config(tmp_path / "var"))
        supervisor = Supervisor(config, tmp_path / "var" / "kamconf.toml", echo=None,
                                backoff=Backoff(first=0.2, factor=2.0, cap=1.0), parts=list(parts))
        made.append(supervisor)
        return supervisor

    yield make
    for supervisor in made:
        supervisor.stop()


def test_a_killed_process_is_restarted_alone_and_logged(tmp_path: Path, make_supervisor: Callable[..., Supervisor]
                                                        ) -> None:
    supervisor = make_supervisor(sleeper("first", tmp_path), sleeper("second", tmp_path))
    supervisor.start()
    supervisor.keep_running()
    first, second = supervisor.procs["first"], supervisor.procs["second"]
    first.kill()

    def log() -> str:
        return supervisor.log_path("first").read_text()

    assert wait_for(lambda: "first restarted" in log(), timeout=10)
    again = supervisor.procs["first"]
    assert again.pid != first.pid and again.poll() is None and supervisor.restarts["first"] == 1
    assert supervisor.procs["second"] is second and second.poll() is None  # untouched
    assert "first exited with code -9 (SIGKILL) (crash 1); starting it again in 0.2 s" in log()
    assert f"first restarted (pid {again.pid}, restarts 1)" in log()
    supervisor.stop()
    # In reverse start order, the restarted one too (nothing else stopped it first).
    assert (tmp_path / "stopped").read_text().split() == ["second:asked", "second:gone", "first:asked", "first:gone"]


def test_a_process_stopped_on_purpose_stays_stopped(tmp_path: Path, make_supervisor: Callable[..., Supervisor]
                                                    ) -> None:
    supervisor = make_supervisor(sleeper("one", tmp_path), sleeper("other", tmp_path))
    supervisor.start()
    supervisor.keep_running()
    assert supervisor.stop_one("one") == 0
    # A crash of the other, noticed and restarted meanwhile, shows the watcher was looking.
    supervisor.procs["other"].kill()
    assert wait_for(lambda: supervisor.restarts["other"] == 1, timeout=10)
    assert "one" not in supervisor.procs and supervisor.restarts["one"] == 0
    assert "exited" not in supervisor.log_path("one").read_text()


def test_a_restart_that_fails_is_retried_with_growing_waits_and_stop_ends_it(
    tmp_path: Path, make_supervisor: Callable[..., Supervisor]
) -> None:
    supervisor = make_supervisor(sleeper("broken", tmp_path, fail_after_first=True), sleeper("fine", tmp_path))
    supervisor.start()
    supervisor.keep_running()
    fine = supervisor.procs["fine"]
    supervisor.procs["broken"].kill()

    def log() -> str:
        return supervisor.log_path("broken").read_text()

    assert wait_for(lambda: "(crash 4)" in log(), timeout=15)
    assert "failed to come back: broken: exited after start (broken) (crash 2); starting it again in 0.4 s" in log()
    assert "(crash 3); starting it again in 0.8 s" in log() and "(crash 4); starting it again in 1 s" in log()
    assert fine.poll() is None and supervisor.procs["fine"] is fine
    supervisor.stop()  # during a backoff or a start: either way nothing is started after this
    assert not supervisor.watching and supervisor.procs == {} and fine.poll() is not None


# The real stack ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def own_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(tmp_path_factory.mktemp("supervised")) as stack:
        yield stack


def recorded_seconds(recording: Path) -> float:
    """How much a phone has recorded so far (its WAV header is completed only at hang-up)."""
    try:
        with recording.open("rb") as wav:
            header = wav.read(WAV_HEADER)
        rate = struct.unpack_from("<I", header, 24)[0]
        return max(0.0, (recording.stat().st_size - WAV_HEADER) / (2 * rate))
    except (OSError, struct.error):
        return 0.0


def wait_recorded(recordings: list[Path], seconds: float) -> None:
    assert wait_for(lambda: all(recorded_seconds(r) >= seconds for r in recordings), timeout=seconds + 15)


class Caller:
    def __init__(self, phone: TestPhone, recording: Path, tone: float) -> None:
        self.phone, self.recording, self.tone = phone, recording, tone


def join(stack: Stack, phones: Callable[..., TestPhone], audio_dir: Path, room: str, tone: float) -> Caller:
    phone = phones(f"{room}-{tone:.0f}")
    recording = audio_dir / f"{room}-heard-by-{tone:.0f}.wav"
    phone.call(stack.room_uri(room), play=write_tone(audio_dir / f"{tone:.0f}.wav", tone, 60), record=recording)
    phone.wait_state("CONFIRMED")
    return Caller(phone, recording, tone)


def hang_up(callers: list[Caller]) -> None:
    for caller in callers:
        caller.phone.hangup()
    for caller in callers:
        caller.phone.wait_for("recorded", timeout=15)


def quiet_windows(caller: Caller, tone: float, start: float, end: float) -> list[tuple[float, float]]:
    """The 1 s windows between start and end (every 0.5 s) where `tone` is not clearly heard."""
    quiet = []
    at = start
    while at + 1.0 <= end:
        level = levels(caller.recording, [tone], at, at + 1.0)[tone]
        if level <= OTHER_ABOVE_DBFS:
            quiet.append((at, level))
        at += 0.5
    return quiet


def registered_worker_pids(stack: Stack) -> set[int]:
    from rq import Worker

    return {w.pid for w in Worker.all(connection=live.queue_connection(stack.config.redis_url)) if w.pid}


def recordings_of(stack: Stack, room: str) -> list[dict[str, Any]]:
    status, found = stack.request("GET", f"/recordings?room={room}")
    assert status == 200
    return list(found)


def test_a_killed_worker_comes_back_and_the_call_never_notices(
    own_stack: Stack, phones: Callable[..., TestPhone], audio_dir: Path
) -> None:
    stack = own_stack
    stack.create_room("5100", record=True, mute_notifications=True)
    callers = [join(stack, phones, audio_dir, "5100", tone) for tone in (600.0, 1000.0)]
    stack.wait_in_conference("5100", 2)
    in_mix = [recorded_seconds(c.recording) for c in callers]
    wait_recorded([c.recording for c in callers], max(in_mix) + 2.0)

    old = stack.supervisor.procs["worker"]
    killed_at = [recorded_seconds(c.recording) for c in callers]
    os.kill(old.pid, signal.SIGKILL)
    assert wait_for(lambda: stack.supervisor.procs["worker"].pid != old.pid, timeout=10)
    new = stack.supervisor.procs["worker"]
    # Registered under its own name, and its dead predecessor deregistered.
    assert wait_for(lambda: registered_worker_pids(stack) == {new.pid}, timeout=15), registered_worker_pids(stack)
    assert stack.supervisor.restarts["worker"] == 1
    assert "worker exited with code -9 (SIGKILL)" in stack.log("worker")
    wait_recorded([c.recording for c in callers], max(killed_at) + 3.0)
    hang_up(callers)

    for caller, kill, other in zip(callers, killed_at, reversed(callers), strict=True):
        # From 2 s before the kill to the hang-up, every second of the mix carries the other's tone.
        assert quiet_windows(caller, other.tone, kill - 2.0, duration(caller.recording) - 0.5) == []
    # The session's recording is filed by a job: the restarted worker ran it.
    assert wait_for(lambda: len(recordings_of(stack, "5100")) == 1, timeout=20)
    # And it schedules again (scheduled conferences start this way): its dead predecessor's
    # scheduler lock would otherwise hold for a minute, and RQ tries again only every 10.
    job = queue(live.queue_connection(stack.config.redis_url)).enqueue_in(
        timedelta(seconds=1), "workers.jobs.speak_name", "0")
    assert wait_for(lambda: job.get_status(refresh=True) == JobStatus.FINISHED, timeout=20), job.get_status()


def test_a_killed_bridge_ends_its_calls_comes_back_without_ghosts_and_takes_new_calls(
    own_stack: Stack, phones: Callable[..., TestPhone], audio_dir: Path
) -> None:
    stack = own_stack
    client = live.connect(stack.config.redis_url)
    stack.create_room("5150", mute_notifications=True)
    stranded = [join(stack, phones, audio_dir, "5150", tone) for tone in (650.0, 1150.0)]
    stack.wait_in_conference("5150", 2)
    # And a leg the node dialled (billed): an extension's *8 conference invites an outside number.
    owner, number = extension(stack, phones)
    carrier = gateway(stack, phones, "carrier-k", prefixes=["87"])
    owner.call(f"sip:*8{number}@{stack.sip}")
    stack.wait_in_conference(str(address.local(number)), 1)
    owner.dtmf("*887001234#")
    carrier.wait_for("incoming", 10)
    carrier.answer()
    carrier.wait_state("CONFIRMED")
    stack.wait_in_conference(str(address.local(number)), 2)
    answered = time.time()
    time.sleep(5)  # a leg billed for seconds

    old = stack.supervisor.procs["bridge"]
    os.kill(old.pid, signal.SIGKILL)
    killed = time.monotonic()
    # Kamailio ends the calls of the dead run (the restart made a new one): a BYE to each phone,
    # the carrier too, well within the 10 s a caller would wait on silence.
    for phone in (*(c.phone for c in stranded), owner, carrier):
        phone.wait_state("DISCONNECTED", timeout=15)
    print(f"BYE {time.monotonic() - killed:.1f} s after the kill")
    assert wait_for(lambda: stack.supervisor.procs["bridge"].pid != old.pid, timeout=10)
    assert "bridge exited with code -9 (SIGKILL)" in stack.log("bridge")
    assert wait_for(lambda: [n.id for n in live.live_nodes(client)] == [stack.config.bridge.id], timeout=15)
    # Its participants left the live state (each with a left event); the room is empty to a newcomer.
    assert wait_for(lambda: live.participants(client, "5150") == [], timeout=10), live.participants(client, "5150")
    assert "bridge-1/" in stack.log("kamailio") and "its calls end with a BYE" in stack.log("kamailio")
    # The dialled leg's record, left open by the dead node, was closed at its last heartbeat and filed.
    def billed() -> list[dict[str, Any]]:
        status, found = stack.request("GET", "/cdrs?number=87001234")
        assert status == 200, found
        return list(found)

    assert wait_for(lambda: len(billed()) == 1, timeout=20), billed()
    (cdr,) = billed()
    assert cdr["disposition"] == "answered" and cdr["billed_to"] == number, cdr
    # Up to a heartbeat (2 s) short of the kill, never more than the call lasted.
    assert 3 <= cdr["billable_seconds"] <= time.time() - answered + 1, cdr

    stack.create_room("5200", mute_notifications=True)
    callers = [join(stack, phones, audio_dir, "5200", tone) for tone in (700.0, 1300.0)]
    stack.wait_in_conference("5200", 2)
    joined = max(recorded_seconds(c.recording) for c in callers)
    wait_recorded([c.recording for c in callers], joined + 3.0)
    hang_up(callers)
    for caller, other in zip(callers, reversed(callers), strict=True):
        assert quiet_windows(caller, other.tone, joined, duration(caller.recording) - 0.5) == []


def test_a_scheduled_conference_on_a_killed_bridge_resumes_and_calls_everyone_again(
    own_stack: Stack, phones: Callable[..., TestPhone], audio_dir: Path
) -> None:
    stack = own_stack
    owner, owner_number = extension(stack, phones)
    colleague, colleague_number = extension(stack, phones)
    made = schedule(stack, 3, owner={"number": owner_number, "name": "Owner"},
                    participants=[{"number": colleague_number}])
    room = str(address.scheduled(made["code"]))
    for phone, tone in ((owner, 600.0), (colleague, 1000.0)):
        phone.wait_for("incoming", 20)
        phone.answer(play=write_tone(audio_dir / f"s{tone:.0f}.wav", tone, 60))
    stack.wait_in_conference(room, 2)

    old = stack.supervisor.procs["bridge"]
    os.kill(old.pid, signal.SIGKILL)
    for phone in (owner, colleague):
        phone.wait_state("DISCONNECTED", timeout=15)
        phone.forget()
    # The worker's next round finds the run it started the conference on gone, and starts it on
    # the node that lives now (a node restarted within a minute of the start replays the start
    # itself; the second start is ignored): everyone is called again, once, and they hear each other.
    callers = []
    for phone, tone in ((owner, 600.0), (colleague, 1000.0)):
        phone.wait_for("incoming", 30)
        recording = audio_dir / f"resumed-heard-by-{tone:.0f}.wav"
        phone.answer(play=write_tone(audio_dir / f"s{tone:.0f}.wav", tone, 60), record=recording)
        callers.append(Caller(phone, recording, tone))
    stack.wait_in_conference(room, 2)
    assert wait_for(lambda: "resumed on" in stack.log("worker"), timeout=15)
    joined = max(recorded_seconds(c.recording) for c in callers)
    wait_recorded([c.recording for c in callers], joined + 3.0)
    hang_up(callers)
    for caller, other in zip(callers, reversed(callers), strict=True):
        assert quiet_windows(caller, other.tone, joined, duration(caller.recording) - 0.5) == []


def test_a_killed_kamailio_comes_back_and_calls_go_on_to_their_bye(
    own_stack: Stack, phones: Callable[..., TestPhone], audio_dir: Path
) -> None:
    stack = own_stack
    stack.create_room("5300", mute_notifications=True)
    callers = [join(stack, phones, audio_dir, "5300", tone) for tone in (800.0, 1200.0)]
    stack.wait_in_conference("5300", 2)
    wait_recorded([c.recording for c in callers], max(recorded_seconds(c.recording) for c in callers) + 2.0)

    old = stack.supervisor.procs["kamailio"]
    killed_at = [recorded_seconds(c.recording) for c in callers]
    os.kill(old.pid, signal.SIGKILL)
    assert wait_for(lambda: "kamailio restarted" in stack.log("kamailio"), timeout=20)
    wait_recorded([c.recording for c in callers], max(killed_at) + 2.0)
    # The BYE finds the bridge through the new Kamailio by its Route headers alone (record-route
    # keeps no state in Kamailio), and the bridge answers it.
    leaving, staying = callers
    leaving.phone.hangup()
    assert leaving.phone.wait_state("DISCONNECTED")["code"] == 200
    assert wait_for(lambda: stack.in_conference("5300") == 1, timeout=10)
    hang_up([staying])
    leaving.phone.wait_for("recorded", timeout=15)

    # Media never passed through Kamailio: the mix went on across its death.
    for caller, kill, other in zip(callers, killed_at, reversed(callers), strict=True):
        end = kill + 2.0 if caller is staying else duration(caller.recording) - 0.5
        assert quiet_windows(caller, other.tone, kill - 2.0, end) == []


def in_append_only_file(stack: Stack, text: str) -> bool:
    """Whether Redis has written `text` to its append-only files (then a SIGKILL cannot lose it)."""
    folder = stack.config.var_path / "redis" / "appendonlydir"
    return any(text.encode() in part.read_bytes() for part in folder.glob("*.aof"))


def test_a_killed_redis_comes_back_from_its_append_only_file(
    own_stack: Stack, phones: Callable[..., TestPhone], audio_dir: Path
) -> None:
    stack = own_stack
    stack.create_room("5400", mute_notifications=True)
    assert wait_for(lambda: in_append_only_file(stack, "5400"), timeout=10)
    old = stack.supervisor.procs["redis"]
    os.kill(old.pid, signal.SIGKILL)
    assert wait_for(lambda: "redis restarted" in stack.log("redis"), timeout=20)

    client = live.connect(stack.config.redis_url)
    assert live.get_entry(client, live.ROOMS, "5400") is not None  # read back from the file
    # Every client of Redis finds it again: the bridge registers, KEMI routes, a worker runs jobs.
    assert wait_for(lambda: [n.id for n in live.live_nodes(client)] == [stack.config.bridge.id], timeout=15)
    caller = join(stack, phones, audio_dir, "5400", 500.0)
    stack.wait_in_conference("5400", 1)
    hang_up([caller])
    # Scheduled jobs too: RQ's scheduler process died with the connection, and comes back.
    job = queue(live.queue_connection(stack.config.redis_url)).enqueue_in(
        timedelta(seconds=1), "workers.jobs.speak_name", "0")
    assert wait_for(lambda: job.get_status(refresh=True) == JobStatus.FINISHED, timeout=30), job.get_status()


def test_a_killed_web_server_comes_back_after_its_start_steps(own_stack: Stack) -> None:
    stack = own_stack
    ran = stack.log("web").count("bootstrap: schema up to date")
    os.kill(stack.supervisor.procs["web"].pid, signal.SIGKILL)  # gunicorn's master; its workers go with it
    assert wait_for(lambda: "web restarted" in stack.log("web"), timeout=30)
    assert stack.log("web").count("bootstrap: schema up to date") == ran + 1  # migrations, projection
    assert stack.create_room("5500")["number"] == "5500"


def stack_command(command: str, config_file: Path) -> subprocess.CompletedProcess[str]:
    """What `make up/status/down` run."""
    return subprocess.run([sys.executable, "-m", "stack", command], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "KAMCONF_CONFIG": str(config_file)})


def restarts(status_line: str) -> int:
    """The restart count in a `make status` line ("... restarts N", rtpengine's followed by its mode)."""
    return int(status_line.split(" restarts ", 1)[1].split()[0])


def test_up_restarts_a_killed_component_status_counts_it_and_down_stops_all(tmp_path: Path) -> None:
    config_file = write_config(tmp_path / "var")
    config = settings.load(config_file)
    try:
        assert stack_command("up", config_file).returncode == 0
        pids = json.loads(Supervisor.status_file(config).read_text())
        os.kill(pids["rtpengine"]["pid"], signal.SIGKILL)

        lines: dict[str, str] = {}

        def back() -> bool:
            lines.update((line.split()[0], line) for line in stack_command("status", config_file).stdout.splitlines())
            return lines["rtpengine"].split()[1] == "up" and restarts(lines["rtpengine"]) == 1

        assert wait_for(back, timeout=30), lines
        assert all(line.split()[1] == "up" for line in lines.values()), lines
        assert restarts(lines["kamailio"]) == 0
    finally:
        down = stack_command("down", config_file)
    assert down.returncode == 0, down.stdout + down.stderr
    assert all(line.split()[1] == "down" for line in stack_command("status", config_file).stdout.splitlines())
    log = (config.var_path / "log" / "stack.log").read_text()
    assert "rtpengine | kamconf: rtpengine exited with code -9 (SIGKILL) (crash 1)" in log
    assert "kamconf: stopped" in log
