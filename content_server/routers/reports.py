"""``/api/v1/reports``: proof-of-play counts, scoped like everything else.

``GET /reports/plays?since=…&until=…`` counts the play records devices sent
(``POST /devices/{id}/events``) per device, playlist, item and language, for
the devices at the sites the user manages (optionally one site and below,
or one device). Dates are local dates in Asia/Ho_Chi_Minh, ``until`` inclusive.

``GET /reports/feedback?since=…&until=…`` counts kiosk feedback per site, rating
and language, scoped the same way.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime, time, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query

from signage_core.schedule import DEFAULT_TIMEZONE
from signage_core.timefmt import format_time

from ..access import UserScope
from ..deps import State
from ..errors import InvalidInputError
from ..models import descendants
from ..schemas_admin import ID, FeedbackCountOut, PlayCount

router = APIRouter(prefix="/reports", tags=["reports"])
MAX_DAYS = 366


def local_midnight_utc(day: date) -> str:
    """The start of a local date (Asia/Ho_Chi_Minh) as a UTC time."""
    return format_time(datetime.combine(day, time(0), tzinfo=ZoneInfo(DEFAULT_TIMEZONE)))


@router.get("/plays", summary="Proof-of-play counts per device, item and language")
def plays(
    scope: UserScope,
    state: State,
    since: Annotated[date, Query(description="First local date, like 2026-12-01.")],
    until: Annotated[date, Query(description="Last local date (inclusive).")],
    site_id: Annotated[str | None, Query(pattern=ID)] = None,
    device_id: Annotated[str | None, Query(pattern=ID)] = None,
) -> list[PlayCount]:
    if until < since:
        raise InvalidInputError(f"the report ends ({until}) before it starts ({since})")
    if (until - since).days >= MAX_DAYS:
        raise InvalidInputError(f"a report covers at most {MAX_DAYS} days; split it")
    sites = scope.ids
    if site_id is not None:
        sites = descendants(scope.check_site(site_id).id, scope.sites) & scope.ids
    devices = [
        d.id
        for d in state.store.devices(include_revoked=True)
        if d.site_id in sites and (device_id is None or d.id == device_id)
    ]
    rows = state.store.play_counts(
        devices, local_midnight_utc(since), local_midnight_utc(until + timedelta(days=1))
    )
    return [PlayCount(**asdict(r)) for r in rows]


@router.get("/feedback", summary="Kiosk feedback counts per site, rating and language")
def feedback_counts(
    scope: UserScope,
    state: State,
    since: Annotated[date, Query(description="First local date, like 2026-12-01.")],
    until: Annotated[date, Query(description="Last local date (inclusive).")],
    site_id: Annotated[str | None, Query(pattern=ID)] = None,
) -> list[FeedbackCountOut]:
    if until < since:
        raise InvalidInputError(f"the report ends ({until}) before it starts ({since})")
    if (until - since).days >= MAX_DAYS:
        raise InvalidInputError(f"a report covers at most {MAX_DAYS} days; split it")
    sites = scope.ids
    if site_id is not None:
        sites = descendants(scope.check_site(site_id).id, scope.sites) & scope.ids
    site_of = {
        d.id: d.site_id for d in state.store.devices(include_revoked=True) if d.site_id in sites
    }
    rows = state.store.feedback_counts(
        site_of, local_midnight_utc(since), local_midnight_utc(until + timedelta(days=1))
    )
    totals: dict[tuple[str, int, str], int] = {}
    for r in rows:
        key = (site_of[r.device_id], r.rating, r.language)
        totals[key] = totals.get(key, 0) + r.count
    return [
        FeedbackCountOut(site_id=s, rating=rt, language=lang, count=n)
        for (s, rt, lang), n in sorted(totals.items())
    ]
