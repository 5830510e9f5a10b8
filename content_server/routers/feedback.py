"""``/api/v1/feedback``: what travellers said at the kiosks, for the sites a user manages.

Kiosks send feedback as records on ``POST /devices/{id}/events`` (``kind:
"feedback"``, checked there). Here editors and viewers read it: filtered by site
(and below), local dates in Asia/Ho_Chi_Minh (``until`` inclusive), rating and
language, newest first, a page at a time. A site outside the user's sites is 404,
as everywhere. Comments are returned exactly as typed, as JSON strings: whoever
shows them shows them as text. Counts per site, rating and language are in
``GET /reports/feedback``.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

from fastapi import APIRouter, Query

from signage_core.languages import LANGUAGES

from .. import reports
from ..access import Scope, UserScope
from ..deps import State
from ..errors import InvalidInputError
from ..schemas_admin import ID, FeedbackOut, FeedbackPage
from .reports import devices_at, local_midnight_utc

router = APIRouter(prefix="/feedback", tags=["feedback"])
MAX_PAGE = 500
MAX_OFFSET = 1_000_000_000  # past any real count; SQLite's integers end at 2**63


def check_dates(since: date | None, until: date | None) -> None:
    for name, day in (("'since'", since), ("'until'", until)):
        if day is not None:
            reports.check_day(name, day)
    if since is not None and until is not None and until < since:
        raise InvalidInputError(f"'until' ({until}) is before 'since' ({since}); swap them")


def check_language(language: str | None) -> None:
    if language is not None and language not in LANGUAGES:
        known = ", ".join(LANGUAGES)
        raise InvalidInputError(f"unknown language {language!r}; use one of {known}")


def devices_in(scope: Scope, state: State, site_id: str | None) -> dict[str, str]:
    """``{device id: site id}`` of the devices at the sites asked for (all the user's)."""
    return {d.id: d.site_id for d in devices_at(scope, state, site_id)}


@router.get("", summary="Feedback travellers gave at the kiosks")
def list_feedback(
    scope: UserScope,
    state: State,
    site_id: Annotated[str | None, Query(pattern=ID, description="This site and below.")] = None,
    since: Annotated[date | None, Query(description="First local date, like 2026-12-01.")] = None,
    until: Annotated[date | None, Query(description="Last local date (inclusive).")] = None,
    rating: Annotated[int | None, Query(ge=1, le=5)] = None,
    language: Annotated[str | None, Query(description="A language code: vi, lo, en, …")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> FeedbackPage:
    check_dates(since, until)
    check_language(language)
    devices = devices_in(scope, state, site_id)
    records, total = state.store.feedback(
        devices,
        since=None if since is None else local_midnight_utc(since),
        until=None if until is None else local_midnight_utc(until + timedelta(days=1)),
        rating=rating,
        language=language,
        limit=limit,
        offset=offset,
    )
    items = [
        FeedbackOut(
            id=r.id,
            site_id=devices[r.device_id],
            device_id=r.device_id,
            ts=r.ts,
            received_at=r.received_at,
            rating=r.rating,
            language=r.language,
            page_id=r.page_id,
            comment=r.comment,
        )
        for r in records
    ]
    more = offset + len(items) < total
    return FeedbackPage(items=items, total=total, next_offset=offset + len(items) if more else None)
