"""The compose test builds images and starts containers for minutes: only `make test-compose` runs it
(KAMCONF_COMPOSE_TEST=1); `make test` (pytest tests) skips this folder at once."""

from __future__ import annotations

import os

import pytest

from tests.e2e.conftest import audio_dir, phones  # noqa: F401  (the phones and their recordings, as in e2e)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("KAMCONF_COMPOSE_TEST"):
        return
    skip = pytest.mark.skip(reason="slow (builds images, starts docker-compose.yml): make test-compose")
    for item in items:
        if "tests/compose/" in item.nodeid:
            item.add_marker(skip)
