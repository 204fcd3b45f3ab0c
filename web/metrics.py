"""Prometheus metrics of the web app: requests by endpoint and status class, and their latency.

`install(app)` is the app's hook (web.app.create_app). The same module is gunicorn's configuration
(`gunicorn -c python:web.metrics`, stack/components.py): gunicorn runs several worker processes, so
prometheus_client's multiprocess mode keeps each worker's figures in files under
$PROMETHEUS_MULTIPROC_DIR, and the master serves their sum on [web] metrics_port. Without that
variable (tests, `flask run`) the figures stay in the process.

Labels are bounded: the Flask endpoint name (one per URL rule; "unmatched" for URLs no rule has)
and the status class, never a path a caller wrote.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from typing import Any

from flask import Flask, Response, current_app, g, request
from prometheus_client import CollectorRegistry, Counter, Histogram, multiprocess, start_http_server

import settings

MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
UNMATCHED = "unmatched"
KNOWN = "kamconf.metrics.known"  # app.extensions: every endpoint's series made

REQUESTS = Counter("kamconf_web_requests", "HTTP requests answered, by Flask endpoint and status class",
                   labelnames=["endpoint", "status"])
LATENCY = Histogram("kamconf_web_request_duration_seconds", "Time to answer an HTTP request, by Flask endpoint",
                    labelnames=["endpoint"], buckets=LATENCY_BUCKETS)


def status_class(code: int) -> str:
    return f"{code // 100}xx" if 100 <= code < 600 else "other"


def install(app: Flask) -> None:
    app.before_request(_started)
    app.after_request(_answered)


def _started() -> None:
    if not current_app.extensions.get(KNOWN):
        _know_every_endpoint(current_app)
    g.kamconf_started = time.perf_counter()


def _know_every_endpoint(app: Flask) -> None:
    """Every endpoint's latency series from 0, at the process's first request (all rules are
    registered by then): its first use then shows as a rate, not as a series that was just born."""
    app.extensions[KNOWN] = True
    for endpoint in {rule.endpoint for rule in app.url_map.iter_rules()} | {UNMATCHED}:
        LATENCY.labels(endpoint)


def _answered(response: Response) -> Response:
    endpoint = request.endpoint or UNMATCHED
    REQUESTS.labels(endpoint, status_class(response.status_code)).inc()
    started = g.get("kamconf_started")
    if started is not None:
        LATENCY.labels(endpoint).observe(time.perf_counter() - started)
    return response


# gunicorn's server hooks (this module is its configuration file too) --------------------------------

def on_starting(server: Any) -> None:
    """A fresh start: figures of a previous run's workers (other pids) would be summed in forever."""
    directory = os.environ.get(MULTIPROCESS_DIR)
    if directory:
        shutil.rmtree(directory, ignore_errors=True)
        Path(directory).mkdir(parents=True, mode=0o700)


def when_ready(server: Any) -> None:
    if not os.environ.get(MULTIPROCESS_DIR):
        return
    config = settings.load()
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    start_http_server(config.web.metrics_port, addr=config.web.address, registry=registry)


def child_exit(server: Any, worker: Any) -> None:
    if os.environ.get(MULTIPROCESS_DIR):
        multiprocess.mark_process_dead(worker.pid)
