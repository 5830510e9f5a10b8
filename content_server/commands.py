"""Commands to devices over MQTT: ``sync``, ``screenshot``, ``restart``.

A command only wakes a device; it never carries content (what a device shows
comes from a signed manifest or a signed alert). Each one has an id and an
``expires_at``: a device drops one that arrives late (after days offline, a
``restart`` must not fire). Sending is ``ingest.FleetLink.send_command``;
this module builds and checks the payload.

    {"cmd": "sync", "id": "c-3f2a...", "issued_at": "...Z", "expires_at": "...Z"}
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from signage_core import topics
from signage_core.timefmt import format_time

from .errors import InvalidInputError

DEFAULT_TTL = timedelta(minutes=5)
MAX_TTL = timedelta(days=1)


def make_command(cmd: str, now: datetime, ttl: timedelta = DEFAULT_TTL) -> dict[str, Any]:
    """The payload of command ``cmd``, valid from ``now`` for ``ttl``."""
    if cmd not in topics.COMMANDS:
        raise InvalidInputError(
            f"unknown command {cmd!r}; a device understands {', '.join(topics.COMMANDS)}"
        )
    if not timedelta(seconds=1) <= ttl <= MAX_TTL:
        raise InvalidInputError("a command's time to live must be between 1 s and 1 day")
    return {
        "cmd": cmd,
        "id": f"c-{uuid.uuid4().hex[:16]}",
        "issued_at": format_time(now),
        "expires_at": format_time(now + ttl),
    }
