"""``/api/v1/reports``: proof-of-play counts, scoped like everything else.

``GET /reports/plays?since=…&until=…`` counts the play records devices sent
(``POST /devices/{id}/events``) per device, playlist, item and language, for
the devices at the sites the user manages (optionally one site and below,
or one device). Dates are local dates in Asia/Ho_Chi_Minh, ``until`` inclusive.
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
from ..schemas_admin import ID, PlayCount

router = APIRouter(prefix="/reports", tags=["reports"])
MAX_DAYS = 366


def _utc(day: date) -> str:
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
    rows = state.store.play_counts(devices, _utc(since), _utc(until + timedelta(days=1)))
    return [PlayCount(**asdict(r)) for r in rows]
