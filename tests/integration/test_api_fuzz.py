"""Schemathesis against the API as gunicorn serves it, driven by the OpenAPI document the API
generates about itself (/api/v1/openapi.json): requests that follow the document and requests
that break it, with an admin token. Whatever is sent: never a 500, every 4xx in the one JSON
error shape (web.errors), and every success in the shape the document gives it.

Bounded and repeatable: a fixed number of examples per operation and mode, derandomized."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.request
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import redis
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.core.failures import FailureGroup
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import response_schema_conformance

import settings as kamconf_settings
from stack.supervisor import wait_for
from store.migrations import upgrade
from store.sql import make_engine, make_sessions
from store.tokens import create_token
from tests.support.ports import free_port
from web.errors import ERROR_IDS

ROOT = Path(__file__).resolve().parents[2]
# Examples per operation and mode (and an aimed run for paths with parameters). By hand, a deeper run
# and other examples: KAMCONF_FUZZ_EXAMPLES=200 KAMCONF_FUZZ_SEED=7.
EXAMPLES = int(os.environ.get("KAMCONF_FUZZ_EXAMPLES", "12"))
SEED = os.environ.get("KAMCONF_FUZZ_SEED")


@pytest.fixture
def served(config: kamconf_settings.Config, client: redis.Redis) -> Iterator[str]:
    """The app under gunicorn, as `make run` serves it; its base URL."""
    upgrade(make_engine(config.database_url))
    port = free_port()
    env = {**os.environ, "KAMCONF_CONFIG": str(config.var_path / "kamconf.toml"), "PYTHONPATH": str(ROOT)}
    server = subprocess.Popen([str(Path(sys.executable).parent / "gunicorn"), "--bind", f"127.0.0.1:{port}",
                               "--workers", "2", "web.app:create_app()"], env=env, cwd=config.var_path,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        assert wait_healthy(base, server), server.stderr.read().decode() if server.stderr else ""
        yield base
    finally:
        server.terminate()
        server.wait(10)


def wait_healthy(base: str, server: subprocess.Popen[bytes]) -> bool:
    def healthy() -> bool:
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=2) as response:
                return bool(response.status == 200)
        except OSError:
            return False
    return wait_for(lambda: healthy() or server.poll() is not None, 20) and server.poll() is None


def error_shape_faults(content_type: str, raw: bytes) -> list[str]:
    """What is wrong with a 4xx answer, by the Error shape (empty: nothing)."""
    if content_type.split(";")[0].strip() != "application/json":
        return [f"content type {content_type!r}"]
    try:
        body = json.loads(raw)
    except ValueError:
        return ["not JSON"]
    error = body.get("error") if isinstance(body, dict) and set(body) == {"error"} else None
    if not isinstance(error, dict):
        return [f"no lone 'error' object: {raw[:200]!r}"]
    faults = []
    if error.get("id") not in ERROR_IDS:
        faults.append(f"id {error.get('id')!r} is not one of web.errors.ERROR_IDS")
    if not isinstance(error.get("message"), str) or not error["message"]:
        faults.append("no message")
    if not set(error) <= {"id", "message", "field"} or not isinstance(error.get("field", ""), str):
        faults.append(f"unexpected members {sorted(error)}")
    return faults


def seed_things(base: str, token: str) -> dict[str, str]:
    """A room, an extension, a trunk, an operator, a conference, a template, a contact and a webhook to
    aim at: path parameters naming them, so that generated changes reach real things and not only 404s."""
    def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
        request = urllib.request.Request(f"{base}/api/v1{path}", json.dumps(body).encode(), {
            "Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            return dict(json.loads(response.read()))

    post("/rooms", {"number": "100", "user_pin": "1234"})
    post("/extensions", {"number": "2001", "password": "sip-secret-1"})
    post("/trunks", {"name": "carrier", "gateway": "192.0.2.1:5060", "sources": ["192.0.2.1"]})
    post("/menus", {"number": "700", "options": {"1": "100", "2": "2001"}})
    operator = post("/accounts", {"name": "op", "role": "operator", "password": "operator-password-1"})
    day = (datetime.now(UTC) + timedelta(days=2)).date().isoformat()
    meeting = {"topic": "fuzz", "owner": {"number": "2001"}, "zone": "UTC", "date": day, "start": "10:00",
               "end": "11:00", "guest_password": "1357"}
    conference = post("/conferences", meeting)
    post("/templates", {"name": "weekly", "topic": "fuzz", "owner": {"number": "2001"}, "zone": "UTC"})
    contact = post("/contacts", {"name": "fuzz", "number": "2001"})
    webhook = post("/webhooks", {"url": "https://hooks.example.com/kamconf", "events": ["joined", "left"]})
    return {"number": "100", "name": "carrier", "account_id": str(operator["id"]), "code": conference["code"],
            "participant": "1", "sound_id": "1", "recording_id": "1", "track": "1", "token_id": "1",
            "contact_id": str(contact["id"]), "webhook_id": str(webhook["id"]), "delivery_id": "1"}


def test_generated_requests_never_get_a_500_and_every_4xx_has_the_error_shape(
    served: str, config: kamconf_settings.Config,
) -> None:
    sessions = make_sessions(make_engine(config.database_url))
    schema = schemathesis.openapi.from_url(f"{served}/api/v1/openapi.json")
    known = seed_things(served, create_token(sessions))
    results = list(schema.get_all_operations())
    invalid = [result.err() for result in results if not isinstance(result, Ok)]
    assert not invalid, invalid  # the generated document describes every operation validly
    # Deleting last, so that the seeded things are there for the other operations.
    operations = sorted((result.ok() for result in results if isinstance(result, Ok)),
                        key=lambda o: o.method == "delete")
    assert len(operations) > 50
    failures = {}
    for operation in operations:
        runs: list[tuple[GenerationMode, dict[str, str] | None]] = [(GenerationMode.POSITIVE, None),
                                                                    (GenerationMode.NEGATIVE, None)]
        names = re.findall(r"{(\w+)}", operation.path)
        if names:  # and once more, aimed at the seeded things
            runs.append((GenerationMode.POSITIVE, {name: known[name] for name in names}))
        for mode, targets in runs:
            failure = probe(served, operation, mode, targets, lambda: create_token(sessions))
            if failure:
                failures[f"{operation.method.upper()} {operation.path} {mode.value} {targets or ''}"] = failure
    assert not failures, "\n\n".join(f"{name}:\n{text}" for name, text in failures.items())


def probe(served: str, operation: Any, mode: GenerationMode, targets: dict[str, str] | None,
          new_token: Callable[[], str]) -> str:
    """What went wrong with the operation's generated requests ("" if nothing)."""
    base = served if operation.path == "/healthz" else f"{served}/api/v1"

    @seed(int(SEED or 0))
    @settings(max_examples=EXAMPLES, derandomize=SEED is None, database=None, deadline=None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode, path_parameters=targets))
    def send(case: Any) -> None:
        # A fresh token per request: a generated DELETE /tokens/{id} may revoke the previous one.
        headers = {"Authorization": f"Bearer {new_token()}"}
        response = case.call(base_url=base, headers=headers)
        where = f"{case.method} {case.formatted_path}: {case.as_curl_command(headers)}"
        assert response.status_code < 500, f"{where}\n-> {response.status_code} {response.text[:500]}"
        if 400 <= response.status_code < 500:
            faults = error_shape_faults(response.headers.get("content-type", [""])[0], response.content)
            assert not faults, f"{where}\n-> {response.status_code}: {faults}"
        elif response.status_code < 300:
            case.validate_response(response, checks=[response_schema_conformance], headers=headers)

    try:
        send()
    except Unsatisfiable:
        assert mode is GenerationMode.NEGATIVE, operation.path  # nothing in it can be sent wrong
    except (AssertionError, FailureGroup) as failure:
        return str(failure)[:2000]
    return ""
