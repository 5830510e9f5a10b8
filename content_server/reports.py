"""Reports for the admin and the culture department: proof of play per day, uptime
per device, the yearly activity report per gate, and CSV that Excel opens right.

The store counts (``DeliverySql.daily_plays``, ``feedback_counts``,
``FleetStore.uptime_days``); this module picks the devices a user may see,
turns local dates into UTC bounds, and adds the figures up. Routes
(``routers/reports.py``) and admin pages call the same functions.

Dates are local dates in ``Asia/Ho_Chi_Minh``, ``until`` inclusive. Uptime is
the share of the period a device was heard (``uptime.py``), counted from its
enrolment and never past ``now``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from signage_core.timefmt import format_time, parse_time

from .errors import InvalidInputError
from .models import DailyPlays, Device, Site, descendants, site_chain
from .store import FleetStore, Store
from .uptime import ZONE

MAX_DAYS = 366
# Dates a report or a filter may name: wide enough for any real record, narrow enough
# that a day's local midnight in UTC, and the day after, exist (year 1 or 9999 do not).
EARLIEST, LATEST = date(2000, 1, 1), date(2999, 12, 31)


def local_start(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=ZONE)


def utc_bounds(since: date, until: date) -> tuple[str, str]:
    """[since 00:00, the day after until 00:00) local, as UTC strings for the store."""
    return format_time(local_start(since)), format_time(local_start(until + timedelta(days=1)))


def check_day(what: str, day: date) -> None:
    if not EARLIEST <= day <= LATEST:
        raise InvalidInputError(
            f"{what} ({day}) is out of range: use a date from {EARLIEST} to {LATEST}"
        )


def check_period(since: date, until: date) -> None:
    check_day("the start", since)
    check_day("the end", until)
    if until < since:
        raise InvalidInputError(f"the report ends ({until}) before it starts ({since})")
    if (until - since).days >= MAX_DAYS:
        raise InvalidInputError(f"a report covers at most {MAX_DAYS} days; split it")


def devices_in(
    store: Store, scope_ids: set[str], sites: Mapping[str, Site], site_id: str | None = None,
    device_id: str | None = None,
) -> list[Device]:  # fmt: skip
    """Devices (revoked ones too: they played) at the user's sites, optionally one site
    and below, or one device."""
    wanted = scope_ids if site_id is None else descendants(site_id, sites) & scope_ids
    return [
        d
        for d in store.devices(include_revoked=True)
        if d.site_id in wanted and (device_id is None or d.id == device_id)
    ]


def daily_plays(
    store: Store, devices: Sequence[Device], since: date, until: date
) -> list[DailyPlays]:
    return store.daily_plays([d.id for d in devices], *utc_bounds(since, until))


@dataclass(frozen=True)
class Uptime:
    device_id: str
    site_id: str
    online_s: float
    period_s: float  # from max(since, enrolment) to min(until + 1 day, now)
    days: dict[str, float] = field(default_factory=dict)  # local day -> seconds online

    @property
    def percent(self) -> float | None:
        return None if self.period_s <= 0 else min(100.0, 100.0 * self.online_s / self.period_s)


def uptime(
    store: Store, devices: Sequence[Device], since: date, until: date, now: datetime
) -> list[Uptime]:
    days = FleetStore(store).uptime_days(
        [d.id for d in devices], since.isoformat(), until.isoformat()
    )
    per: dict[str, dict[str, float]] = {}
    for device_id, day, seconds in days:
        per.setdefault(device_id, {})[day] = seconds
    start, end = local_start(since), min(local_start(until + timedelta(days=1)), now)
    out = []
    for d in devices:
        begin = max(start, parse_time(d.created_at, "created_at"))
        seen = per.get(d.id, {})
        out.append(
            Uptime(
                d.id, d.site_id, sum(seen.values()), max(0.0, (end - begin).total_seconds()), seen
            )
        )
    return out


@dataclass(frozen=True)
class GateYear:
    """One line of the yearly activity report."""

    site_id: str
    name: dict[str, str]
    devices: int
    plays: int
    play_hours: float
    online_s: float
    period_s: float
    feedback: int

    @property
    def uptime_percent(self) -> float | None:
        return None if self.period_s <= 0 else min(100.0, 100.0 * self.online_s / self.period_s)


def gate_of(site_id: str, sites: Mapping[str, Site], scope_ids: set[str]) -> str:
    """The line a site's figures go to: its gate (the site one below a root) if the user
    sees it, else the highest site the user sees above it."""
    chain = list(reversed(site_chain(site_id, sites)))  # root first
    visible = [s.id for s in chain if s.id in scope_ids]
    if len(chain) > 1 and chain[1].id in scope_ids:
        return chain[1].id
    return visible[0] if visible else site_id


def yearly(
    store: Store, scope_ids: set[str], sites: Mapping[str, Site], year: int, now: datetime
) -> list[GateYear]:
    since, until = date(year, 1, 1), date(year, 12, 31)
    devices = devices_in(store, scope_ids, sites)
    bounds = utc_bounds(since, until)
    plays: dict[str, tuple[int, int]] = {}
    for row in store.daily_plays([d.id for d in devices], *bounds):
        n, ms = plays.get(row.device_id, (0, 0))
        plays[row.device_id] = (n + row.plays, ms + int(row.duration_ms or 0))
    feedback: dict[str, int] = {}
    for fb in store.feedback_counts([d.id for d in devices], *bounds):
        feedback[fb.device_id] = feedback.get(fb.device_id, 0) + fb.count
    ups = {u.device_id: u for u in uptime(store, devices, since, until, now)}
    gates: dict[str, list[Device]] = {}
    for d in devices:
        gates.setdefault(gate_of(d.site_id, sites, scope_ids), []).append(d)
    for s in scope_ids:  # a gate without devices still gets its line (a root does not)
        if gate_of(s, sites, scope_ids) == s and sites[s].parent_id is not None:
            gates.setdefault(s, [])
    out = []
    for gate, members in sorted(gates.items()):
        ids = [d.id for d in members]
        active = [d for d in members if not d.revoked or plays.get(d.id)]
        out.append(
            GateYear(
                site_id=gate,
                name=sites[gate].name if gate in sites else {},
                devices=len(active),
                plays=sum(plays.get(i, (0, 0))[0] for i in ids),
                play_hours=sum(plays.get(i, (0, 0))[1] for i in ids) / 3_600_000,
                online_s=sum(ups[d.id].online_s for d in active),
                period_s=sum(ups[d.id].period_s for d in active),
                feedback=sum(feedback.get(i, 0) for i in ids),
            )
        )
    return out


def to_csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    """UTF-8 with a byte-order mark (Excel then reads Vietnamese and Lao right), CRLF."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(header)
    writer.writerows(rows)
    return ("\ufeff" + buf.getvalue()).encode("utf-8")
