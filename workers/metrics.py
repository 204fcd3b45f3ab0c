"""Prometheus metrics of the worker, on [workers] metrics_port: jobs by queue and outcome, the
queue's depth, the mail outbox (size, oldest mail's age), scheduled conferences by state and the
rounds' attempts to start them.

Everything is read when Prometheus scrapes: the counts from Redis (store.counts: jobs run in
forked work horses), the rest from Redis and SQL as they are then. Labels are bounded: kamconf's
queue, an outcome, a conference state (conference.schedule.State).
"""

from __future__ import annotations

import logging
from collections import Counter as Tally
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import redis
from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from rq import Queue, Worker
from rq.job import Job
from rq.registry import ScheduledJobRegistry
from sqlalchemy.exc import SQLAlchemyError

import settings
from conference.schedule import State
from store import counts
from store.conferences import MeetingRepository
from store.queue import QUEUES, queue

log = logging.getLogger("workers.metrics")

JOBS = "jobs"  # store.counts name: label "<queue>:<outcome>"
STARTS = "conference_starts"  # label: an outcome below
EXTENDED = "conference_extended"  # label: "all"
WEBHOOK_TRIES = "webhook_tries"  # label: an outcome below
TRY_OUTCOMES = ("delivered", "retried", "failed")  # failed: the delivery's last try failed too
JOB_OUTCOMES = ("succeeded", "failed")
STARTED, NO_NODE = "started", "no_bridge_node"
START_OUTCOMES = (STARTED, NO_NODE)
# Conferences counted by state: those starting from a week back (a current one may have begun long
# ago) to 400 days ahead, as the rounds see them.
WINDOW = (timedelta(days=7), timedelta(days=400))


class CountingWorker(Worker):
    """RQ's worker, counting each job's outcome by queue (in Redis: the job ran in a work horse)."""

    def handle_job_success(self, job: Job, queue: Queue, *args: Any, **kwargs: Any) -> None:
        super().handle_job_success(job, queue, *args, **kwargs)
        counts.add(self.connection, JOBS, f"{queue.name}:succeeded")

    def handle_job_failure(self, job: Job, queue: Queue, *args: Any, **kwargs: Any) -> None:
        super().handle_job_failure(job, queue, *args, **kwargs)
        counts.add(self.connection, JOBS, f"{queue.name}:failed")


def count_start(client: redis.Redis, outcome: str) -> None:
    counts.add(client, STARTS, outcome)


def count_extension(client: redis.Redis) -> None:
    counts.add(client, EXTENDED, "all")


def count_try(client: redis.Redis, outcome: str) -> None:
    counts.add(client, WEBHOOK_TRIES, outcome)


class WorkerCollector(Collector):
    def __init__(self, client: redis.Redis, meetings: MeetingRepository,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.client, self.meetings, self.clock = client, meetings, clock

    def collect(self) -> Iterator[Any]:
        yield from self._counters()
        yield from self._queue()
        yield from self._sql()

    def _counters(self) -> Iterator[Any]:
        jobs = CounterMetricFamily("kamconf_worker_jobs", "Jobs run, by queue and outcome",
                                   labels=["queue", "outcome"])
        done = counts.read(self.client, JOBS)
        for name in QUEUES:
            for outcome in JOB_OUTCOMES:
                jobs.add_metric([name, outcome], done.get(f"{name}:{outcome}", 0))
        yield jobs
        starts = CounterMetricFamily(
            "kamconf_worker_conference_starts", "Scheduled conferences' start attempts by outcome (a round "
            "that finds no bridge node tries again the next round)", labels=["outcome"])
        tried = counts.read(self.client, STARTS)
        for outcome in START_OUTCOMES:
            starts.add_metric([outcome], tried.get(outcome, 0))
        yield starts
        yield CounterMetricFamily("kamconf_worker_conference_extensions", "Scheduled conferences extended at "
                                  "their end time (people still in, and the conference allows it)",
                                  value=counts.read(self.client, EXTENDED).get("all", 0))
        tries = CounterMetricFamily("kamconf_worker_webhook_tries", "Webhook deliveries' tries by outcome: "
                                    "delivered (2xx), retried (will be tried again), failed (the last try)",
                                    labels=["outcome"])
        made = counts.read(self.client, WEBHOOK_TRIES)
        for outcome in TRY_OUTCOMES:
            tries.add_metric([outcome], made.get(outcome, 0))
        yield tries

    def _queue(self) -> Iterator[Any]:
        depth = GaugeMetricFamily("kamconf_worker_queue_jobs", "Jobs waiting in a queue (ready, or scheduled "
                                  "for later)", labels=["queue", "kind"])
        for name in QUEUES:
            waiting = queue(self.client, name)
            depth.add_metric([name, "ready"], len(waiting))
            depth.add_metric([name, "scheduled"], ScheduledJobRegistry(queue=waiting).count)
        yield depth

    def _sql(self) -> Iterator[Any]:
        now = self.clock()
        try:
            waiting, oldest = self.meetings.outbox_waiting()
            states = Tally(m.state(now) for m in self.meetings.between(now - WINDOW[0], now + WINDOW[1]))
        except SQLAlchemyError as exc:  # the scrape shows Redis's figures still; the database's are absent
            log.warning("metrics: database unavailable: %s", exc)
            return
        yield GaugeMetricFamily("kamconf_mail_outbox_messages", "Mails waiting to be sent (given-up ones aside)",
                                value=waiting)
        yield GaugeMetricFamily("kamconf_mail_outbox_oldest_age_seconds",
                                "How long the oldest waiting mail has waited (0: none waits)",
                                value=outbox_age(oldest, now))
        by_state = GaugeMetricFamily("kamconf_conferences", "Scheduled conferences by state (from a week back "
                                     "to 400 days ahead)", labels=["state"])
        for state in State:
            by_state.add_metric([str(state)], states.get(state, 0))
        yield by_state


def outbox_age(oldest: datetime | None, now: datetime) -> float:
    return 0.0 if oldest is None else max(0.0, (now - oldest).total_seconds())


def serve(config: settings.Config, client: redis.Redis, meetings: MeetingRepository) -> None:
    """Answer Prometheus from a thread of the worker's main process (jobs run in forked children)."""
    registry = CollectorRegistry()
    registry.register(WorkerCollector(client, meetings))
    start_http_server(config.workers.metrics_port, addr=config.workers.address, registry=registry)
