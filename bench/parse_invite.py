"""What reading one INVITE costs the bridge's only thread, for ordinary and pathological From headers.

Times bridge.inbound.read_invite (headers only, signature checked) on INVITEs whose From header is
ordinary, or 4 KB / 60 KB of text built to make a backtracking parser slow. As a same-run
reference it times the regular expression the bridge used before (a From-URI search that backtracks
on long runs without ';' or '>'), so the ratio shows the shape of the cost, not just the machine.
Usage: .venv/bin/python -m bench.parse_invite [--repeat 200]
"""

from __future__ import annotations

import argparse
import functools
import re
import time
from collections.abc import Callable

from bridge.inbound import Gate, read_invite
from conference import vouch

SECRET = b"b" * 32
KAMAILIO = "127.0.0.1:5060"
# The patterns bridge/sip.py applied to the From value before (kept here only as the reference).
OLD_URI = re.compile(r"<([^>]*)>|(\S+?)(?:;|$)")
OLD_DISPLAY = re.compile(r'^\s*(?:"((?:[^"\\]|\\.)*)"|([^<"]*?))\s*<')


def old_parse(value: str) -> object:
    return OLD_URI.search(value), OLD_DISPLAY.match(value)


def message(from_value: str, now: float) -> str:
    identity = vouch.sign(SECRET, "c-1", "1000", vouch.ANONYMOUS, now)
    return ("INVITE sip:1000@127.0.0.1:5080 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK1\r\n"
            f"From: {from_value}\r\nTo: <sip:1000@h>\r\nCall-ID: c-1\r\nCSeq: 1 INVITE\r\n"
            f"{vouch.HEADER}: {identity}\r\nContent-Length: 0\r\n\r\n")


def per_call(func: Callable[[], object], repeat: int) -> float:
    start = time.perf_counter()
    for _ in range(repeat):
        func()
    return (time.perf_counter() - start) / repeat


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    gate, now = Gate(frozenset({KAMAILIO}), SECRET), time.time()
    cases = {"ordinary": '"Alice" <sip:alice@example.com>;tag=1'}
    for size in (1024, 4 * 1024, 60 * 1024):
        cases[f"{size // 1024} KB word+' x'"] = "a" * size + " x"
        cases[f"{size // 1024} KB spaces"] = " " * size
    print(f"{'From header':<20} {'read_invite':>12} {'old regexes':>14}")
    for name, value in cases.items():
        text = message(value, now)
        ours = per_call(functools.partial(read_invite, text, KAMAILIO, gate, now), args.repeat)
        if len(value) > 10_000:  # the reference would take minutes: its cost grows with the square or worse
            print(f"{name:<20} {ours * 1e6:>9.1f} us {'not run':>14}")
            continue
        theirs = per_call(functools.partial(old_parse, value), 1 if len(value) > 1000 else args.repeat)
        print(f"{name:<20} {ours * 1e6:>9.1f} us {theirs * 1e6:>11.1f} us")


if __name__ == "__main__":
    main()
