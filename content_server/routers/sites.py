"""``/api/v1/sites``: the site tree a user manages (their site and the sites below it).

Admins set a site's ``manifest_ttl_days`` (inherited by the sites below; the
server's ``CONTENT_SERVER_MANIFEST_TTL_DAYS`` when no site sets it).
"""

from __future__ import annotations

from fastapi import APIRouter

from ..access import AdminUser, Audit, ScopedSite, UserScope
from ..deps import CurrentUser, State
from ..models import Site, descendants, effective_languages, effective_required
from ..schemas import SiteOut
from ..schemas_admin import SiteSettingsIn

router = APIRouter(prefix="/sites", tags=["sites"])


@router.get("", summary="Sites you manage")
def list_sites(user: CurrentUser, state: State) -> list[SiteOut]:
    sites = state.store.sites()
    scope = set(sites) if user.site_id is None else descendants(user.site_id, sites)
    return [_out(s, sites) for s in sites.values() if s.id in scope]


def _out(s: Site, sites: dict[str, Site]) -> SiteOut:
    return SiteOut(
        id=s.id,
        parent_id=s.parent_id,
        name=s.name,
        languages=effective_languages(s.id, sites),
        required_languages=effective_required(s.id, sites),
        manifest_ttl_days=s.manifest_ttl_days,
    )


@router.get("/{site_id}", summary="A site you manage")
def get_site(site: ScopedSite, scope: UserScope) -> SiteOut:
    return _out(site, scope.sites)


@router.put("/{site_id}/settings", summary="Change a site's settings (admins)")
def put_site_settings(
    site: ScopedSite, body: SiteSettingsIn, _: AdminUser, state: State, audit: Audit
) -> SiteOut:
    state.store.set_site_ttl(site.id, body.manifest_ttl_days)
    audit("site settings", f"site {site.id}", body.model_dump())
    sites = state.store.sites()
    return _out(sites[site.id], sites)
