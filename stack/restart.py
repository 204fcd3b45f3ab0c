"""When to start a crashed component again: exponential backoff, forgiven after a stable run.

Pure (no clock, no I/O): the supervisor passes the times in and sleeps the delay it is
given, so the policy is tested in milliseconds. As runit and systemd do, a component is
never given up on: a carrier wants it back as soon as whatever killed it goes away.
"""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Backoff:
    first: float = 0.5  # seconds before the first restart of a streak
    factor: float = 2.0
    cap: float = 30.0  # never wait longer than this between tries
    # A run at least this long was not a crash loop: the next crash starts from `first` again.
    stable_after: float = 60.0


BACKOFF = Backoff()


@dataclass(frozen=True)
class RestartState:
    """One component's record: every crash so far, and how many came in a quick streak."""

    crashes: int = 0
    streak: int = 0  # crashes since the last stable run

    def after_crash(self, started_at: float, crashed_at: float, policy: Backoff = BACKOFF) -> Restart:
        """A run that began at `started_at` ended (or failed its health check) at `crashed_at`."""
        streak = 0 if crashed_at - started_at >= policy.stable_after else self.streak
        delay = min(policy.cap, policy.first * policy.factor**streak)
        state = replace(self, crashes=self.crashes + 1, streak=streak + 1)
        return Restart(state=state, delay=delay, at=crashed_at + delay)


@dataclass(frozen=True)
class Restart:
    state: RestartState
    delay: float  # seconds to wait before starting again
    at: float  # when, on the clock the times were given in
