"""The media page: upload with a progress bar, thumbnails, durations, where each file is
shown, delete only what nothing shows.

Uploads go to ``/admin/media/upload`` (the script in ``static/media.js`` sends the
file with ``XMLHttpRequest`` to show its progress, with the CSRF header); the
route is the API's own upload (``routers/uploads.py``: streamed, checked,
decoded in a child process), so nothing differs from ``POST /api/v1/assets``.
Deleting is the API's delete too (409 with every use named). Files are shown
to the browser from ``/admin/media/{sha256}/file``, scoped like the API.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Form, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response

from ..access import AuditTrail, client_address, scoped_asset
from ..deps import State
from ..errors import ContentServerError, NotFoundError
from ..media_use import Use
from ..models import OwnedAsset
from ..routers import uploads as api
from .fleet import site_name
from .i18n import N_, Translator
from .playlists import lang_name
from .web import NAV, NavItem, SessionEditor, SessionScope, render, router, translator

NAV.append(NavItem("/admin/media", N_("Media")))
STATES = {"published": N_("published"), "draft": N_("draft")}


@dataclass(frozen=True)
class MediaRow:
    asset: OwnedAsset
    uses: list[Use]
    used_elsewhere: bool

    @property
    def is_video(self) -> bool:
        return self.asset.media_type.startswith("video/")

    @property
    def preview(self) -> str | None:
        """The sha256 of the picture to show: the image itself or the video's still."""
        return self.asset.thumbnail if self.is_video else self.asset.sha256


def describe_use(tr: Translator, use: Use) -> str:
    state = tr.gettext(STATES[use.state])
    language = lang_name(use.language, tr.lang)
    if use.kind == "page":
        return tr.gettext("kiosk page %(id)s, %(lang)s", id=use.id, lang=language)
    return tr.gettext(
        "playlist %(id)s (%(state)s), item %(item)s, %(lang)s",
        id=use.id, state=state, item=use.item_id or "", lang=language,
    )  # fmt: skip


def media_rows(state: State, ids: set[str], site: str | None) -> list[MediaRow]:
    everywhere = api._all_uses(state)
    thumbs = set(state.store.thumbnails().values())
    seen: set[str] = set()
    rows = []
    for a in reversed(state.store.owned_assets(ids if site is None else ids & {site})):
        if a.sha256 in seen or a.sha256 in thumbs:
            continue
        seen.add(a.sha256)
        found = everywhere.get(a.sha256, [])
        mine = [u for u in found if u.site_id in ids]
        rows.append(MediaRow(a, mine, len(mine) < len(found)))
    return rows


def _page(
    request: Request, scope: SessionScope, state: State, site: str | None, status: int = 200,
    **extra: Any,
) -> HTMLResponse:  # fmt: skip
    if site is not None:
        scope.check_site(site)
    tr = translator(request)
    sites = [scope.sites[s] for s in sorted(scope.ids)]
    ctx = {
        "rows": media_rows(state, scope.ids, site),
        "site": site,
        "sites": sites,
        "sites_by_id": scope.sites,
        "site_name": site_name,
        "describe_use": lambda u: describe_use(tr, u),
        "can_edit": scope.user.role in ("admin", "editor"),
        "max_upload": state.settings.max_upload_bytes,
        **extra,
    }
    return render(request, "media.html", ctx, status=status)


@router.get("/media")
def media_page(
    request: Request,
    scope: SessionScope,
    state: State,
    site: Annotated[str | None, Query(max_length=64)] = None,
) -> HTMLResponse:
    return _page(request, scope, state, site or None)


@router.post("/media/upload")
async def media_upload(
    request: Request,
    site_id: Annotated[str, Query(max_length=64)],
    user: SessionEditor,
    scope: SessionScope,
    state: State,
) -> JSONResponse:
    """The API's upload; the answer is JSON for the page's script (an error in words)."""
    audit = AuditTrail(state, user, client_address(request))
    try:
        out = await api.upload_asset(request, site_id, user, scope, state, audit)
    except ContentServerError as e:
        tr = translator(request)
        return JSONResponse({"error": tr.gettext(str(e))}, status_code=e.status)
    return JSONResponse(out.model_dump())


@router.post("/media/{sha256}/delete", response_model=None)
def media_delete(
    sha256: str,
    request: Request,
    user: SessionEditor,
    scope: SessionScope,
    state: State,
    site: Annotated[str | None, Form(max_length=64)] = None,
) -> Response:
    sha = scoped_asset(sha256, scope, state)
    audit = AuditTrail(state, user, client_address(request))
    try:
        api.delete_asset(sha, user, scope, state, audit)
    except ContentServerError as e:
        if e.status != 409:
            raise
        tr = translator(request)
        rows = {r.asset.sha256: r for r in media_rows(state, scope.ids, None)}
        row = rows.get(sha)
        uses = [describe_use(tr, u) for u in row.uses] if row else []
        message = tr.gettext("This file is still shown by:") + " " + "; ".join(uses)
        return _page(request, scope, state, site or None, errors={sha: message}, status=409)
    query = f"?site={site}&deleted=1" if site else "?deleted=1"
    return Response(status_code=303, headers={"location": f"/admin/media{query}"})


@router.get("/media/{sha256}/file")
def media_file(sha256: str, scope: SessionScope, state: State) -> FileResponse:
    """The bytes, for thumbnails and previews in the admin (scoped like the API)."""
    sha = scoped_asset(sha256, scope, state)
    asset = state.store.asset(sha)
    path = state.asset_store.path(sha)
    if asset is None or not path.is_file():
        raise NotFoundError(N_("This file does not exist at the sites you manage."))
    return FileResponse(
        path, media_type=asset.media_type, headers={"cache-control": "private, max-age=86400"}
    )
