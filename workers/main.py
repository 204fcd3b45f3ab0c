"""The RQ worker process (with RQ's scheduler): runs kamconf's timed and background jobs."""

from __future__ import annotations

import logging
import os
import socket

import redis
from rq import Queue, Worker

import settings
from workers.jobs import QUEUE
from workers.meetings import keep_rounds_going


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    config = settings.load()
    connection = redis.Redis.from_url(config.redis_url)
    name = f"kamconf-{socket.gethostname()}-{os.getpid()}"
    worker = Worker([Queue(QUEUE, connection=connection)], connection=connection, name=name)
    keep_rounds_going(connection)  # the scheduled conferences' rounds (workers.meetings)
    worker.work(with_scheduler=True)


if __name__ == "__main__":
    main()
