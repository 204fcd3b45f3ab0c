"""store.queue: jobs enqueued by dotted name resolve to the worker's functions; enqueuing imports no workers."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import redis
from rq import Queue
from rq.exceptions import DeserializationError
from rq.job import Job
from rq.registry import ScheduledJobRegistry
from rq.serializers import JSONSerializer
from rq.utils import import_attribute

from conference.schedule import JoinedBy
from store import live, queue
from tests.support.redis_server import RedisServer

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("module", ["store.queue", "web.app"])
def test_enqueuing_does_not_import_the_worker(module: str) -> None:
    # A fresh interpreter: this one has imported workers for other tests.
    check = f"import sys, {module}; print(sorted(m for m in sys.modules if m.split('.')[0] == 'workers'))"
    found = subprocess.run([sys.executable, "-c", check], cwd=ROOT, capture_output=True, text=True, check=True)
    assert found.stdout.strip() == "[]"


@pytest.fixture
def rq_client(client: redis.Redis, redis_srv: RedisServer) -> redis.Redis:
    """The emptied test Redis, as RQ needs it (bytes, not decoded)."""
    return live.queue_connection(redis_srv.url)


def queued(client: redis.Redis) -> list[Job]:
    return queue.queue(client).get_jobs()


@pytest.mark.parametrize(("enqueue", "job_id", "ttl"), [
    (lambda c: queue.enqueue_import(c, "r1"), "import-recording-r1", 3600),
    (lambda c: queue.enqueue_cdr(c, "c1"), "import-cdr-c1", 3600),
    (lambda c: queue.enqueue_name(c, "201"), None, 600),
    (lambda c: queue.enqueue_tick(c), None, 0),
    (lambda c: queue.enqueue_emptied(c, "123456"), None, 0),
    (lambda c: queue.enqueue_attendance(c, "m1", "123456", "sip:a@x", "user", JoinedBy.DIAL_IN, 1.0, True), None, 0),
])
def test_each_job_names_a_worker_function(rq_client: redis.Redis, enqueue: Callable[[redis.Redis], None],
                                         job_id: str | None, ttl: int) -> None:
    enqueue(rq_client)
    [job] = queued(rq_client)
    name = job.func_name or ""
    assert name.startswith("workers.") and callable(import_attribute(name))  # what the worker will import
    assert job.result_ttl == ttl
    assert job_id is None or job.id == job_id


def test_the_periodic_round_is_scheduled_one_round_ahead(rq_client: redis.Redis) -> None:
    queue.enqueue_tick(rq_client, periodic=True)
    [job_id] = ScheduledJobRegistry(queue.QUEUE, connection=rq_client).get_job_ids()
    job = Job.fetch(job_id, connection=rq_client, serializer=JSONSerializer)
    assert job.func_name == queue.MEETINGS_TICK and list(job.args) == [True] and job_id.startswith("meetings-round-")


def test_webhook_tries_wait_on_their_own_queue_named_per_try_and_never_early(rq_client: redis.Redis) -> None:
    queue.enqueue_delivery(rq_client, 7, 1)
    queue.enqueue_delivery(rq_client, 7, 1)  # the same try twice: one job
    before = time.time()
    queue.enqueue_delivery(rq_client, 7, 2, delay=1.5)
    webhooks = queue.queue(rq_client, queue.WEBHOOKS_QUEUE)
    [job] = webhooks.get_jobs()
    assert (job.id, job.func_name, list(job.args), queued(rq_client)) == ("webhook-7-1", queue.DELIVER_WEBHOOK,
                                                                          [7, 1], [])
    assert callable(import_attribute(queue.DELIVER_WEBHOOK))
    registry = ScheduledJobRegistry(queue.WEBHOOKS_QUEUE, connection=rq_client, serializer=JSONSerializer)
    [(later, at)] = [(job_id, registry.get_scheduled_time(job_id)) for job_id in registry.get_job_ids()]
    assert later == "webhook-7-2" and at.timestamp() >= before + 1.5  # RQ keeps whole seconds: rounded up
    queue.enqueue_first_tries(rq_client, [8, 9])
    first = webhooks.get_jobs()[-1]
    assert (first.func_name, list(first.args)) == (queue.DELIVER_WEBHOOKS, [[8, 9]])
    assert callable(import_attribute(queue.DELIVER_WEBHOOKS))


def test_a_pickled_job_is_never_unpickled(rq_client: redis.Redis, tmp_path: Path) -> None:
    # Whoever can write to Redis could queue a pickle that runs code as it is loaded; kamconf's
    # queue reads JSON only, so such a job fails to load instead.
    marker = tmp_path / "ran"
    planted = Queue(queue.QUEUE, connection=rq_client).enqueue(Path.touch, marker)  # RQ's default: pickle
    with pytest.raises(DeserializationError):
        Job.fetch(planted.id, connection=rq_client, serializer=JSONSerializer).args  # noqa: B018
    assert not marker.exists()
