"""Wall times for conferences a test schedules "now": a scheduled conference ends on its start's day
(conference.schedule), so near midnight UTC the times are given in a zone twelve hours away."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

ZONES = ("UTC", "Etc/GMT-12")  # Etc/GMT-12 is UTC+12 (POSIX signs) and has no daylight saving


def same_day(start: datetime, length: timedelta) -> tuple[str, datetime, datetime]:
    """A zone and the local start and end there of `start` (aware) lasting `length` (under 12 h)."""
    for zone in ZONES:
        local = start.astimezone(ZoneInfo(zone))
        if (local + length).date() == local.date():
            return zone, local, local + length
    raise ValueError(f"{length} does not fit in one day in any of {ZONES}")
