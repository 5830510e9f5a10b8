"""``/api/v1/reports``: proof-of-play counts, uptime, the yearly report; scoped like
everything else.

``GET /reports/plays?since=…&until=…`` counts the play records devices sent
(``POST /devices/{id}/events``) per device, playlist, item and language, for
the devices at the sites the user manages (optionally one site and below,
or one device). Dates are local dates in Asia/Ho_Chi_Minh, ``until`` inclusive.
``…/plays/daily`` counts per device, item and day, ``…/uptime`` gives each
device's share of the period it was heard, ``…/yearly?year=`` the plays, uptime
and feedback per gate for the culture department; each has a ``.csv`` twin
(UTF-8 with a byte-order mark, for Excel). The sums are ``reports.py``'s.

``GET /reports/feedback?since=…&until=…`` counts kiosk feedback per site, rating
and language, scoped the same way.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from signage_core.timefmt import format_time

from .. import reports
from ..access import Scope, UserScope
from ..deps import State
from ..models import Device
from ..schemas_admin import ID, DailyPlayOut, FeedbackCountOut, GateYearOut, PlayCount, UptimeOut
from ..state import ServerState

router = APIRouter(prefix="/reports", tags=["reports"])


def local_midnight_utc(day: date) -> str:
    """The start of a local date (Asia/Ho_Chi_Minh) as a UTC time."""
    return format_time(reports.local_start(day))


Since = Annotated[date, Query(description="First local date, like 2026-12-01.")]
Until = Annotated[date, Query(description="Last local date (inclusive).")]
SiteQ = Annotated[str | None, Query(pattern=ID, description="One site and the sites below.")]
DeviceQ = Annotated[str | None, Query(pattern=ID)]
CSV: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {}}, "description": "UTF-8 with a byte-order mark"}
}


def devices_at(
    scope: Scope, state: ServerState, site_id: str | None, device_id: str | None = None
) -> list[Device]:
    """The devices (revoked ones too) at the user's sites, or at one of them and below
    (404 for a site outside them), or one device."""
    if site_id is not None:
        scope.check_site(site_id)
    return reports.devices_in(state.store, scope.ids, scope.sites, site_id, device_id)


def _csv(name: str, body: bytes) -> Response:
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/plays", summary="Proof-of-play counts per device, item and language")
def plays(
    scope: UserScope,
    state: State,
    since: Since,
    until: Until,
    site_id: Annotated[str | None, Query(pattern=ID)] = None,
    device_id: DeviceQ = None,
) -> list[PlayCount]:
    reports.check_period(since, until)
    devices = devices_at(scope, state, site_id, device_id)
    rows = state.store.play_counts([d.id for d in devices], *reports.utc_bounds(since, until))
    return [PlayCount(**asdict(r)) for r in rows]


@router.get("/plays/daily", summary="Proof of play per device, item and local day")
def plays_daily(
    scope: UserScope, state: State, since: Since, until: Until, site_id: SiteQ = None,
    device_id: DeviceQ = None,
) -> list[DailyPlayOut]:  # fmt: skip
    reports.check_period(since, until)
    devices = devices_at(scope, state, site_id, device_id)
    site_of = {d.id: d.site_id for d in devices}
    rows = reports.daily_plays(state.store, devices, since, until)
    return [DailyPlayOut(site_id=site_of[r.device_id], **asdict(r)) for r in rows]


@router.get("/plays/daily.csv", summary="Proof of play per day, as CSV", responses=CSV)
def plays_daily_csv(
    scope: UserScope, state: State, since: Since, until: Until, site_id: SiteQ = None,
    device_id: DeviceQ = None,
) -> Response:  # fmt: skip
    rows = plays_daily(scope, state, since, until, site_id, device_id)
    body = reports.to_csv(
        ["day", "site_id", "device_id", "playlist_id", "item_id", "plays", "seconds"],
        [(r.day, r.site_id, r.device_id, r.playlist_id, r.item_id, r.plays,
          round(r.duration_ms / 1000)) for r in rows],
    )  # fmt: skip
    return _csv(f"plays-{since}-{until}.csv", body)


@router.get("/uptime", summary="Uptime per device: the share of the period it was heard")
def uptime(
    scope: UserScope, state: State, since: Since, until: Until, site_id: SiteQ = None,
    device_id: DeviceQ = None,
) -> list[UptimeOut]:  # fmt: skip
    reports.check_period(since, until)
    devices = devices_at(scope, state, site_id, device_id)
    rows = reports.uptime(state.store, devices, since, until, state.clock())
    return [
        UptimeOut(device_id=u.device_id, site_id=u.site_id, online_s=round(u.online_s),
                  period_s=round(u.period_s), percent=u.percent,
                  days={k: round(v) for k, v in u.days.items()})
        for u in rows
    ]  # fmt: skip


@router.get("/uptime.csv", summary="Uptime per device and day, as CSV", responses=CSV)
def uptime_csv(
    scope: UserScope, state: State, since: Since, until: Until, site_id: SiteQ = None,
    device_id: DeviceQ = None,
) -> Response:  # fmt: skip
    rows = uptime(scope, state, since, until, site_id, device_id)
    lines = []
    for u in rows:
        day = since
        while day <= until:
            seconds = u.days.get(day.isoformat(), 0)
            lines.append((day.isoformat(), u.site_id, u.device_id, round(seconds / 60)))
            day += timedelta(days=1)
    body = reports.to_csv(["day", "site_id", "device_id", "online_minutes"], lines)
    return _csv(f"uptime-{since}-{until}.csv", body)


Year = Annotated[int, Query(ge=2000, le=2100, description="The calendar year, like 2026.")]


@router.get("/yearly", summary="The yearly activity report: plays, uptime, feedback per gate")
def yearly(scope: UserScope, state: State, year: Year) -> list[GateYearOut]:
    rows = reports.yearly(state.store, scope.ids, scope.sites, year, state.clock())
    return [GateYearOut(**asdict(g), uptime_percent=g.uptime_percent) for g in rows]


@router.get("/yearly.csv", summary="The yearly activity report, as CSV", responses=CSV)
def yearly_csv(scope: UserScope, state: State, year: Year) -> Response:
    rows = yearly(scope, state, year)
    body = reports.to_csv(
        ["site_id", "name_vi", "name_lo", "devices", "plays", "play_hours", "uptime_percent",
         "feedback"],
        [(g.site_id, g.name.get("vi", ""), g.name.get("lo", ""), g.devices, g.plays,
          round(g.play_hours, 1),
          "" if g.uptime_percent is None else round(g.uptime_percent, 1), g.feedback)
         for g in rows],
    )  # fmt: skip
    return _csv(f"activity-{year}.csv", body)


@router.get("/feedback", summary="Kiosk feedback counts per site, rating and language")
def feedback_counts(
    scope: UserScope,
    state: State,
    since: Since,
    until: Until,
    site_id: Annotated[str | None, Query(pattern=ID)] = None,
) -> list[FeedbackCountOut]:
    reports.check_period(since, until)
    site_of = {d.id: d.site_id for d in devices_at(scope, state, site_id)}
    rows = state.store.feedback_counts(site_of, *reports.utc_bounds(since, until))
    totals: dict[tuple[str, int, str], int] = {}
    for r in rows:
        key = (site_of[r.device_id], r.rating, r.language)
        totals[key] = totals.get(key, 0) + r.count
    return [
        FeedbackCountOut(site_id=s, rating=rt, language=lang, count=n)
        for (s, rt, lang), n in sorted(totals.items())
    ]
