"""``/api/v1/pages``: kiosk pages, a tree (category → page) per site, per-language variants.

Touch kiosks browse them; they go into the ``pages`` list of the manifests
of the site and the sites below it (shape in ``publishing.py`` and
docs/api.md) with the next publish: ``POST /pages/publish?site_id=…`` signs
new manifests for those devices at once. Writes need ``editor``; every
write is audited. A page's parent must be a category of the same site.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from signage_core.timefmt import format_time

from ..access import Audit, EditorUser, Scope, ScopedPage, UserScope, client_address
from ..deps import State
from ..drafts import check_asset, check_drawable, check_language
from ..errors import ConflictError, InvalidInputError
from ..models import Page, User, descendants
from ..publishing import publish
from ..schemas_admin import ID, PageIn, PageOut, PublishOut
from ..state import ServerState

router = APIRouter(prefix="/pages", tags=["pages"])


def _check(body: PageIn, state: State, scope: UserScope) -> dict[str, Any]:
    scope.check_site(body.site_id)
    pages = {p.id: p for p in state.store.pages()}
    if body.parent_id is not None:
        parent = pages.get(body.parent_id)
        if parent is None or parent.site_id != body.site_id or parent.kind != "category":
            raise InvalidInputError(
                f"parent {body.parent_id!r} is not a category of site {body.site_id}"
            )
        if body.kind == "category":
            raise InvalidInputError("a category sits at the top level; give parent_id null")
    for code, v in body.variants.items():
        check_language(code, f"page {body.id}")
        if v.image is not None:
            asset_scope = None if scope.user.site_id is None else scope.ids
            check_asset(v.image, "image", f"page {body.id}, {code}", state, asset_scope)
        check_drawable(v.title + v.body, f"page {body.id}, {code}", state)
    variants = {c: v.model_dump(exclude_none=True) for c, v in body.variants.items()}
    return {**body.model_dump(exclude={"variants"}), "variants": variants}


def _out(p: Page) -> PageOut:
    return PageOut(**asdict(p))


@router.get("", summary="Kiosk pages of the sites you manage")
def list_pages(
    scope: UserScope, state: State, site_id: Annotated[str | None, Query(pattern=ID)] = None
) -> list[PageOut]:
    return [
        _out(p)
        for p in state.store.pages()
        if p.site_id in scope.ids and (site_id is None or p.site_id == site_id)
    ]


@router.post("", status_code=201, summary="Create a kiosk page or category")
def create_page(
    body: PageIn, _: EditorUser, scope: UserScope, state: State, audit: Audit
) -> PageOut:
    scope.check_site(body.site_id)
    held = next((p for p in state.store.pages() if p.id == body.id), None)
    scope.check_new_id(
        body.id, "kiosk page", None if held is None else held.site_id, held is not None
    )
    page = _check(body, state, scope)
    state.store.put_page(page, format_time(state.clock()))
    audit("create page", f"page {body.id}", {"site_id": body.site_id})
    return _out(next(p for p in state.store.pages() if p.id == body.id))


@router.get("/{page_id}", summary="A kiosk page")
def get_page(page: ScopedPage) -> PageOut:
    return _out(page)


@router.put("/{page_id}", summary="Replace a kiosk page")
def put_page(
    page: ScopedPage, body: PageIn, _: EditorUser, scope: UserScope, state: State, audit: Audit
) -> PageOut:
    if body.id != page.id:
        raise InvalidInputError("the id in the body differs from the one in the address")
    state.store.put_page(_check(body, state, scope), format_time(state.clock()))
    audit("edit page", f"page {body.id}", {"site_id": body.site_id})
    return _out(next(p for p in state.store.pages() if p.id == body.id))


@router.delete("/{page_id}", status_code=204, summary="Delete a kiosk page")
def delete_page(page: ScopedPage, _: EditorUser, state: State, audit: Audit) -> Response:
    if any(p.parent_id == page.id for p in state.store.pages()):
        raise ConflictError(f"category {page.id} still holds pages; delete or move them first")
    state.store.delete_page(page.id)
    audit("delete page", f"page {page.id}")
    return Response(status_code=204)


@router.post("/publish", summary="Sign new manifests with the current pages of a site")
def publish_pages(
    site_id: Annotated[str, Query(pattern=ID)],
    user: EditorUser,
    scope: UserScope,
    state: State,
    request: Request,
) -> PublishOut:
    return publish_site(site_id, f"pages of site {site_id}", user, scope, state, request)


def publish_site(
    site_id: str, reason: str, user: User, scope: Scope, state: ServerState, request: Request
) -> PublishOut:
    """Sign new manifests for every device at ``site_id`` and below (what changed is
    site-wide: kiosk pages, a layout, ticker notices)."""
    scope.check_site(site_id)
    affected = descendants(site_id, scope.sites)
    devices = [d.id for d in state.store.devices() if d.site_id in affected]
    result = publish(
        state.store,
        state.keys,
        state.clock(),
        timedelta(days=state.settings.manifest_ttl_days),
        user=user.username,
        address=client_address(request),
        reason=reason,
        device_ids=devices,
    )
    state.remember(result)
    return PublishOut(
        playlist_id="",
        revision=0,
        version=result.version,
        devices=[m.device_id for m in result.manifests],
        warnings=[],
    )
