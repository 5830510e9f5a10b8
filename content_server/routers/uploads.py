"""``/api/v1/assets`` for users: upload media for a site, list and describe uploads.

(The bytes themselves are served to devices by ``routers/assets.py``.) An
upload is streamed to disk while hashed (``uploads.py``), judged by its
bytes, checked by the size its header declares and decoded with OpenCV in a
child process with limits (``media.py``); only then is it moved to its
sha256 name and recorded, with the site as its owner. The same bytes
uploaded twice are stored once; a second site uploading them becomes an
owner too. A video's thumbnail is stored as a PNG asset of the same site.

``GET …/{sha256}/uses`` says where an upload is shown (``media_use.py``);
``DELETE …/{sha256}`` takes it away from the sites the user manages, and only
when nothing there shows it (409 naming each use otherwise); the bytes go
when no site owns them any more and nothing anywhere shows them.
"""

from __future__ import annotations

import io
from dataclasses import asdict
from typing import Annotated, Literal

import anyio
from fastapi import APIRouter, Query, Request, Response

from signage_core.timefmt import format_time

from ..access import Audit, EditorUser, ScopedAsset, UserScope
from ..assets import adopt
from ..deps import State
from ..errors import ConflictError, NotFoundError
from ..media import DecodeLimits, MediaFacts, inspect
from ..media_use import Use, describe, uses, within
from ..models import Asset
from ..schemas_admin import ID, AssetOut, AssetUseOut, AssetUsesOut
from ..state import ServerState
from ..uploads import Received, receive_file

router = APIRouter(prefix="/assets", tags=["assets"])
SortKey = Literal["created_at", "original_name", "sha256"]
UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary"}},
                }
            }
        },
    }
}


def _store(state: ServerState, got: Received, facts: MediaFacts, site_id: str, user: str) -> bool:
    ts = format_time(state.clock())
    thumb = None
    if facts.thumbnail_png is not None:
        thumb = state.asset_store.put_stream(io.BytesIO(facts.thumbnail_png), 10 * 1024 * 1024)
    adopt(state.asset_store, got.path, got.sha256)
    types = {got.sha256: facts.media_type}
    with state.store.transaction():
        new = state.store.add_asset(Asset(got.sha256, got.size, facts.media_type, got.filename, ts))
        state.store.add_asset_owner(got.sha256, site_id, got.filename, ts, user)
        media = {"width": facts.width, "height": facts.height, "duration_s": facts.duration_s,
                 "fps": facts.fps, "frames": facts.frames,
                 "thumbnail": thumb.sha256 if thumb else None}  # fmt: skip
        state.store.put_asset_media(got.sha256, media)
        if thumb is not None:
            name = f"{got.filename}.thumbnail.png"
            state.store.add_asset(Asset(thumb.sha256, thumb.size, thumb.media_type, name, ts))
            state.store.add_asset_owner(thumb.sha256, site_id, name, ts, user)
            state.store.put_asset_media(thumb.sha256, {"width": None, "height": None})
            types[thumb.sha256] = thumb.media_type
    state.remember_assets(types)
    return new


def _describe(state: ServerState, sha256: str, site_ids: set[str]) -> AssetOut:
    rows = state.store.owned_assets(site_ids)
    row = next((r for r in rows if r.sha256 == sha256), None)
    if row is None:
        raise NotFoundError(f"there is no asset {sha256[:12]}… at the sites you manage")
    return AssetOut(**asdict(row))


@router.post(
    "",
    status_code=201,
    summary="Upload an image (PNG, JPEG) or a video (MP4, WebM) for a site",
    openapi_extra=UPLOAD_BODY,
    responses={
        413: {"description": "Too large (bytes, or pixels declared in its header)"},
        415: {"description": "Not playable media"},
        422: {"description": "Decoding it needed more memory or time than the server allows"},
    },
)
async def upload_asset(
    request: Request,
    site_id: Annotated[str, Query(pattern=ID, description="The site the file is for.")],
    user: EditorUser,
    scope: UserScope,
    state: State,
    audit: Audit,
) -> AssetOut:
    scope.check_site(site_id)
    got = await receive_file(request, state.asset_store.tmp, state.settings.max_upload_bytes)
    try:
        limits = DecodeLimits.of(state.settings)
        facts = await anyio.to_thread.run_sync(inspect, got.path, got.head, got.filename, limits)
        new = await anyio.to_thread.run_sync(_store, state, got, facts, site_id, user.username)
    finally:
        got.path.unlink(missing_ok=True)
    detail = {"name": got.filename, "size": got.size, "media_type": facts.media_type, "new": new}
    await anyio.to_thread.run_sync(audit, "upload asset", f"asset {got.sha256}", detail)
    out = await anyio.to_thread.run_sync(_describe, state, got.sha256, {site_id})
    return out.model_copy(update={"new": new})


@router.get("", summary="Uploads of the sites you manage")
def list_assets(
    scope: UserScope,
    state: State,
    sort: Annotated[SortKey, Query(description="Field to sort by.")] = "created_at",
    site_id: Annotated[str | None, Query(pattern=ID)] = None,
) -> list[AssetOut]:
    sites = scope.ids if site_id is None else scope.ids & {site_id}
    return [AssetOut(**asdict(r)) for r in state.store.owned_assets(sites, sort)]


@router.get("/{sha256}/info", summary="What an upload is: type, size, resolution, duration")
def get_asset_info(sha256: ScopedAsset, scope: UserScope, state: State) -> AssetOut:
    return _describe(state, sha256, scope.ids)


def _all_uses(state: ServerState) -> dict[str, list[Use]]:
    store = state.store
    return uses(store.playlists(), store.drafts(), store.pages(), store.thumbnails())


@router.get("/{sha256}/uses", summary="Where an upload is shown: playlists and kiosk pages")
def get_asset_uses(sha256: ScopedAsset, scope: UserScope, state: State) -> AssetUsesOut:
    found = _all_uses(state).get(sha256, [])
    mine = within(found, scope.ids)
    return AssetUsesOut(
        sha256=sha256,
        used_in=[AssetUseOut(**asdict(u)) for u in mine],
        used_elsewhere=len(mine) < len(found),
    )


@router.delete(
    "/{sha256}",
    status_code=204,
    summary="Delete an upload that nothing at your sites shows",
    responses={409: {"description": "Still used by a playlist (published or draft) or a page"}},
)
def delete_asset(
    sha256: ScopedAsset, _: EditorUser, scope: UserScope, state: State, audit: Audit
) -> Response:
    everywhere = _all_uses(state)
    found = everywhere.get(sha256, [])
    mine = within(found, scope.ids)
    owners = set(state.store.asset_owners(sha256))
    removing = owners & scope.ids if scope.user.site_id is not None else owners
    if mine or (found and not owners - removing):
        names = "; ".join(describe(u) for u in mine[:10])
        more = f" and {len(mine) - 10} more" if len(mine) > 10 else ""
        elsewhere = " (and content at sites you do not manage)" if len(mine) < len(found) else ""
        raise ConflictError(
            f"this file is still shown by {names or 'content at other sites'}{more}{elsewhere}; "
            "take it out of those playlists and pages (and publish them) before deleting it"
        )
    thumbnail = state.store.thumbnails().get(sha256)
    gone: set[str] = set()
    for sha in (sha256, thumbnail):
        if sha is None or (sha == thumbnail and everywhere.get(sha)):
            continue
        if not state.store.remove_asset_owners(sha, removing) and state.store.asset(sha) is None:
            state.asset_store.path(sha).unlink(missing_ok=True)
            gone.add(sha)
    state.forget_assets(gone)
    audit(
        "delete asset", f"asset {sha256}", {"sites": sorted(removing), "bytes_deleted": bool(gone)}
    )
    return Response(status_code=204)
