"""Putting work on the RQ queue, by the job's dotted name.

The bridge and the web app enqueue jobs that the worker runs. Naming a job by its
dotted path (RQ imports it in the worker) keeps `workers`, and with it Alembic and
the jobs' own imports, out of every process that only enqueues. The job functions
live in workers/; tests/integration/test_queue.py checks that each name resolves.
"""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime, timedelta

import redis
from rq import Queue
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from rq.serializers import JSONSerializer

QUEUE = "kamconf"
# Webhook deliveries wait on a queue of their own, which the worker takes only when kamconf's is
# empty: a flood of events, or a receiver that answers slowly, never holds up a conference's start.
WEBHOOKS_QUEUE = "kamconf-webhooks"
QUEUES = (QUEUE, WEBHOOKS_QUEUE)  # in the order the worker takes them
WAITING = frozenset({JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.STARTED})
ROUND = timedelta(seconds=5)  # between the scheduled conferences' periodic rounds

IMPORT_RECORDING = "workers.jobs.import_recording"
IMPORT_CDR = "workers.jobs.import_cdr"
SPEAK_NAME = "workers.jobs.speak_name"
SPEAK_MENU = "workers.jobs.speak_menu"
MEETINGS_TICK = "workers.meetings.tick"
MEETING_EMPTIED = "workers.meetings.meeting_emptied"
EXTEND_MEETING = "workers.meetings.extend_meeting"
RECORD_ATTENDANCE = "workers.meetings.record_attendance"
DELIVER_WEBHOOK = "workers.webhooks.deliver"
DELIVER_WEBHOOKS = "workers.webhooks.deliver_first"


def queue(client: redis.Redis, name: str = QUEUE) -> Queue:
    """kamconf's queue (or another of QUEUES). Jobs travel as JSON, never pickles: whoever can write
    to Redis must not be able to make the worker run code of their choosing."""
    return Queue(name, connection=client, serializer=JSONSerializer)


def enqueue_first_tries(client: redis.Redis, delivery_ids: list[int]) -> str:
    """The first tries of new webhook deliveries, in one job (a work horse is forked per job); its id."""
    job_id = f"webhooks-first-{delivery_ids[0]}"
    queue(client, WEBHOOKS_QUEUE).enqueue(DELIVER_WEBHOOKS, delivery_ids, job_id=job_id, result_ttl=0)
    return job_id


def still_queued(client: redis.Redis, job_id: str) -> bool:
    """Whether the job waits in its queue, not taken by a worker yet."""
    try:
        return Job.fetch(job_id, connection=client, serializer=JSONSerializer).get_status() == JobStatus.QUEUED
    except NoSuchJobError:
        return False


def enqueue_delivery(client: redis.Redis, delivery_id: int, attempt: int, delay: float = 0.0) -> None:
    """Try webhook delivery `delivery_id` for the `attempt`-th time (1: the first of a series), now or
    after `delay` seconds. The job id names the try: one already waiting is not queued again (and the
    job itself sends a try once, workers.webhooks.deliver)."""
    webhooks = queue(client, WEBHOOKS_QUEUE)
    job_id = f"webhook-{delivery_id}-{attempt}"
    try:
        if Job.fetch(job_id, connection=client, serializer=JSONSerializer).get_status() in WAITING:
            return  # queued, scheduled or running already (the worker's sweep, a replay clicked twice)
    except NoSuchJobError:
        pass
    if delay > 0:
        # RQ keeps a scheduled time in whole seconds, cut down: rounded up here, a try never comes early.
        when = datetime.fromtimestamp(math.ceil(time.time() + delay), UTC)
        webhooks.enqueue_at(when, DELIVER_WEBHOOK, delivery_id, attempt, job_id=job_id, result_ttl=0)
    else:
        webhooks.enqueue(DELIVER_WEBHOOK, delivery_id, attempt, job_id=job_id, result_ttl=0)


def enqueue_import(client: redis.Redis, recording_id: str) -> None:
    """File a finished recording in SQL (the bridge, when a recording session ends)."""
    # A deterministic job id: a retried enqueue never files the recording twice at once.
    queue(client).enqueue(IMPORT_RECORDING, recording_id, job_id=f"import-recording-{recording_id}",
                           result_ttl=3600)


def enqueue_cdr(client: redis.Redis, record_id: str) -> None:
    """File a call detail record the bridge spooled when a leg ended."""
    queue(client).enqueue(IMPORT_CDR, record_id, job_id=f"import-cdr-{record_id}", result_ttl=3600)


def enqueue_name(client: redis.Redis, number: str) -> None:
    """Synthesize (or remove) an extension's spoken display name."""
    queue(client).enqueue(SPEAK_NAME, number, result_ttl=600)


def enqueue_menu_greeting(client: redis.Redis, number: str) -> None:
    """Synthesize (or remove) a voice menu's spoken greeting."""
    queue(client).enqueue(SPEAK_MENU, number, result_ttl=600)


def enqueue_tick(client: redis.Redis, periodic: bool = False) -> None:
    """A round of the scheduled conferences: now, or (periodic) one ROUND from now, which enqueues the next."""
    if periodic:
        # A new id each time: RQ deletes a finished job's id, which would take the next one with it.
        queue(client).enqueue_in(ROUND, MEETINGS_TICK, True, job_id=f"meetings-round-{time.time_ns()}",
                                  result_ttl=0)
    else:
        queue(client).enqueue(MEETINGS_TICK, False, result_ttl=0)


def enqueue_emptied(client: redis.Redis, code: str) -> None:
    """The bridge's room of scheduled conference `code` emptied."""
    queue(client).enqueue(MEETING_EMPTIED, code, result_ttl=0)


def enqueue_extension(client: redis.Redis, code: str, minutes: int) -> None:
    """A moderator of scheduled conference `code` moved its end on by `minutes` (*98)."""
    queue(client).enqueue(EXTEND_MEETING, code, minutes, result_ttl=0)


def enqueue_attendance(client: redis.Redis, participant: str, code: str, caller: str, role: str, how: str,
                       when: float, joined: bool) -> None:
    """A participant joined (or left) scheduled conference `code`; `how` is a schedule.JoinedBy."""
    queue(client).enqueue(RECORD_ATTENDANCE, participant, code, caller, role, how, when, joined, result_ttl=0)
