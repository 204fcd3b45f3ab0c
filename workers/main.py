"""The RQ worker process (with RQ's scheduler): runs kamconf's timed and background jobs."""

from __future__ import annotations

import logging
import os
import socket
import uuid
from pathlib import Path

import redis
from rq import Worker
from rq.scheduler import SCHEDULER_KEY_TEMPLATE, RQScheduler
from rq.scripts import release_lock
from rq.serializers import JSONSerializer

import settings
from store import live
from store.conferences import MeetingRepository
from store.migrations import migrated_engine
from store.queue import QUEUES, queue
from store.sql import make_engine, make_sessions
from workers import metrics
from workers.meetings import keep_rounds_going
from workers.webhooks import start_dispatcher

log = logging.getLogger("workers.main")

# RQ's scheduler process dies when Redis goes away (a Redis restart), and the worker starts it
# again only at its next maintenance, which it looks at only between jobs or when its wait for
# one times out (worker TTL - 15 s): by default up to 10 minutes without scheduled conferences,
# as nothing else queues jobs then. Maintenance (cleaning RQ's registries) is cheap at this pace.
MAINTENANCE_SECONDS = 10
WORKER_TTL = 20  # waits for a job 5 s at a time; a dead worker's entry expires after 80 s


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    config = settings.load()
    # Once here, so no job has to: the jobs open the database as it is (workers.jobs.sessions).
    migrated_engine(config).dispose()
    connection = live.queue_connection(config.redis_url, timeout=None)  # RQ's waits block
    forget_dead_predecessors(connection)
    # The metrics' own engine, holding no connection between scrapes: RQ forks a work horse per job,
    # which opens its own (workers.jobs.sessions) and must inherit none.
    metrics.serve(config, connection, MeetingRepository(make_sessions(make_engine(config.database_url,
                                                                                  pooled=False))))
    start_dispatcher(config)  # webhooks: follows the room event stream (the bridge never waits for it)
    # In this order: a webhook delivery is taken only when no kamconf job waits.
    worker = metrics.CountingWorker([queue(connection, name) for name in QUEUES], connection=connection,
                                    name=worker_name(), serializer=JSONSerializer,
                                    maintenance_interval=MAINTENANCE_SECONDS, worker_ttl=WORKER_TTL)
    keep_rounds_going(connection)  # the scheduled conferences' rounds (workers.meetings)
    worker.work(with_scheduler=True)


def worker_name() -> str:
    # New on every start: a worker killed without deregistering leaves its name registered for
    # RQ's worker TTL (8 min), and RQ refuses a second worker under a name that looks alive.
    # The pid alone repeats (always 1 as a container's first process).
    return f"kamconf-{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


def forget_dead_predecessors(connection: redis.Redis) -> None:
    """Deregister workers of this host whose process is gone, and free the scheduler lock one held.

    A worker killed with SIGKILL stays listed (and looks healthy) for minutes, and its
    scheduler's lock would keep ours from scheduling (RQ tries again only every 10 minutes),
    so scheduled conferences would not start. Only this host's processes can be checked.
    """
    host = socket.gethostname()
    for worker in Worker.all(connection=connection):
        if worker.hostname == host and worker.pid and not process_exists(worker.pid):
            log.info("deregistering %s: its process %d is gone", worker.name, worker.pid)
            worker.register_death()
    free_dead_scheduler_lock(connection, host)


def free_dead_scheduler_lock(connection: redis.Redis, host: str) -> None:
    for name in QUEUES:
        free_dead_lock(connection, host, RQScheduler.get_locking_key(name))


def free_dead_lock(connection: redis.Redis, host: str, lock: str) -> None:
    holder = text(connection.get(lock) or b"")
    if not holder:
        return
    owner = {text(k): text(v) for k, v in connection.hgetall(SCHEDULER_KEY_TEMPLATE % holder).items()}
    pid = int(owner.get("pid") or 0)
    if owner.get("hostname") != host or not pid or process_exists(pid):
        return
    # Released only if that dead scheduler still holds it (an atomic compare and delete).
    if release_lock(connection, lock, holder):
        log.info("freed the scheduler lock of %s: its process %d is gone", holder, pid)


def text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def process_exists(pid: int) -> bool:
    """Whether `pid` is a live process. A killed one that its new parent has not reaped yet (a
    zombie, for seconds under some inits) is dead: its scheduler will never release its lock."""
    if not Path("/proc/self").exists():  # no procfs: zombies cannot be told apart
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True  # someone else's process: alive
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"  # the state follows the (command name)


if __name__ == "__main__":
    main()
