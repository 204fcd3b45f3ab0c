"""A webhook receiver for the tests: a small HTTP server on loopback, in a thread, that keeps every
POST it gets and answers with the statuses it is told to (then 200)."""

from __future__ import annotations

import json
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from conference.webhooks import SIGNATURE_HEADER, verify
from tests.support.ports import free_port


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float  # Unix time it arrived

    @property
    def event(self) -> dict[str, Any]:
        found: dict[str, Any] = json.loads(self.body)
        return found

    def signed_by(self, secret: str) -> bool:
        """Checked as a receiver would: against its secret, the raw body and its own clock."""
        return verify(self.headers.get(SIGNATURE_HEADER, ""), secret, self.body, now=self.at)


class Receiver:
    def __init__(self, answers: list[int] | None = None, tls: tuple[Path, Path] | None = None) -> None:
        self.port = free_port()
        self.answers = list(answers or [])  # statuses for the first POSTs, in order; then 200
        self.received: list[Received] = []
        self.lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                with owner.lock:
                    owner.received.append(Received(self.path, dict(self.headers.items()), body, time.time()))
                    status = owner.answers.pop(0) if owner.answers else 200
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.scheme = "http"
        if tls is not None:  # (certificate, key) in PEM
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls)
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
            self.scheme = "https"

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}/hook"

    def events(self) -> list[Received]:
        with self.lock:
            return list(self.received)

    def types(self, room: str) -> list[str]:
        return [r.event["type"] for r in self.events() if r.event["room"] == room]


@contextmanager
def receiving(answers: list[int] | None = None, tls: tuple[Path, Path] | None = None) -> Iterator[Receiver]:
    receiver = Receiver(answers, tls)
    thread = threading.Thread(target=receiver.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        receiver.server.shutdown()
        receiver.server.server_close()


def closed_port_url() -> str:
    """A URL nobody listens at: connections to it are refused."""
    return f"http://127.0.0.1:{free_port()}/dead"
