"""``/api/v1/playlists``: playlists assigned to the sites a user manages."""

from __future__ import annotations

from fastapi import APIRouter

from ..deps import CurrentUser, State
from ..models import descendants
from ..schemas import PlaylistOut

router = APIRouter(prefix="/playlists", tags=["playlists"])


@router.get("", summary="Playlists of the sites you manage")
def list_playlists(user: CurrentUser, state: State) -> list[PlaylistOut]:
    sites = state.store.sites()
    scope = set(sites) if user.site_id is None else descendants(user.site_id, sites)
    return [
        PlaylistOut(
            id=p.id,
            site_id=p.site_id,
            name=p.name,
            priority=p.priority,
            fallback=p.fallback,
            schedule=p.schedule,
            items=p.items,
            updated_at=p.updated_at,
        )
        for p in state.store.playlists()
        if p.site_id in scope
    ]
