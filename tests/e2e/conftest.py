from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.mail import Inbox, smtp_server
from tests.support.phone import TestPhone
from tests.support.stack import Stack, running_stack, walls_stack


@pytest.fixture(scope="session")
def smtp() -> Iterator[tuple[Inbox, int]]:
    with smtp_server() as server:
        yield server


@pytest.fixture(scope="session")
def inbox(smtp: tuple[Inbox, int]) -> Inbox:
    return smtp[0]


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory, smtp: tuple[Inbox, int]) -> Iterator[Stack]:
    with running_stack(tmp_path_factory.mktemp("stack"), mail_port=smtp[1]) as running:
        yield running


@pytest.fixture(scope="session")
def walls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A stack of its own for the tests that play the attacker: their bans disturb no other test."""
    with walls_stack(tmp_path_factory.mktemp("walls")) as running:
        yield running


@pytest.fixture
def phones() -> Iterator[Callable[..., TestPhone]]:
    made: list[TestPhone] = []

    def make(name: str, codec: str | None = None) -> TestPhone:
        phone = TestPhone(name, codec=codec)
        made.append(phone)
        return phone

    yield make
    for phone in made:
        phone.close()


@pytest.fixture
def audio_dir(tmp_path: Path) -> Path:
    return tmp_path
