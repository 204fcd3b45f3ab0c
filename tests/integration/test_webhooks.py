"""/api/v1/webhooks and their deliveries: the endpoints' API and rules, and the real worker (with RQ's
scheduler) following the room event stream and POSTing to receivers on loopback: signed, retried
with backoff when refused or answered 5xx, recorded with every answer, and replayable."""

from __future__ import annotations

import itertools
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import redis
from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.script import ScriptDirectory
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import inspect

import settings
from conference.webhooks import Event
from stack.components import ensure_self_signed
from stack.supervisor import wait_for
from store import live, migrations
from store.accounts import Account
from store.migrations import upgrade
from store.queue import WEBHOOKS_QUEUE, queue
from store.sql import make_engine, make_sessions
from store.tokens import create_token
from store.webhooks import Due, WebhookRepository
from tests.integration.conftest import EXTENSION_PASSWORD, OPERATOR_PASSWORD, write_config
from tests.integration.test_panel import html, sign_in
from tests.support.ports import free_port
from tests.support.redis_server import RedisServer
from tests.support.webhooks import closed_port_url, receiving
from web.app import create_app
from workers import jobs
from workers.webhooks import GROUP, RESTING, Dispatcher, deliver, deliver_first, post

BOTH_DATABASES = True  # each test on SQLite and on PostgreSQL (tests/integration/conftest.py)
ROOT = Path(__file__).resolve().parents[2]
HOOK = {"url": "https://hooks.example.com/kamconf", "events": ["joined", "left"]}


def test_an_endpoint_is_made_shown_changed_and_deleted_and_its_secret_shown_only_when_made(
    api: FlaskClient, auth: dict[str, str],
) -> None:
    made = api.post("/api/v1/webhooks", json={**HOOK, "description": "CRM"}, headers=auth)
    assert made.status_code == 201, made.get_json()
    endpoint = made.get_json()
    assert endpoint["secret"].startswith("whsec_") and len(endpoint["secret"]) > 40
    assert (endpoint["url"], endpoint["events"], endpoint["description"], endpoint["enabled"]) == (
        HOOK["url"], ["joined", "left"], "CRM", True)
    path = f"/api/v1/webhooks/{endpoint['id']}"
    assert "secret" not in api.get(path, headers=auth).get_json()
    assert all("secret" not in e for e in api.get("/api/v1/webhooks", headers=auth).get_json())
    changed = api.patch(path, json={"events": ["ended"], "enabled": False}, headers=auth).get_json()
    assert (changed["events"], changed["enabled"], changed["url"]) == (["ended"], False, HOOK["url"])
    rotated = api.post(f"{path}/secret", headers=auth).get_json()
    assert rotated["secret"].startswith("whsec_") and rotated["secret"] != endpoint["secret"]
    assert api.delete(path, headers=auth).status_code == 204
    assert api.get(path, headers=auth).status_code == 404
    assert api.get(f"{path}/deliveries", headers=auth).status_code == 404
    assert api.post(f"{path}/deliveries/1/replay", headers=auth).status_code == 404


@pytest.mark.parametrize(("body", "field"), [
    ({"events": ["joined"]}, "url"),
    ({"url": "https://hooks.example.com/x"}, "events"),
    ({**HOOK, "url": "ftp://hooks.example.com/x"}, "url"),
    ({**HOOK, "url": "http://127.0.0.1:8080/x"}, "url"),  # loopback, without allow_private
    ({**HOOK, "url": "http://169.254.169.254/latest/meta-data/"}, "url"),
    ({**HOOK, "url": "https://me:pw@hooks.example.com/"}, "url"),
    ({**HOOK, "events": ["exploded"]}, "events"),
    ({**HOOK, "events": []}, "events"),
    ({**HOOK, "secret": "mine"}, "secret"),
])
def test_bad_endpoints_are_refused_naming_the_field(api: FlaskClient, auth: dict[str, str], body: dict[str, Any],
                                                    field: str) -> None:
    refused = api.post("/api/v1/webhooks", json=body, headers=auth)
    assert refused.status_code == 400 and refused.get_json()["error"]["field"] == field, refused.get_json()


def test_operators_manage_webhooks_and_users_may_not(api: FlaskClient, headers: dict[str, dict[str, str]]) -> None:
    assert api.post("/api/v1/webhooks", json=HOOK, headers=headers["operator"]).status_code == 201
    assert api.get("/api/v1/webhooks", headers=headers["admin"]).status_code == 200
    assert api.get("/api/v1/webhooks", headers=headers["user"]).status_code == 403
    assert api.post("/api/v1/webhooks", json=HOOK, headers=headers["user"]).status_code == 403
    assert api.get("/api/v1/webhooks", headers=headers["none"]).status_code == 401


def test_an_event_is_recorded_once_for_each_enabled_endpoint_that_wants_it(app: Flask, api: FlaskClient,
                                                                           auth: dict[str, str]) -> None:
    wants = api.post("/api/v1/webhooks", json=HOOK, headers=auth).get_json()
    api.post("/api/v1/webhooks", json={**HOOK, "events": ["ended"]}, headers=auth)
    api.post("/api/v1/webhooks", json={**HOOK, "enabled": False}, headers=auth)
    repository = WebhookRepository(app.extensions["kamconf"].sessions)
    event = Event.from_stream("1800000000000-0", {"type": "joined", "room": "100", "caller": "sip:a@x"})
    made = repository.record(event, datetime.now(UTC))
    assert len(made) == 1
    assert repository.record(event, datetime.now(UTC)) == []  # read again after a crash: nothing more
    [delivery] = api.get(f"/api/v1/webhooks/{wants['id']}/deliveries", headers=auth).get_json()
    assert (delivery["type"], delivery["state"], delivery["attempts"], delivery["tries"]) == (
        "joined", "pending", 0, [])
    assert delivery["body"]["data"] == {"caller": "sip:a@x"}
    assert api.get(f"/api/v1/webhooks/{wants['id']}/deliveries?state=failed", headers=auth).get_json() == []
    assert api.get(f"/api/v1/webhooks/{wants['id']}/deliveries?state=nope", headers=auth).status_code == 400


# The real worker ----------------------------------------------------------------------------


@pytest.fixture
def worker_config(tmp_path: Path, redis_srv: RedisServer, database: str) -> settings.Config:
    """Deliveries to loopback allowed, three tries 1 s then 2 s apart, the worker's metrics on a free port."""
    extra = "\n".join([
        *([f'[web]\ndatabase_url = "{database}"'] if database else []),
        "[webhooks]\nallow_private = true\nattempts = 3\nretry_first = 1.0\nretry_longest = 2.0\ntimeout = 2.0",
        f"[workers]\nmetrics_port = {free_port()}",
    ])
    return settings.load(write_config(tmp_path, redis_srv.port, extra), env={})


@pytest.fixture
def running_worker(worker_config: settings.Config, client: redis.Redis) -> Iterator[subprocess.Popen[bytes]]:
    upgrade(make_engine(worker_config.database_url))
    env = {**os.environ, "KAMCONF_CONFIG": str(worker_config.var_path / "kamconf.toml"), "PYTHONPATH": str(ROOT)}
    log = (worker_config.var_path / "worker.log").open("wb")
    process = subprocess.Popen([sys.executable, "-m", "workers.main"], cwd=ROOT, env=env, stdout=log,
                               stderr=subprocess.STDOUT)
    try:
        # Events are followed from the moment the worker's consumer group exists.
        assert wait_for(lambda: group_exists(client), timeout=30, alive=lambda: process.poll() is None), \
            (worker_config.var_path / "worker.log").read_text()
        yield process
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def group_exists(client: redis.Redis) -> bool:
    try:
        return any(group["name"] == GROUP for group in client.xinfo_groups(live.EVENTS))
    except redis.ResponseError:
        return False


def test_the_worker_delivers_signed_events_retries_with_backoff_and_records_every_answer(
    worker_config: settings.Config, client: redis.Redis, running_worker: subprocess.Popen[bytes],
) -> None:
    app = create_app(worker_config)
    api = app.test_client()
    auth = {"Authorization": f"Bearer {create_token(make_sessions(make_engine(worker_config.database_url)))}"}
    # The first receiver answers 503 once, then 200; the second is a port nobody listens at.
    with receiving(answers=[503]) as receiver:
        live_hook = api.post("/api/v1/webhooks", json={"url": receiver.url, "events": ["joined", "left", "ended"]},
                             headers=auth).get_json()
        dead_hook = api.post("/api/v1/webhooks", json={"url": closed_port_url(), "events": ["joined"]},
                             headers=auth).get_json()
        live.room_event(client, "joined", "100", participant="p1", caller="sip:alice@x", role="user", present=1)
        live.room_event(client, "talking", "100", participant="p1")  # nobody asked for it
        live.room_event(client, "left", "100", participant="p1", caller="sip:alice@x", status=200, present=0)
        live.room_event(client, "ended", "100", node="bridge-1")

        def delivered() -> list[dict[str, Any]]:
            found: list[dict[str, Any]] = api.get(f"/api/v1/webhooks/{live_hook['id']}/deliveries?state=delivered",
                                                  headers=auth).get_json()
            return found
        assert wait_for(lambda: len(delivered()) == 3, timeout=30), delivered()
        assert sorted(receiver.types("100")) == sorted(["joined", "joined", "left", "ended"])  # one 503, tried again
        assert all(r.signed_by(live_hook["secret"]) for r in receiver.events())
        assert not any(r.signed_by(dead_hook["secret"]) for r in receiver.events())
        joined = next(r for r in receiver.events() if r.event["type"] == "joined")
        assert joined.event["data"] == {"participant": "p1", "caller": "sip:alice@x", "role": "user", "present": 1}
        assert joined.headers["X-Kamconf-Event"] == "joined" and joined.path == "/hook"
        retried = next(d for d in delivered() if d["type"] == "joined")
        assert [t["status"] for t in retried["tries"]] == [503, 200] and retried["last_status"] == 200

        def dead() -> list[dict[str, Any]]:
            found: list[dict[str, Any]] = api.get(f"/api/v1/webhooks/{dead_hook['id']}/deliveries",
                                                  headers=auth).get_json()
            return found
        assert wait_for(lambda: [d["state"] for d in dead()] == ["failed"], timeout=30), dead()
        [failed] = dead()
        assert failed["attempts"] == 3 and failed["last_status"] is None
        assert all(t["status"] is None and "Connection" in t["error"] for t in failed["tries"])
        # The pauses between its tries grew (1 s, then 2 s), measured on the tries' own clocks.
        moments = [datetime.fromisoformat(t["at"]) for t in failed["tries"]]
        gaps = [(later - earlier).total_seconds() for earlier, later in itertools.pairwise(moments)]
        assert gaps[0] >= 1.0 and gaps[1] >= 2.0, gaps  # never early (store.queue)

        # A replay sends the same body again, signed afresh, as a new series of tries.
        before = len(receiver.events())
        ended = next(d for d in delivered() if d["type"] == "ended")
        replayed = api.post(f"/api/v1/webhooks/{live_hook['id']}/deliveries/{ended['id']}/replay", headers=auth)
        assert replayed.status_code == 202 and replayed.get_json()["state"] == "pending"
        assert wait_for(lambda: len(receiver.events()) == before + 1, timeout=30)
        again = receiver.events()[-1]
        assert again.event == ended["body"] and again.signed_by(live_hook["secret"])
        assert wait_for(lambda: any(d["id"] == ended["id"] and d["attempts"] == 1 for d in delivered()), timeout=10)


# One try, against receivers that misbehave ---------------------------------------------------


def dripping_receiver(stop: threading.Event) -> int:
    """A server that answers a byte every 0.2 s, forever: each read is quick, the answer never ends."""
    server = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        connection, _ = server.accept()
        with connection, server:
            connection.recv(65536)
            connection.sendall(b"HTTP/1.1 200 OK\r\n")
            while not stop.wait(0.2):
                try:
                    connection.sendall(b"X")
                except OSError:
                    return
    threading.Thread(target=serve, daemon=True).start()
    return int(server.getsockname()[1])


def test_a_try_is_cut_when_the_answer_drips_and_a_redirect_is_not_followed() -> None:
    config = settings.WebhooksConfig(allow_private=True, timeout=0.5)
    stop = threading.Event()
    try:
        port = dripping_receiver(stop)
        due = Due(0, f"http://127.0.0.1:{port}/slow", "whsec_x", "joined", b"{}", 0)
        status, error = post(due, 1, config)
        assert status is None and "twice the timeout" in error, error
    finally:
        stop.set()
    with receiving(answers=[302]) as receiver:
        status, error = post(Due(0, receiver.url, "whsec_x", "joined", b"{}", 0), 1, config)
        assert (status, error, len(receiver.events())) == (302, "ok", 1)  # a failed try; nothing followed
    status, error = post(Due(0, "http://127.0.0.1:9/x", "whsec_x", "joined", b"{}", 0), 1,
                         settings.WebhooksConfig(allow_private=False))
    assert status is None and "private" in error  # resolved, checked, refused before any connection


def test_migration_0014_adds_the_webhook_tables_and_takes_them_back(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'kamconf.db'}")
    upgrade(engine)
    tables = {"webhook_endpoints", "webhook_deliveries", "webhook_attempts"}
    assert tables <= set(inspect(engine).get_table_names())
    config = AlembicConfig()
    config.set_main_option("script_location", str(migrations.HERE))
    below = ScriptDirectory.from_config(config).get_revision("0014").down_revision  # relinked at merges
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, str(below))
    assert not tables & set(inspect(engine).get_table_names())


@pytest.fixture
def in_process(worker_config: settings.Config, client: redis.Redis,
               monkeypatch: pytest.MonkeyPatch) -> Iterator[settings.Config]:
    """The jobs run here, as a work horse would run them, on this test's config and database."""
    upgrade(make_engine(worker_config.database_url))
    monkeypatch.setenv("KAMCONF_CONFIG", str(worker_config.var_path / "kamconf.toml"))
    jobs.config.cache_clear()
    jobs.sessions.cache_clear()
    yield worker_config
    jobs.config.cache_clear()
    jobs.sessions.cache_clear()


def test_an_endpoint_that_failed_rests_so_a_hanging_receiver_costs_one_try_per_pause(
    in_process: settings.Config,
) -> None:
    repository = WebhookRepository(jobs.sessions())
    with receiving(answers=[500]) as receiver:
        endpoint = repository.create({"url": receiver.url, "events": ["joined"]}, datetime.now(UTC))
        made = [repository.record(Event.from_stream(f"{n}-0", {"type": "joined", "room": "100"}),
                                  datetime.now(UTC))[0] for n in (1, 2)]
        deliver_first(made)
        assert len(receiver.events()) == 1  # the first answered 500: the second was not sent
        tries = [d["tries"] for d in sorted(repository.deliveries(endpoint["id"]), key=lambda d: d["id"])]
        assert [t[0]["status"] for t in tries] == [500, None] and tries[1][0]["error"] == RESTING
        assert deliver(made[1], 1) == "skipped"  # its first try is made: a job run twice sends nothing
        live.wake_webhook(live.queue_connection(in_process.redis_url), endpoint["id"])  # as the rest ends
        assert deliver(made[1], 2) == "delivered" and len(receiver.events()) == 2


def test_the_panel_page_lists_endpoints_and_their_deliveries(
    app: Flask, api: FlaskClient, headers: dict[str, dict[str, str]], people: dict[str, Account],
) -> None:
    made = api.post("/api/v1/webhooks", json={**HOOK, "description": "CRM"}, headers=headers["operator"]).get_json()
    event = Event.from_stream("1800000000000-0", {"type": "joined", "room": "4321", "caller": "sip:a@x"})
    [delivery] = WebhookRepository(app.extensions["kamconf"].sessions).record(event, datetime.now(UTC))
    page = app.test_client()
    assert sign_in(page, "op", OPERATOR_PASSWORD).status_code == 302
    text = html(page.get("/webhooks"))
    assert str(HOOK["url"]) in text and "CRM" in text and "joined, left" in text
    assert f'data-delivery="{delivery}" data-state="pending"' in text and "4321" in text
    assert made["secret"] not in text  # shown once, by the API, never here
    user = app.test_client()
    assert sign_in(user, "2001", EXTENSION_PASSWORD).status_code == 302
    assert user.get("/webhooks").status_code == 403


def test_https_is_verified_against_the_name_on_the_address_checked(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    certificate, key = tmp_path / "certificate.pem", tmp_path / "key.pem"
    ensure_self_signed(certificate, key, "127.0.0.1")
    config = settings.WebhooksConfig(allow_private=True, timeout=2.0)
    with receiving(tls=(certificate, key)) as receiver:
        status, error = post(Due(0, receiver.url, "whsec_x", "joined", b"{}", 0), 1, config)
        assert status is None and "CERTIFICATE_VERIFY_FAILED" in error, error  # a certificate nobody vouches for
        monkeypatch.setenv("SSL_CERT_FILE", str(certificate))  # now trusted, as a real CA's would be
        status, error = post(Due(0, receiver.url, "whsec_x", "joined", b"{}", 0), 1, config)
        assert (status, error) == (200, "") and len(receiver.events()) == 1


def test_the_sweep_queues_again_a_try_whose_job_was_lost_and_deletes_old_deliveries(
    worker_config: settings.Config, client: redis.Redis, redis_srv: RedisServer,
) -> None:
    upgrade(make_engine(worker_config.database_url))
    dispatcher = Dispatcher(worker_config, make_sessions(make_engine(worker_config.database_url)))
    repository = dispatcher.repository
    repository.create({"url": "https://hooks.example.com/x", "events": ["joined"]}, datetime.now(UTC))
    long_ago = datetime.now(UTC) - timedelta(minutes=5)
    [lost] = repository.record(Event.from_stream("1-0", {"type": "joined", "room": "100"}), long_ago)
    [old] = repository.record(Event.from_stream("2-0", {"type": "joined", "room": "100"}), long_ago - timedelta(days=8))
    rq_client = live.queue_connection(redis_srv.url)
    dispatcher.sweep(rq_client)
    [job] = queue(rq_client, WEBHOOKS_QUEUE).get_jobs()
    assert (job.id, list(job.args)) == (f"webhook-{lost}-1", [lost, 1])  # lost: its try queued again
    assert repository.due(old) is None  # past keep_days (7): deleted
