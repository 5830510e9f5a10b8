"""The device's real clock, for the top of the device apps to pass down.

Everything else in ``device_runtime`` takes a ``clock`` (or ``now``) argument,
so tests run it on their own clock; ``signage_core`` never reads a clock.
"""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> datetime:
    """Now, timezone-aware, in UTC."""
    return datetime.now(UTC)
