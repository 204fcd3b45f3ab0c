"""The web app's and the worker's Prometheus metrics, read as Prometheus would, over real Redis and
SQLite: requests by endpoint and status class; jobs, queue depth, the mail outbox, conferences by
state, start attempts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import redis
from flask.testing import FlaskClient
from prometheus_client import REGISTRY, CollectorRegistry

import settings
from store import counts
from store.conferences import MeetingRepository
from store.queue import QUEUE, WEBHOOKS_QUEUE, enqueue_tick
from store.sql import make_engine, make_sessions
from tests.integration.test_api_conferences import MEETING, post
from workers import metrics as worker_metrics
from workers.metrics import WorkerCollector


def answered(endpoint: str, status: str) -> float:
    return REGISTRY.get_sample_value("kamconf_web_requests_total", {"endpoint": endpoint, "status": status}) or 0.0


def test_requests_are_counted_by_endpoint_and_status_class_never_by_path(api: FlaskClient) -> None:
    before = answered("healthz", "2xx"), answered("unmatched", "4xx")
    assert api.get("/healthz").status_code == 200
    assert api.get("/no/such/page/" + "x" * 200).status_code == 404
    assert (answered("healthz", "2xx"), answered("unmatched", "4xx")) == (before[0] + 1, before[1] + 1)
    latency = REGISTRY.get_sample_value("kamconf_web_request_duration_seconds_count", {"endpoint": "healthz"})
    assert latency is not None and latency >= 1
    # Every endpoint has its latency series from the first request on, at 0 until used.
    assert REGISTRY.get_sample_value("kamconf_web_request_duration_seconds_count",
                                     {"endpoint": "api.rooms.create_room"}) is not None


def scrape(collector: WorkerCollector) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    registry = CollectorRegistry()
    registry.register(collector)
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in registry.collect() for sample in family.samples}


def test_the_worker_shows_jobs_queue_outbox_and_conferences(
    api: FlaskClient, auth: dict[str, str], config: settings.Config, client: redis.Redis,
) -> None:
    meetings = MeetingRepository(make_sessions(make_engine(config.database_url)))
    later = datetime.now(UTC) + timedelta(minutes=20)
    collector = WorkerCollector(client, meetings, clock=lambda: later)
    empty = scrape(collector)
    assert empty[("kamconf_mail_outbox_messages", ())] == 0
    assert empty[("kamconf_mail_outbox_oldest_age_seconds", ())] == 0
    assert empty[("kamconf_worker_jobs_total", (("outcome", "failed"), ("queue", QUEUE)))] == 0
    assert empty[("kamconf_worker_conference_starts_total", (("outcome", worker_metrics.NO_NODE),))] == 0
    assert empty[("kamconf_worker_conference_extensions_total", ())] == 0
    assert empty[("kamconf_worker_webhook_tries_total", (("outcome", "failed"),))] == 0
    assert empty[("kamconf_worker_queue_jobs", (("kind", "scheduled"), ("queue", WEBHOOKS_QUEUE)))] == 0

    post(api, auth, MEETING)  # its invitations wait in the outbox
    enqueue_tick(client, periodic=False)
    counts.add(client, worker_metrics.JOBS, f"{QUEUE}:failed")
    worker_metrics.count_start(client, worker_metrics.NO_NODE)
    worker_metrics.count_extension(client)
    worker_metrics.count_try(client, "failed")
    seen = scrape(collector)
    assert seen[("kamconf_mail_outbox_messages", ())] >= 1
    assert 19 * 60 < seen[("kamconf_mail_outbox_oldest_age_seconds", ())] < 21 * 60
    assert seen[("kamconf_conferences", (("state", "scheduled"),))] == 1
    assert seen[("kamconf_conferences", (("state", "current"),))] == 0
    assert seen[("kamconf_worker_queue_jobs", (("kind", "ready"), ("queue", QUEUE)))] >= 1
    assert seen[("kamconf_worker_jobs_total", (("outcome", "failed"), ("queue", QUEUE)))] == 1
    assert seen[("kamconf_worker_conference_starts_total", (("outcome", worker_metrics.NO_NODE),))] == 1
    assert seen[("kamconf_worker_conference_extensions_total", ())] == 1
    assert seen[("kamconf_worker_webhook_tries_total", (("outcome", "failed"),))] == 1
