"""Dates for tests, relative to the real clock.

A test whose parts all run on an injected clock may use any fixed date. A test that
starts anything reading the real clock (a subprocess, a device runtime, Mosquitto, file
times) must use dates relative to now, or it turns red the day its fixed date ages past
a manifest's lifetime. ``latest_utc`` keeps the time of day a test relies on (05:00 UTC
is 12:00 in Huế) while the date follows the calendar.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


def latest_utc(hour: int, minute: int = 0) -> datetime:
    """The latest ``hour:minute`` UTC that is not in the future."""
    now = datetime.now(UTC)
    at = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
    return at if at <= now else at - timedelta(days=1)
