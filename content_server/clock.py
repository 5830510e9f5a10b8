"""The server's real clock, for ``main`` and the CLI to pass down.

Everything else in ``content_server`` takes ``now`` or a ``clock`` argument, so
tests run the server on their own clock; ``signage_core`` never reads a clock.
(``device_runtime.clock`` is the device's: the two sides share no code but the core.)
"""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> datetime:
    """Now, timezone-aware, in UTC."""
    return datetime.now(UTC)
