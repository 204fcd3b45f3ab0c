"""The stack's secrets: made at first start, readable by their owner only, never on a command line,
and Redis (the live state every component trusts) refuses clients without its password."""

from __future__ import annotations

import stat
import subprocess

import pytest
import redis

from tests.support.stack import Stack


def test_redis_refuses_clients_without_the_password(stack: Stack) -> None:
    address, port = stack.config.redis.address, stack.config.redis.port
    with redis.Redis(host=address, port=port, socket_timeout=2) as stranger, pytest.raises(redis.AuthenticationError):
        stranger.keys("kamconf:*")
    with redis.Redis(host=address, port=port, password="guess", socket_timeout=2) as guesser, pytest.raises(
            redis.AuthenticationError):
        guesser.ping()
    with redis.Redis.from_url(stack.config.redis_url, socket_timeout=2) as component:
        assert component.ping()


def test_secrets_are_private_files_and_on_no_command_line(stack: Stack) -> None:
    config = stack.config
    for path in (config.secret_path, config.redis_password_path):
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == 0o600, (path, oct(mode))
        assert len(path.read_text().strip()) >= 32
    command_lines = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True, check=True).stdout
    for secret in (config.secret_path.read_text().strip(), config.redis_password):
        assert secret not in command_lines
    assert config.redis_password not in stack.config.redis_shown
