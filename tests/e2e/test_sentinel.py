"""Redis with a replica and three Sentinels ([redis] replicas = 1): a failover in the middle of a
conference loses no room and no participant, the mix never stops (the bridge keeps its calls while
Redis is away), and every component finds the new master: a newcomer joins within seconds."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from stack.supervisor import wait_for
from store import live
from tests.e2e.test_supervision import duration, hang_up, join, quiet_windows, recorded_seconds, wait_recorded
from tests.support.phone import TestPhone
from tests.support.stack import Stack, running_stack


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(tmp_path_factory.mktemp("sentinel"), redis_replicas=1) as running:
        yield running


def master_port(stack: Stack) -> int:
    r = stack.config.redis
    sentinel = redis.Redis(r.address, r.sentinel_port, socket_timeout=2, decode_responses=True)
    found: Any = sentinel.sentinel_get_master_addr_by_name(r.master_name)
    return int(found[1])


def test_a_failover_mid_conference_loses_nothing_and_a_newcomer_joins(
    stack: Stack, phones: Callable[..., TestPhone], audio_dir: Path
) -> None:
    r = stack.config.redis
    assert stack.config.redis_url.startswith("redis+sentinel://")
    assert master_port(stack) == r.port
    stack.create_room("6300", mute_notifications=True)
    callers = [join(stack, phones, audio_dir, "6300", tone) for tone in (550.0, 1050.0)]
    stack.wait_in_conference("6300", 2)
    # The replica has everything the master wrote (it is promoted with it).
    replica = redis.Redis(r.address, r.port + 1, password=stack.config.redis_password, decode_responses=True)
    assert wait_for(lambda: replica.hlen(live.PARTICIPANTS.format("6300")) == 2, timeout=10)
    joined = max(recorded_seconds(c.recording) for c in callers)

    sentinel = redis.Redis(r.address, r.sentinel_port, socket_timeout=5, decode_responses=True)
    sentinel.execute_command("SENTINEL", "FAILOVER", r.master_name)
    assert wait_for(lambda: master_port(stack) == r.port + 1, timeout=20)
    promoted = time.monotonic()

    # Kamailio, the bridge and the web all write again, to the new master: a newcomer joins.
    newcomer = join(stack, phones, audio_dir, "6300", 1550.0)
    print(f"a newcomer's call answered {time.monotonic() - promoted:.1f} s after the promotion")
    stack.wait_in_conference("6300", 3)
    print(f"a newcomer in the mix {time.monotonic() - promoted:.1f} s after the promotion")
    assert live.get_entry(live.connect(stack.config.redis_url), live.ROOMS, "6300") is not None
    everyone = [*callers, newcomer]
    wait_recorded([c.recording for c in everyone], max(recorded_seconds(c.recording) for c in everyone) + 3.0)
    hang_up(everyone)
    for caller, other in zip(callers, reversed(callers), strict=True):
        # From the join, across the failover, to the hang-up: never a second without the other.
        assert quiet_windows(caller, other.tone, joined, duration(caller.recording) - 0.5) == []
    for caller in callers:
        end = duration(caller.recording) - 0.5
        assert quiet_windows(caller, newcomer.tone, end - 3.0, end) == []
