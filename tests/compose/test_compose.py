"""docker-compose.yml as `make compose-up` starts it (images built from this repository, one
component per container, two bridge nodes, two rtpengines, Redis with Sentinel, PostgreSQL):
three phones in a room on each bridge node hear the two others and not themselves."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import settings
from settings import ROOT
from stack.supervisor import Supervisor
from store import live
from tests.support.audio import last_seconds
from tests.support.phone import TestPhone
from tests.support.stack import Stack
from tests.support.tones import assert_clean, hang_up, join_three

# A project of its own: its data volumes are removed afterwards, never those of `make compose-up`.
PROJECT = "kamconf-test"
COMPOSE = ["docker-compose", "-p", PROJECT]


class ComposeStack(Stack):
    """The compose stack seen from this host (host networking): settings of docker/kamconf.toml, the
    Redis password and an API token from inside the containers."""

    def __init__(self, config: settings.Config, path: Path, token: str) -> None:
        super().__init__(config, path, Supervisor(config, path, echo=None))  # never started: names only
        self._token = token


def in_container(service: str, *argv: str) -> str:
    return subprocess.run([*COMPOSE, "exec", "-T", service, *argv], cwd=ROOT, capture_output=True, text=True,
                          check=True).stdout.strip()


@pytest.fixture(scope="module")
def compose(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ComposeStack]:
    try:
        up = subprocess.run(["bash", "docker/up.sh"], cwd=ROOT, capture_output=True, text=True,
                            env={**os.environ, "KAMCONF_COMPOSE_PROJECT": PROJECT})
        sys.stderr.write(up.stderr[-4000:])
        assert up.returncode == 0, up.stderr[-4000:]
        var = tmp_path_factory.mktemp("compose")
        (var / "secrets").mkdir()
        (var / "secrets/redis.pass").write_text(in_container("web", "cat", "/var/lib/kamconf/secrets/redis.pass"))
        text = (ROOT / "docker/kamconf.toml").read_text().replace('"/var/lib/kamconf"', f'"{var}"')
        path = var / "kamconf.toml"
        path.write_text(text)
        yield ComposeStack(settings.load(path), path, in_container("web", "/opt/kamconf/docker/entry.sh", "token"))
    finally:
        subprocess.run([*COMPOSE, "down", "-v", "--remove-orphans"], cwd=ROOT, capture_output=True)


def test_a_room_on_each_bridge_node_hears_everyone_but_themselves(
    compose: ComposeStack, phones: Callable[[str], TestPhone], audio_dir: Path
) -> None:
    first = join_three(compose, phones, "3100", audio_dir)
    second = join_three(compose, phones, "3101", audio_dir)
    time.sleep(4)  # the length of the full mix each phone records, not a wait for a condition

    client = live.connect(compose.config.redis_url)
    homes = {live.affinity(client, "3100"), live.affinity(client, "3101")}
    assert homes == {"bridge-1", "bridge-2"}, homes  # the second room went to the less loaded node
    hang_up(first + second)
    for member in first + second:
        assert_clean(member, *last_seconds(member.recording, 3.0))
