"""Kiosk pages in the admin: the tree of categories and pages per site, each page with its
languages side by side (missing translations marked), and publishing a site's pages.

Saving and publishing are the API's own functions (``routers/pages.py``): the same
checks (a parent must be a category of the same site; characters the device fonts
cannot draw are refused), scoping, audit and signing.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import Form, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from signage_core import languages as langs

from ..access import AuditTrail, Scope, client_address, scoped_page
from ..deps import State
from ..errors import ContentServerError
from ..models import Page, effective_languages, effective_required
from ..routers import pages as api
from ..schemas_admin import PageIn
from .fleet import site_name
from .i18n import N_
from .playlist_form import ID_MESSAGE
from .playlists import lang_name
from .web import NAV, NavItem, SessionEditor, SessionScope, render, router, translator

NAV.append(NavItem("/admin/pages", N_("Kiosk pages")))
ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")


def missing(page: Page | dict[str, Any], sites: Any) -> tuple[list[str], list[str]]:
    """``(required languages it lacks, shown languages it lacks)``."""
    site_id = page.site_id if isinstance(page, Page) else page["site_id"]
    variants = page.variants if isinstance(page, Page) else page["variants"]
    required = effective_required(site_id, sites)
    shown = [c for c in effective_languages(site_id, sites) if c not in required]
    return [c for c in required if c not in variants], [c for c in shown if c not in variants]


@router.get("/pages")
def pages_list(
    request: Request,
    scope: SessionScope,
    state: State,
    site: Annotated[str | None, Query(max_length=64)] = None,
) -> HTMLResponse:
    if site:
        scope.check_site(site)
    tr = translator(request)
    pages = [
        p for p in state.store.pages() if p.site_id in scope.ids and (not site or p.site_id == site)
    ]
    by_site: dict[str, list[dict[str, Any]]] = {}
    for p in sorted(
        pages,
        key=lambda p: (p.site_id, p.parent_id or p.id, p.parent_id is not None, p.position, p.id),
    ):
        req, opt = missing(p, scope.sites)
        by_site.setdefault(p.site_id, []).append(
            {
                "p": p,
                "title": (p.variants.get(tr.lang) or p.variants.get("vi") or {}).get("title", p.id),
                "required": [lang_name(c, tr.lang) for c in req],
                "optional": [lang_name(c, tr.lang) for c in opt],
            }
        )
    ctx = {
        "by_site": by_site,
        "sites": scope.sites,
        "site_name": site_name,
        "can_edit": scope.user.role in ("admin", "editor"),
    }
    return render(request, "kiosk_pages.html", ctx)


def _editor(
    request: Request,
    scope: Scope,
    state: State,
    values: dict[str, Any],
    *,
    new: bool,
    errors: dict[str, str] | None = None,
    problem: str | None = None,
    status: int = 200,
    message: str | None = None,
) -> HTMLResponse:
    tr = translator(request)
    site_id = values.get("site_id") or ""
    if site_id not in scope.ids:
        site_id = values["site_id"] = sorted(scope.ids)[0] if scope.ids else ""
    codes = effective_languages(site_id, scope.sites) if site_id else ["vi", "lo"]
    required = effective_required(site_id, scope.sites) if site_id else ["vi", "lo"]
    variants = {c: True for c in codes if values.get(f"title-{c}")}
    req, opt = missing({"site_id": site_id, "variants": variants}, scope.sites)
    categories = [
        p
        for p in state.store.pages()
        if p.site_id == site_id and p.kind == "category" and p.id != values.get("id")
    ]
    images = []
    thumbs = set(state.store.thumbnails().values())
    for a in state.store.owned_assets(scope.ids):
        if a.media_type.startswith("image/") and a.sha256 not in thumbs:
            images.append({"sha256": a.sha256, "name": a.original_name})
    ctx = {
        "values": values,
        "new": new,
        "errors": {k: tr.gettext(v) for k, v in (errors or {}).items()},
        "problem": problem,
        "message": message,
        "langs": [langs.get(c) for c in codes],
        "required": required,
        "missing_required": req,
        "missing_optional": opt,
        "categories": categories,
        "images": images,
        "site_choices": [scope.sites[s] for s in sorted(scope.ids)],
        "site_name": site_name,
        "can_edit": scope.user.role in ("admin", "editor"),
    }
    return render(request, "kiosk_page_edit.html", ctx, status=status)


def _values(page: Page) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": page.id,
        "site_id": page.site_id,
        "parent_id": page.parent_id or "",
        "kind": page.kind,
        "position": str(page.position),
    }
    for code, v in page.variants.items():
        for k in ("title", "body", "image"):
            if v.get(k):
                out[f"{k}-{code}"] = v[k]
    return out


@router.get("/pages/new")
def page_new(
    request: Request,
    user: SessionEditor,
    scope: SessionScope,
    state: State,
    site: Annotated[str | None, Query(max_length=64)] = None,
) -> HTMLResponse:
    if site:
        scope.check_site(site)
    values = {"site_id": site or "", "kind": "page", "position": "0"}
    return _editor(request, scope, state, values, new=True)


@router.get("/pages/{page_id}")
def page_edit(page_id: str, request: Request, scope: SessionScope, state: State) -> HTMLResponse:
    page = scoped_page(page_id, scope, state)
    message = None
    if request.query_params.get("done") == "saved":
        message = translator(request).gettext(
            "Saved. Publish the site's pages to put it on the kiosks."
        )
    return _editor(request, scope, state, _values(page), new=False, message=message)


async def _save(
    request: Request, scope: Scope, state: State, user: Any, page: Page | None
) -> Response:
    form = await request.form()
    values: dict[str, Any] = {k: v.strip() for k, v in form.items() if isinstance(v, str)}
    if page is not None:
        values["id"], values["site_id"] = page.id, page.site_id
    errors: dict[str, str] = {}
    if not ID_RE.match(values.get("id", "")):
        errors["id"] = ID_MESSAGE
    if not values.get("title-vi"):
        errors["title-vi"] = N_("Give the page a title in Vietnamese.")
    try:
        position = int(values.get("position") or "0")
    except ValueError:
        errors["position"] = N_("The order is a whole number from 0 to 10000.")
        position = 0
    if values.get("site_id") not in scope.ids:
        errors["site_id"] = N_("Choose one of your sites.")
    if errors:
        return _editor(request, scope, state, values, new=page is None, errors=errors, status=422)
    codes = effective_languages(values["site_id"], scope.sites)
    variants = {}
    for c in codes:
        if values.get(f"title-{c}"):
            variants[c] = {
                "title": values[f"title-{c}"],
                "body": values.get(f"body-{c}", ""),
                **({"image": values[f"image-{c}"]} if values.get(f"image-{c}") else {}),
            }
    body_dict = {
        "id": values["id"],
        "site_id": values["site_id"],
        "parent_id": values.get("parent_id") or None,
        "kind": values.get("kind", "page"),
        "position": position,
        "variants": variants,
    }
    tr = translator(request)
    try:
        body = PageIn.model_validate(body_dict)
        audit = AuditTrail(state, user, client_address(request))
        if page is None:
            api.create_page(body, user, scope, state, audit)
        else:
            api.put_page(page, body, user, scope, state, audit)
    except ValidationError:
        status, problem = 422, tr.gettext("Some fields are missing or not valid.")
    except ContentServerError as e:
        if e.status not in (403, 409, 422):
            raise
        status, problem = e.status, tr.gettext(str(e))
    else:
        return Response(status_code=303, headers={"location": f"/admin/pages/{body.id}?done=saved"})
    return _editor(request, scope, state, values, new=page is None, status=status, problem=problem)


@router.post("/pages/new", response_model=None)
async def page_create(
    request: Request, user: SessionEditor, scope: SessionScope, state: State
) -> Response:
    return await _save(request, scope, state, user, None)


@router.post("/pages/publish", response_model=None)
def pages_publish(
    request: Request,
    user: SessionEditor,
    scope: SessionScope,
    state: State,
    site_id: Annotated[str, Form(max_length=64)],
) -> Response:
    scope.check_site(site_id)
    api.publish_pages(site_id, user, scope, state, request)
    return Response(status_code=303, headers={"location": f"/admin/pages?published={site_id}"})


@router.post("/pages/{page_id}", response_model=None)
async def page_update(
    page_id: str, request: Request, user: SessionEditor, scope: SessionScope, state: State
) -> Response:
    return await _save(request, scope, state, user, scoped_page(page_id, scope, state))
