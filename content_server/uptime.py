"""Uptime from heartbeats: how many seconds of each local day a device was heard.

Heartbeat history is pruned after a week (``ingest.HISTORY_DAYS``); the yearly
report needs a year. So the ingest credits every heartbeat to a compact
per-device, per-day total (``device_uptime_days``) as it stores it:

- a heartbeat within ``STALE_AFTER`` intervals of the previous one (and no
  "offline" status between them) credits the whole gap: the device was up
  all along, a lost heartbeat or two (QoS 0) does not cost uptime;
- otherwise (the first heartbeat, or after a silence) it credits one
  interval: the device vouches for the interval it reports on.

A credit that spans local midnight (``Asia/Ho_Chi_Minh``) is split between
the two days. Pure: times are arguments; storing is ``FleetStore``'s.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from signage_core.schedule import DEFAULT_TIMEZONE

from .health import STALE_AFTER, DeviceHealth

ZONE = ZoneInfo(DEFAULT_TIMEZONE)
DAY_S = 86400


def credit(prev: DeviceHealth | None, at: datetime, interval_s: float) -> list[tuple[date, float]]:
    """``[(local day, seconds online)]`` a heartbeat received ``at`` adds."""
    span = timedelta(seconds=interval_s)
    last = prev.heartbeat_at if prev is not None else None
    went_offline = (
        prev is not None
        and prev.status_state == "offline"
        and prev.status_at is not None
        and last is not None
        and prev.status_at >= last
    )
    if last is not None and not went_offline and timedelta(0) < at - last <= STALE_AFTER * span:
        span = at - last
    return split_by_day(at - span, at)


def split_by_day(start: datetime, end: datetime) -> list[tuple[date, float]]:
    """The seconds of [start, end) falling on each local day."""
    out: list[tuple[date, float]] = []
    cur = start.astimezone(ZONE)
    stop = end.astimezone(ZONE)
    while cur < stop:
        midnight = datetime.combine(cur.date() + timedelta(days=1), time(0), tzinfo=ZONE)
        piece_end = min(midnight, stop)
        out.append((cur.date(), (piece_end - cur).total_seconds()))
        cur = piece_end
    return out
