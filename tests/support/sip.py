"""Raw SIP over UDP for tests that must send what no well-behaved phone would."""

from __future__ import annotations

import socket
import subprocess
import uuid
from pathlib import Path

from tests.support.ports import free_port

SCENARIOS = Path(__file__).resolve().parents[1] / "e2e" / "sipp"


def invite(target: str, user: str, *, max_forwards: int = 70, cseq: str = "1 INVITE") -> str:
    host = target.split(":")[0]
    tag = uuid.uuid4().hex[:8]
    return (
        f"INVITE sip:{user}@{target} SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP 127.0.0.1:{{port}};branch=z9hG4bK{tag};rport\r\n"
        f"Max-Forwards: {max_forwards}\r\n"
        f"From: <sip:tester@127.0.0.1>;tag={tag}\r\n"
        f"To: <sip:{user}@{host}>\r\n"
        f"Call-ID: raw-{tag}\r\n"
        f"CSeq: {cseq}\r\n"
        "Contact: <sip:tester@127.0.0.1:{port}>\r\n"
        "Content-Length: 0\r\n\r\n"
    )


def final_response(target: str, template: str, timeout: float = 5.0) -> int:
    """Send once; return the first final (>=200) status code."""
    host, port = target.split(":")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        message = template.replace("{port}", str(sock.getsockname()[1])).encode()
        sock.settimeout(timeout)
        sock.sendto(message, (host, int(port)))
        while True:
            reply = sock.recv(65535).decode(errors="replace")
            code = int(reply.split(" ", 2)[1])
            if code >= 200:
                return code


def sipp(target: str, scenario: str, *extra: str, timeout: int = 20,
         cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run one sipp call of a scenario in tests/e2e/sipp against target ("host:port").
    sipp writes its trace files (-trace_*) into `cwd`."""
    argv = [
        "sipp", target, "-sf", str(SCENARIOS / f"{scenario}.xml"), "-m", "1", "-l", "1",
        "-i", "127.0.0.1", "-p", str(free_port("udp")), "-mp", str(free_port("udp")),
        "-timeout", f"{timeout}s", "-timeout_error", "-nostdin", "-trace_err", *extra,
    ]
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout + 10, cwd=cwd)
