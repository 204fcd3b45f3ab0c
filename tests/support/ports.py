"""Free ports on 127.0.0.1, so test processes never clash with each other or a running stack."""

from __future__ import annotations

import random
import socket
from typing import Literal

Kind = Literal["tcp", "udp", "both"]

# Never hand out the same port twice in one test run, though the OS may offer it again.
_given: set[int] = set()


def free_port(kind: Kind = "tcp") -> int:
    """A port free for `kind` ("tcp", "udp", or "both" for a service on both) at the time of the call."""
    if kind not in ("tcp", "udp", "both"):
        raise ValueError(f"kind must be tcp, udp or both, not {kind!r}")
    for _ in range(200):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM if kind == "udp" else socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        if port not in _given and (kind != "both" or _udp_free(port)):
            _given.add(port)
            return port
    raise RuntimeError("no free port on 127.0.0.1")


def free_ports(count: int, kind: Kind = "tcp") -> int:
    """The first of `count` consecutive ports free for `kind` (a host's bridge nodes count up from one)."""
    if count == 1:
        return free_port(kind)
    for _ in range(200):
        start = random.randrange(20000, 60000 - count)
        ports = range(start, start + count)
        if not _given.intersection(ports) and all(_free(port, kind) for port in ports):
            _given.update(ports)
            return start
    raise RuntimeError(f"no {count} consecutive free ports")


def _free(port: int, kind: Kind) -> bool:
    if kind in ("udp", "both") and not _udp_free(port):
        return False
    if kind in ("tcp", "both"):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                return False
    return True


def free_range(size: int, lowest: int = 20000, highest: int = 60000) -> tuple[int, int]:
    """An even-aligned block of `size` UDP ports between `lowest` and `highest` that look free now (for RTP)."""
    for _ in range(200):
        start = random.randrange(lowest, highest - size) & ~1
        if all(_udp_free(p) for p in range(start, start + size, 7)):
            return start, start + size - 1
    raise RuntimeError("no free port range")


def _udp_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True
