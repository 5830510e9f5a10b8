"""Report pages: proof of play and uptime with charts and CSV, the yearly activity report
(printable), and travellers' feedback per site with filters.

The figures are ``content_server/reports.py``'s and the CSV the API's own
(``routers/reports.py``), scoped to the sites the user manages. Charts are inline
SVG (``charts.py``).
"""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import Query, Request
from fastapi.responses import HTMLResponse, Response

from .. import reports
from ..deps import State
from ..errors import InvalidInputError
from ..routers import reports as api
from ..uptime import ZONE
from .charts import bars, hbars
from .fleet import site_name
from .i18n import N_
from .web import NAV, NavItem, SessionScope, render, router, translator

NAV.append(NavItem("/admin/reports", N_("Reports")))
NAV.append(NavItem("/admin/feedback", N_("Feedback")))
DateQ = Annotated[date | None, Query()]
SiteQ = Annotated[str | None, Query(max_length=64)]


def _period(state: State, since: date | None, until: date | None) -> tuple[date, date]:
    today = state.clock().astimezone(ZONE).date()
    until = until or today
    since = since or until - timedelta(days=29)
    reports.check_period(since, until)
    return since, until


def _site(scope: Any, site: str | None) -> str | None:
    if site:
        scope.check_site(site)
    return site or None


@router.get("/reports")
def reports_page(
    request: Request, scope: SessionScope, state: State, since: DateQ = None,
    until: DateQ = None, site: SiteQ = None,
) -> HTMLResponse:  # fmt: skip
    tr = translator(request)
    since, until = _period(state, since, until)
    site = _site(scope, site)
    devices = reports.devices_in(state.store, scope.ids, scope.sites, site)
    plays = reports.daily_plays(state.store, devices, since, until)
    per_day: Counter[str] = Counter()
    per_item: Counter[tuple[str, str]] = Counter()
    per_device: Counter[str] = Counter()
    for r in plays:
        per_day[r.day] += r.plays
        per_item[(r.playlist_id or "—", r.item_id or "—")] += r.plays
        per_device[r.device_id] += r.plays
    days = [since + timedelta(days=k) for k in range((until - since).days + 1)]
    every = max(1, len(days) // 8)
    chart = bars(
        [(d.strftime("%d/%m"), per_day[d.isoformat()],
          tr.gettext("%(day)s: %(n)s plays", day=d.strftime("%d/%m/%Y"),
                     n=tr.number(per_day[d.isoformat()])))
         for d in days],
        title=tr.gettext("Plays per day"), label_every=every,
    )  # fmt: skip
    ups = reports.uptime(state.store, devices, since, until, state.clock())
    uptime_rows = []
    for u in sorted(ups, key=lambda u: (u.percent if u.percent is not None else 101, u.device_id)):
        pct = u.percent
        daily = [
            (d.strftime("%d/%m"), u.days.get(d.isoformat(), 0) / 864,
             tr.gettext("%(day)s: %(p)s %%", day=d.strftime("%d/%m/%Y"),
                        p=tr.number(u.days.get(d.isoformat(), 0) / 864, 1)))
            for d in days
        ]  # fmt: skip
        uptime_rows.append({
            "u": u, "pct": pct,
            "chart": bars(daily, title=tr.gettext("Uptime of %(id)s per day", id=u.device_id),
                          height=70, max_value=100, label_every=every, css="small",
                          scale="100 %"),
        })  # fmt: skip
    query = f"since={since}&until={until}" + (f"&site_id={site}" if site else "")
    ctx = {
        "since": since, "until": until, "site": site, "chart": chart,
        "items": per_item.most_common(), "devices": per_device, "total": sum(per_day.values()),
        "uptime_rows": uptime_rows, "sites": [scope.sites[s] for s in sorted(scope.ids)],
        "site_name": site_name, "query": query, "year": until.year, "all_sites": scope.sites,
    }  # fmt: skip
    return render(request, "reports.html", ctx)


@router.get("/reports/plays.csv")
def reports_plays_csv(
    scope: SessionScope, state: State, since: date, until: date, site_id: SiteQ = None
) -> Response:
    return api.plays_daily_csv(scope, state, since, until, _site(scope, site_id), None)


@router.get("/reports/uptime.csv")
def reports_uptime_csv(
    scope: SessionScope, state: State, since: date, until: date, site_id: SiteQ = None
) -> Response:
    return api.uptime_csv(scope, state, since, until, _site(scope, site_id), None)


@router.get("/reports/yearly.csv")
def reports_yearly_csv(
    scope: SessionScope, state: State, year: Annotated[int, Query(ge=2000, le=2100)]
) -> Response:
    return api.yearly_csv(scope, state, year)


@router.get("/reports/yearly")
def reports_yearly(
    request: Request, scope: SessionScope, state: State,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
) -> HTMLResponse:  # fmt: skip
    tr = translator(request)
    now = state.clock()
    year = year or now.astimezone(ZONE).year
    rows = reports.yearly(state.store, scope.ids, scope.sites, year, now)
    chart = hbars(
        [(site_name(scope.sites[r.site_id], tr.lang) if r.site_id in scope.sites else r.site_id,
          r.plays, tr.number(r.plays)) for r in rows],
        title=tr.gettext("Plays per gate in %(year)s", year=year),
    )  # fmt: skip
    totals: dict[str, float | None] = {
        "devices": sum(r.devices for r in rows), "plays": sum(r.plays for r in rows),
        "hours": sum(r.play_hours for r in rows), "feedback": sum(r.feedback for r in rows),
    }  # fmt: skip
    online = sum(r.online_s for r in rows)
    period = sum(r.period_s for r in rows)
    totals["uptime"] = None if period <= 0 else 100 * online / period
    ctx = {"year": year, "rows": rows, "chart": chart, "totals": totals, "now": now,
           "site_name": site_name, "sites": scope.sites}  # fmt: skip
    return render(request, "yearly.html", ctx)


@router.get("/feedback")
def feedback_page(
    request: Request, scope: SessionScope, state: State, since: DateQ = None,
    until: DateQ = None, site: SiteQ = None,
    rating: Annotated[str | None, Query(max_length=1)] = None,
    language: Annotated[str | None, Query(max_length=8)] = None,
) -> HTMLResponse:  # fmt: skip
    tr = translator(request)
    since, until = _period(state, since, until)
    site = _site(scope, site)
    stars = int(rating) if rating and rating.isdigit() and 1 <= int(rating) <= 5 else None
    if rating and stars is None:
        raise InvalidInputError(N_("The rating is a number from 1 to 5."))
    devices = reports.devices_in(state.store, scope.ids, scope.sites, site)
    site_of = {d.id: d.site_id for d in devices}
    bounds = reports.utc_bounds(since, until)
    found, total = state.store.feedback(
        [d.id for d in devices], *bounds, stars, language or None, limit=500
    )
    counts: Counter[int] = Counter()
    for row in state.store.feedback_counts([d.id for d in devices], *bounds):
        if (stars is None or row.rating == stars) and (not language or row.language == language):
            counts[row.rating] += row.count
    chart = hbars(
        [(f"{n}★", counts.get(n, 0), tr.number(counts.get(n, 0))) for n in range(5, 0, -1)],
        title=tr.gettext("Feedback by rating"), width=420,
    )  # fmt: skip
    ctx = {"rows": found, "total": total, "site_of": site_of, "since": since, "until": until,
           "site": site, "rating": stars, "language": language or "", "chart": chart,
           "sites": [scope.sites[s] for s in sorted(scope.ids)], "site_name": site_name,
           "all_sites": scope.sites}  # fmt: skip
    return render(request, "feedback.html", ctx)
