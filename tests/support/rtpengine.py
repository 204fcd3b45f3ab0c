"""A tiny rtpengine ng-protocol client (bencode over UDP) to see what rtpengine relays."""

from __future__ import annotations

import socket
import uuid
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.support.stack import Stack


def bencode(value: Any) -> bytes:
    if isinstance(value, int):
        return b"i%de" % value
    if isinstance(value, str):
        value = value.encode()
    if isinstance(value, bytes):
        return b"%d:%s" % (len(value), value)
    if isinstance(value, list):
        return b"l" + b"".join(bencode(v) for v in value) + b"e"
    if isinstance(value, dict):
        return b"d" + b"".join(bencode(k) + bencode(v) for k, v in sorted(value.items())) + b"e"
    raise TypeError(type(value))


def bdecode(data: bytes) -> Any:
    value, _ = _decode(data, 0)
    return value


def _decode(data: bytes, i: int) -> tuple[Any, int]:
    kind = data[i : i + 1]
    if kind == b"i":
        end = data.index(b"e", i)
        return int(data[i + 1 : end]), end + 1
    if kind in (b"l", b"d"):
        items, i = [], i + 1
        while data[i : i + 1] != b"e":
            item, i = _decode(data, i)
            items.append(item)
        if kind == b"l":
            return items, i + 1
        return dict(zip(items[::2], items[1::2], strict=True)), i + 1
    colon = data.index(b":", i)
    length = int(data[i:colon])
    raw = data[colon + 1 : colon + 1 + length]
    return raw.decode(errors="replace"), colon + 1 + length


def command(host: str, port: int, **fields: Any) -> dict[str, Any]:
    cookie = uuid.uuid4().hex[:12].encode()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(3)
        sock.sendto(cookie + b" " + bencode(fields), (host, port))
        reply = sock.recv(1 << 20)
    assert reply.startswith(cookie + b" "), reply[:80]
    return bdecode(reply[len(cookie) + 1 :])


def query(host: str, port: int, call_id: str) -> dict[str, Any]:
    return command(host, port, command="query", **{"call-id": call_id})


def calls(host: str, port: int) -> list[str]:
    """The Call-IDs rtpengine relays now."""
    return list(command(host, port, command="list", limit=1000).get("calls", []))


def assert_relayed_by_rtpengine(stack: Stack, call_id: str, bridge_leg: bool = True) -> None:
    """rtpengine holds both legs of the call (caller side and callee side: a bridge node
    unless `bridge_leg` is False), each with RTP flowing."""
    info = query(stack.config.rtpengine.ng_address, stack.config.rtpengine.ng_port, call_id)
    assert info.get("result") == "ok", info
    legs = list(info["tags"].values())
    assert len(legs) == 2, info
    endpoints = set()
    for leg in legs:
        rtp = next(s for s in leg["medias"][0]["streams"] if "RTP" in s["flags"])
        assert rtp["stats"]["packets"] > 50, leg
        endpoints.add(rtp["endpoint"]["port"])
    bridge = stack.config.bridge
    bridge_ports = range(bridge.rtp_port_min, bridge.rtp_port_max + 1)
    assert any(port in bridge_ports for port in endpoints) == bridge_leg, endpoints
    assert any(port not in bridge_ports for port in endpoints), endpoints
