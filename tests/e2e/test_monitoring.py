"""Monitoring end to end: a real Prometheus scrapes a real stack while phones talk in a room; every
dashboard panel and every alert rule has data, and a leg that loses packets is seen to.

Every expression of every panel of prometheus/dashboards/*.json is evaluated (a new panel is
checked without touching this test), and every alert rule Prometheus loaded, with its threshold
turned into `bool` so the series behind it must exist even when it is not firing.
"""

from __future__ import annotations

import functools
import json
import math
import re
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from prometheus import dashboards, monitor
from stack.supervisor import wait_for
from store import live
from tests.e2e.test_edge_walls import RawUA, answered_options, authenticate
from tests.support.audio import write_tone
from tests.support.phone import TestPhone
from tests.support.ports import free_port
from tests.support.stack import Stack, running_stack

LOSS_PERCENT = 5  # injected on one phone's outgoing RTP (tests/phone.py --loss-percent)
TALK_SECONDS = 16  # several quality intervals, so every leg has figures from whole intervals
THRESHOLD = re.compile(r"(==|!=|>=|<=|>|<)\s*(-?[0-9.]+)\s*$")


GUESSER = "127.0.0.77"  # a stranger's address (127.0.0.1 is kamconf's own, never banned)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with pytest.MonkeyPatch.context() as env:
        env.setenv("KAMCONF_EDGE_AUTH_FAILURES", "1")  # one wrong password bans its source
        with running_stack(tmp_path_factory.mktemp("monitoring")) as running:
            yield running


@pytest.fixture(scope="module")
def prometheus(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Debian's prometheus on a free loopback port, scraping the stack every second."""
    directory = tmp_path_factory.mktemp("prometheus")
    config_file = monitor.write_config(stack.config, directory, interval="1s")
    port = free_port()
    with (directory / "prometheus.log").open("w") as log:
        process = subprocess.Popen(monitor.command(config_file, directory / "data", "127.0.0.1", port),
                                   stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        assert wait_for(lambda: ready(url), timeout=30), (directory / "prometheus.log").read_text()
        yield url
    finally:
        process.terminate()
        process.wait(timeout=15)


def ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/-/ready", timeout=1) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def api(url: str, path: str, **params: str) -> Any:
    query = f"?{urllib.parse.urlencode(params)}" if params else ""
    with urllib.request.urlopen(f"{url}/api/v1/{path}{query}", timeout=10) as response:
        body = json.loads(response.read())
    assert body["status"] == "success", body
    return body["data"]


def values(url: str, expr: str) -> list[float]:
    data = api(url, "query", query=expr)
    assert data["resultType"] == "vector", (expr, data)
    return [float(sample["value"][1]) for sample in data["result"]]


def scraped_since(prometheus: str, moment: float) -> bool:
    """Whether Prometheus has scraped every target since `moment` (Unix time)."""
    return min(values(prometheus, 'timestamp(up{job=~"kamconf-.*"})'), default=0) > moment


def talking_room(stack: Stack, prometheus: str, phones: Callable[..., TestPhone], audio_dir: Path,
                 monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Three phones in room 3300 playing tones, the last losing LOSS_PERCENT of what it sends.
    Their callers by role: "clean" and "lossy". The others call once Prometheus has seen the first
    call: Kamailio's relay-time histogram, made at its first observation, then shows a rate, as it
    would on a system with traffic, rather than being born with all three calls in it."""
    stack.create_room("3300", mute_notifications=True)
    callers = {}
    for index, tone in enumerate((600.0, 1000.0, 1500.0)):
        with monkeypatch.context() as patch:
            if index == 2:
                patch.setenv("KAMCONF_PHONE_LOSS_PERCENT", str(LOSS_PERCENT))
            phone = phones(f"phone{index}")
        phone.call(stack.room_uri("3300"), play=write_tone(audio_dir / f"tone{index}.wav", tone, 60))
        phone.wait_state("CONFIRMED")
        if index == 0:
            assert wait_for(functools.partial(scraped_since, prometheus, time.time()), 10)
        callers["lossy" if index == 2 else "clean"] = f"phone{index}"
    stack.wait_in_conference("3300", 3)
    return callers


def a_password_guesser_is_banned(stack: Stack) -> None:
    """Something for the SIP edge's counters of failed digests, bans and drops to count."""
    guesser = RawUA(GUESSER, stack.sip)
    try:
        guess = authenticate(guesser, "REGISTER", f"sip:{stack.sip}", "4999", "a-wrong-guess")
        assert guesser.final(guess, timeout=2) is None  # banned at once: no answer
    finally:
        guesser.close()
    assert not answered_options(GUESSER, stack.sip)  # dropped: counted as such


def participants(stack: Stack) -> list[dict[str, Any]]:
    status, body = stack.request("GET", "/rooms/3300/participants")
    assert status == 200, body
    return list(body)


def test_every_panel_and_rule_has_data_and_a_lossy_leg_shows_its_loss(
    stack: Stack, prometheus: str, phones: Callable[..., TestPhone], audio_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    a_password_guesser_is_banned(stack)
    talking_room(stack, prometheus, phones, audio_dir, monkeypatch)
    time.sleep(TALK_SECONDS)  # the length of the conversation judged, not a wait for a condition

    people = participants(stack)
    assert len(people) == 3 and all("mos" in p for p in people), people
    # The lossy phone joined last; the test phones' callers all look alike.
    lossy = max(people, key=lambda p: p["joined_at"])
    clean = [p for p in people if p is not lossy]
    # The figure covers one interval (~250 packets) of random loss: 5 % gives 1-10 % all but never.
    assert 1 <= lossy["loss_percent"] <= 2 * LOSS_PERCENT, lossy
    assert all(p["loss_percent"] < 0.5 and p["mos"] > lossy["mos"] for p in clean), people
    assert all(p["jitter_ms"] is not None and p["mos"] >= 1 for p in people), people
    # The room events carry the same figures (for the panel and the portal).
    entries: Any = live.connect(stack.config.redis_url).xrange(live.EVENTS)
    judged = {fields["participant"]: float(fields["mos"]) for _, fields in entries
              if fields["type"] == "quality" and fields["room"] == "3300"}  # each one's latest
    assert judged.keys() == {p["id"] for p in people}, judged
    assert judged[lossy["id"]] < min(judged[p["id"]] for p in clean), judged

    # Traffic within the panels' windows ([1m] for the relay time): the joins above, with their
    # prompts and the talk, can take longer than that on a busy host.
    late = phones("late")
    late.call(stack.room_uri("3300"))
    late.wait_state("CONFIRMED")
    late.hangup()
    late.wait_state("DISCONNECTED")
    # Every scrape target answered (once more since the requests above), then every panel and every
    # rule has data.
    asked = time.time()
    assert wait_for(lambda: scraped_since(prometheus, asked), 10)
    targets = api(prometheus, "targets")["activeTargets"]
    assert {t["labels"]["job"] for t in targets if t["health"] == "up"} == set(monitor.targets(stack.config))
    missing = [f"{title}: {expr}" for title, expr in panel_expressions() if not finite(values(prometheus, expr))]
    missing += [f"rule {name}: {expr}" for name, expr in rule_expressions(prometheus)
                if not values(prometheus, expr)]
    assert not missing, "\n".join(missing)
    assert min(values(prometheus, "kamconf_bridge_leg_mos_worst")) < 4.3  # the lossy leg is the worst
    # The guesser's wrong password was counted, banned it, and its next request was dropped.
    for expr in ("kamailio_sip_auth_failures_total", 'kamailio_sip_bans_total{reason="auth"}',
                 'kamailio_sip_dropped_total{reason="banned"}'):
        assert values(prometheus, expr) == [1.0], expr


def panel_expressions() -> list[tuple[str, str]]:
    found = []
    for path in sorted(Path(dashboards.HERE).glob("*.json")):
        found += [(f"{path.stem}/{title}", expr) for title, expr in dashboards.expressions(json.loads(
            path.read_text()))]
    assert len(found) >= 20
    return found


def rule_expressions(url: str) -> list[tuple[str, str]]:
    """Each alert rule Prometheus loaded, its final threshold made a `bool` comparison."""
    rules = [(rule["name"], rule["query"]) for group in api(url, "rules")["groups"] for rule in group["rules"]]
    assert len(rules) >= 4
    for name, query in rules:
        assert THRESHOLD.search(query), f"{name}: {query} does not end in a threshold"
    return [(name, THRESHOLD.sub(r"\1 bool \2", query)) for name, query in rules]


def finite(found: list[float]) -> bool:
    """Data a person can read: at least one series, and a number rather than NaN."""
    return any(not math.isnan(v) for v in found)
