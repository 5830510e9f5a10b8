"""``/api/v1/sites``: the site tree a user manages (their site and the sites below it)."""

from __future__ import annotations

from fastapi import APIRouter

from ..deps import CurrentUser, State
from ..models import descendants, effective_languages, effective_required
from ..schemas import SiteOut

router = APIRouter(prefix="/sites", tags=["sites"])


@router.get("", summary="Sites you manage")
def list_sites(user: CurrentUser, state: State) -> list[SiteOut]:
    sites = state.store.sites()
    scope = set(sites) if user.site_id is None else descendants(user.site_id, sites)
    return [
        SiteOut(
            id=s.id,
            parent_id=s.parent_id,
            name=s.name,
            languages=effective_languages(s.id, sites),
            required_languages=effective_required(s.id, sites),
        )
        for s in sites.values()
        if s.id in scope
    ]
