"""A device's live health, from what arrived over MQTT: ``online``, ``stale``, ``offline``.

    online    the newest status is "online" and something was heard in the last
              3 heartbeat intervals
    stale     nothing heard for 3 intervals (a link that silently stopped: the
              broker has not noticed yet)
    offline   the newest status is "offline" (the device said so, or the broker
              sent its last will), or nothing heard for 10 intervals
    unknown   nothing ever heard

A status carries the device's session number, which grows on every connect:
a status from an older session (a late will, a stale retained copy) is
ignored, so a device that reconnected never looks offline because of its
previous connection. ``DeviceHealth`` is a plain record; ``apply_status``,
``apply_heartbeat`` and ``state_at`` are the rules. Time is always an argument.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

STATES = ("online", "stale", "offline", "unknown")
STALE_AFTER = 3  # heartbeat intervals
OFFLINE_AFTER = 10


@dataclass(frozen=True)
class DeviceHealth:
    device_id: str
    session: int = 0
    status_state: str | None = None
    status_at: datetime | None = None
    heartbeat: dict[str, Any] | None = None
    heartbeat_at: datetime | None = None
    interval_s: float | None = None

    @property
    def last_seen(self) -> datetime | None:
        seen = [t for t in (self.heartbeat_at, self.status_at) if t is not None]
        return max(seen) if seen else None


def apply_status(h: DeviceHealth, state: str, session: int, at: datetime) -> DeviceHealth | None:
    """The health after a status message, or None if the message is from an older session."""
    if session < h.session:
        return None
    if session == h.session and h.status_state == "offline" and state == "online":
        return None  # that session already ended; an "online" for it is a stale copy
    return replace(h, session=session, status_state=state, status_at=at)


def apply_heartbeat(
    h: DeviceHealth, body: dict[str, Any], at: datetime, interval_s: float | None
) -> DeviceHealth:
    return replace(
        h,
        heartbeat=body,
        heartbeat_at=at,
        interval_s=interval_s if interval_s is not None else h.interval_s,
    )


def state_at(h: DeviceHealth, now: datetime, default_interval_s: float) -> str:
    """``online``, ``stale``, ``offline`` or ``unknown`` at ``now``."""
    if h.status_state is None and h.heartbeat_at is None:
        return "unknown"
    if h.status_state == "offline":
        return "offline"
    seen = h.last_seen
    if seen is None:
        return "unknown"
    interval = timedelta(seconds=h.interval_s or default_interval_s)
    age = now - seen
    if age > OFFLINE_AFTER * interval:
        return "offline"
    if age > STALE_AFTER * interval:
        return "stale"
    return "online"
