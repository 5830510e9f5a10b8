"""``/api/v1/layouts`` and ``/api/v1/notices``: screen layouts per site and ticker notices.

A site's layout (orientation, header, ticker, an optional header title) applies to
its devices and to every site below that has none of its own; its notices scroll on
the ticker of every device at the site or below. Both go into manifests with the
next publish: ``POST /layouts/publish?site_id=…`` signs new manifests for the devices
at that site and below at once. Reading needs any role, writing ``editor``; every
write is audited. Shapes and limits are ``signage_core.layout``'s, checked here so
that a bad text is a 422 and never a publish that fails.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from signage_core.errors import ManifestError
from signage_core.layout import parse_notice, parse_title
from signage_core.timefmt import format_time

from ..access import Audit, EditorUser, UserScope
from ..deps import State
from ..drafts import check_drawable, check_language
from ..errors import InvalidInputError, NotFoundError
from ..models import SiteLayout, TickerNotice
from ..schemas_admin import ID, LayoutBody, LayoutOut, NoticeBody, NoticeIn, NoticeOut, PublishOut
from ..store import LayoutStore
from .pages import publish_site

router = APIRouter(tags=["layouts"])


def _check_texts(texts: dict[str, str], where: str, state: State) -> None:
    for code, text in texts.items():
        check_language(code, where)
        check_drawable(text, f"{where}, {code}", state)


def _layout_out(layout: SiteLayout) -> LayoutOut:
    return LayoutOut(**asdict(layout))


@router.get("/layouts", summary="Screen layouts of the sites you manage")
def list_layouts(
    scope: UserScope, state: State, site_id: Annotated[str | None, Query(pattern=ID)] = None
) -> list[LayoutOut]:
    layouts = LayoutStore(state.store).layouts()
    return [
        _layout_out(layouts[s])
        for s in sorted(layouts)
        if s in scope.ids and (site_id is None or s == site_id)
    ]


@router.get("/layouts/{site_id}", summary="A site's own screen layout")
def get_layout(
    site_id: Annotated[str, Path(pattern=ID)], scope: UserScope, state: State
) -> LayoutOut:
    scope.check_site(site_id)
    layout = LayoutStore(state.store).layouts().get(site_id)
    if layout is None:
        raise NotFoundError(
            f"site {site_id} has no layout of its own: its screens use the layout of the "
            "nearest site above that has one, or a full-screen card"
        )
    return _layout_out(layout)


@router.put("/layouts/{site_id}", summary="Set a site's screen layout (publish to show it)")
def put_layout(
    site_id: Annotated[str, Path(pattern=ID)],
    body: LayoutBody,
    _: EditorUser,
    scope: UserScope,
    state: State,
    audit: Audit,
) -> LayoutOut:
    scope.check_site(site_id)
    if body.title:
        try:
            parse_title(body.title)
        except ManifestError as e:
            raise InvalidInputError(str(e)) from e
        _check_texts(body.title, f"layout of site {site_id}, title", state)
    layout = SiteLayout(
        site_id, body.orientation, body.header, body.ticker, dict(body.title),
        format_time(state.clock()),
    )  # fmt: skip
    LayoutStore(state.store).put_layout(layout)
    audit("edit layout", f"layout {site_id}", body.model_dump())
    return _layout_out(layout)


@router.delete("/layouts/{site_id}", status_code=204, summary="Remove a site's own layout")
def delete_layout(
    site_id: Annotated[str, Path(pattern=ID)],
    _: EditorUser,
    scope: UserScope,
    state: State,
    audit: Audit,
) -> Response:
    scope.check_site(site_id)
    if not LayoutStore(state.store).delete_layout(site_id):
        raise NotFoundError(f"site {site_id} has no layout of its own")
    audit("delete layout", f"layout {site_id}")
    return Response(status_code=204)


@router.post("/layouts/publish", summary="Sign new manifests with the current layouts and notices")
def publish_layouts(
    site_id: Annotated[str, Query(pattern=ID)],
    user: EditorUser,
    scope: UserScope,
    state: State,
    request: Request,
) -> PublishOut:
    return publish_site(
        site_id, f"layout and notices of site {site_id}", user, scope, state, request
    )


# --- ticker notices ----------------------------------------------------------------------


def _notice(body: NoticeIn, state: State, scope: UserScope) -> TickerNotice:
    scope.check_site(body.site_id)
    try:
        checked = parse_notice(body.model_dump(), f"notice {body.id}")
    except ManifestError as e:
        raise InvalidInputError(str(e)) from e
    _check_texts(checked.texts, f"notice {body.id}", state)
    return TickerNotice(
        id=body.id,
        site_id=body.site_id,
        position=body.position,
        texts=checked.texts,
        until=None if checked.until is None else format_time(checked.until),
        updated_at=format_time(state.clock()),
    )


def scoped_notice(
    notice_id: Annotated[str, Path(max_length=64)], scope: UserScope, state: State
) -> TickerNotice:
    return scope.check_entity(
        LayoutStore(state.store).notice(notice_id),
        f"there is no ticker notice {notice_id!r} at the sites you manage",
    )


ScopedNotice = Annotated[TickerNotice, Depends(scoped_notice)]


@router.get("/notices", summary="Ticker notices of the sites you manage")
def list_notices(
    scope: UserScope, state: State, site_id: Annotated[str | None, Query(pattern=ID)] = None
) -> list[NoticeOut]:
    return [
        NoticeOut(**asdict(n))
        for n in LayoutStore(state.store).notices()
        if n.site_id in scope.ids and (site_id is None or n.site_id == site_id)
    ]


@router.post("/notices", status_code=201, summary="Add a ticker notice (publish to show it)")
def create_notice(
    body: NoticeIn, _: EditorUser, scope: UserScope, state: State, audit: Audit
) -> NoticeOut:
    scope.check_site(body.site_id)
    held = LayoutStore(state.store).notice(body.id)
    scope.check_new_id(body.id, "ticker notice", held.site_id if held else None, bool(held))
    notice = _notice(body, state, scope)
    LayoutStore(state.store).put_notice(notice)
    audit("create notice", f"notice {body.id}", {"site_id": body.site_id})
    return NoticeOut(**asdict(notice))


@router.get("/notices/{notice_id}", summary="A ticker notice")
def get_notice(notice: ScopedNotice) -> NoticeOut:
    return NoticeOut(**asdict(notice))


@router.put("/notices/{notice_id}", summary="Replace a ticker notice")
def put_notice(
    notice: ScopedNotice,
    body: NoticeBody,
    _: EditorUser,
    scope: UserScope,
    state: State,
    audit: Audit,
) -> NoticeOut:
    new = _notice(NoticeIn(id=notice.id, **body.model_dump()), state, scope)
    LayoutStore(state.store).put_notice(new)
    audit("edit notice", f"notice {notice.id}", {"site_id": body.site_id})
    return NoticeOut(**asdict(new))


@router.delete("/notices/{notice_id}", status_code=204, summary="Delete a ticker notice")
def delete_notice(notice: ScopedNotice, _: EditorUser, state: State, audit: Audit) -> Response:
    LayoutStore(state.store).delete_notice(notice.id)
    audit("delete notice", f"notice {notice.id}")
    return Response(status_code=204)
