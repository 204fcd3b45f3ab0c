"""A node started from a login shell (soft limit 1,024 open files) raises its own limit to what its
capacity needs, within the hard limit: two sockets a call would otherwise stop it near 500 calls."""

from __future__ import annotations

import resource
import subprocess
import sys

RAISE = """
import resource
from bridge import sip
resource.setrlimit(resource.RLIMIT_NOFILE, (1024, {hard}))
sip.enough_descriptors({calls})
print(resource.getrlimit(resource.RLIMIT_NOFILE)[0])
"""


def soft_limit_after(calls: int, hard: int) -> int:
    found = subprocess.run([sys.executable, "-c", RAISE.format(hard=hard, calls=calls)], capture_output=True,
                           text=True, check=True)
    return int(found.stdout.split()[-1])


def test_the_soft_limit_is_raised_to_what_the_calls_need() -> None:
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    needed = 4 * 1016 + 256
    assert soft_limit_after(1016, hard) == (needed if hard == resource.RLIM_INFINITY else min(needed, hard))
    assert soft_limit_after(100, hard) == 1024  # enough already: left alone


def test_a_hard_limit_below_the_need_is_taken_as_it_is() -> None:
    assert soft_limit_after(1016, 2048) == 2048
