"""Worker jobs run against the schema as store.bootstrap left it: they never migrate, and reuse one engine."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis
from flask import Flask

import settings
import store.migrations
from conference.schedule import JoinedBy
from store.conferences import MeetingRepository
from workers import jobs, meetings


@pytest.fixture
def worker(config: settings.Config, app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A worker process's view of this test's config, on a database the app fixture migrated."""
    monkeypatch.setenv("KAMCONF_CONFIG", str(config.var_path / "kamconf.toml"))

    def refuse(*_: object) -> None:
        raise AssertionError("a job ran a migration")

    monkeypatch.setattr(store.migrations, "upgrade", refuse)
    monkeypatch.setattr(store.migrations.command, "upgrade", refuse)
    jobs.config.cache_clear()
    jobs.sessions.cache_clear()
    yield
    jobs.config.cache_clear()
    jobs.sessions.cache_clear()


def test_jobs_work_without_migrating_and_share_one_engine(worker: None, client: redis.Redis) -> None:
    meetings.tick()
    meetings.record_attendance("m1", "123456", "sip:a@x", "user", JoinedBy.DIAL_IN, 1_800_000_000.0, True)
    assert jobs.import_cdr("no-such-record") is False
    assert jobs.speak_name("999") is False  # no such extension: nothing to say
    assert jobs.sessions.cache_info().currsize == 1 and jobs.sessions.cache_info().hits >= 3
    attended = MeetingRepository(jobs.sessions()).attendance("123456")
    assert [(a["caller"], a["joined_by"]) for a in attended] == [("sip:a@x", "dial-in")]
