"""The fleet page: every screen of the sites the user manages, offline first, live.

Rows come from the same health the API serves (``routers/fleet.py``: live MQTT,
or what the database remembers without a broker). ``/admin/fleet/events`` is a
server-sent event stream of the table, sent again whenever it changes; it is
scoped and session-checked like the page, ends when the session does, and
closes after ``STREAM_S`` (the browser reconnects at once) so a stopping server
is never held up by an open page.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated, Any

import anyio
from fastapi import Query, Request
from fastapi.responses import HTMLResponse, StreamingResponse

from signage_core.timefmt import format_time

from ..access import Scope
from ..accounts import token_hash
from ..deps import State
from ..models import Site, descendants
from ..routers.fleet import _health_map, _out
from ..state import ServerState
from .i18n import N_
from .web import NAV, SESSION_COOKIE, NavItem, SessionScope, render, router

NAV.append(NavItem("/admin/fleet", N_("Fleet")))
STATE_ORDER = {"offline": 0, "stale": 1, "unknown": 2, "online": 3, "revoked": 4}
STATE_LABELS = {
    "online": N_("online"),
    "stale": N_("stale"),
    "offline": N_("offline"),
    "unknown": N_("never seen"),
    "revoked": N_("revoked"),
}
STREAM_S = 25.0
TICK_S = 1.0


def site_name(site: Site, lang: str) -> str:
    return site.name.get(lang) or site.name.get("vi") or next(iter(site.name.values()), site.id)


@dataclass(frozen=True)
class Row:
    """One screen as the fleet table shows it."""

    id: str
    name: str
    site_id: str
    state: str
    last_heartbeat_at: str | None
    playing: dict[str, Any] | None
    version_shown: int | None  # what the device says it plays
    version_published: int | None  # the newest the server signed for it
    cache_missing: int | None
    cache_bytes: int | None
    disk_free: int | None
    alerts_showing: tuple[str, ...]
    last_error: str | None


def fleet_rows(request: Request, state: ServerState, ids: set[str]) -> list[Row]:
    now = state.clock()
    health = _health_map(request, state)
    names = state.store.device_names()
    rows = []
    for d in state.store.devices(include_revoked=True):
        if d.site_id not in ids:
            continue
        out = _out(d, health.get(d.id), state, now)
        beat = out.health.heartbeat or {}
        cache = beat.get("cache") or {}
        sync = beat.get("sync") or {}
        rows.append(
            Row(
                id=d.id,
                name=names.get(d.id, ""),
                site_id=d.site_id,
                state="revoked" if d.revoked else out.health.state,  # listed last
                last_heartbeat_at=out.health.last_heartbeat_at,
                playing=beat.get("now_playing"),
                version_shown=beat.get("manifest_version"),
                version_published=out.manifest_version,
                cache_missing=cache.get("missing"),
                cache_bytes=cache.get("bytes"),
                disk_free=beat.get("disk_free_bytes"),
                alerts_showing=tuple((beat.get("alerts") or {}).get("showing") or ()),
                last_error=sync.get("last_error"),
            )
        )
    rows.sort(key=lambda r: (STATE_ORDER.get(r.state, 9), r.site_id, r.id))
    return rows


@dataclass(frozen=True)
class TreeNode:
    site: Site
    counts: dict[str, int]
    total: int
    children: list[TreeNode]


def site_tree(scope: Scope, rows: list[Row]) -> list[TreeNode]:
    """The user's sites as a tree, each with the screens below it counted by state."""

    def node(site: Site) -> TreeNode:
        below = descendants(site.id, scope.sites)
        mine = [r for r in rows if r.site_id in below]
        counts = {s: sum(r.state == s for r in mine) for s in STATE_ORDER}
        kids = [s for s in scope.sites.values() if s.parent_id == site.id and s.id in scope.ids]
        in_service = len(mine) - counts["revoked"]
        return TreeNode(site, counts, in_service, [node(k) for k in kids])

    roots = [s for s in scope.sites.values() if s.id in scope.ids and s.parent_id not in scope.ids]
    return [node(s) for s in roots]


def _visible(scope: Scope, site: str | None) -> set[str]:
    if site is None:
        return scope.ids
    scope.check_site(site)
    return scope.ids & descendants(site, scope.sites)


def _table_context(
    request: Request, state: ServerState, scope: Scope, site: str | None
) -> dict[str, Any]:
    rows = fleet_rows(request, state, _visible(scope, site))
    return {
        "rows": rows,
        "labels": STATE_LABELS,
        "sites": scope.sites,
        "site_name": site_name,
        "now": state.clock(),
    }


@router.get("/fleet")
def fleet_page(
    request: Request,
    scope: SessionScope,
    state: State,
    site: Annotated[str | None, Query(max_length=64)] = None,
) -> HTMLResponse:
    ctx = _table_context(request, state, scope, site)
    ctx.update(
        {
            "tree": site_tree(scope, fleet_rows(request, state, scope.ids)),
            "site": site,
            "can_edit": scope.user.role in ("admin", "editor"),
        }
    )
    return render(request, "fleet.html", ctx)


def _sse(event: str, html: str) -> bytes:
    data = "".join(f"data: {line}\n" for line in html.splitlines() or [""])
    return f"event: {event}\n{data}\n".encode()


@router.get("/fleet/events")
async def fleet_events(
    request: Request,
    scope: SessionScope,
    state: State,
    site: Annotated[str | None, Query(max_length=64)] = None,
) -> StreamingResponse:
    """The fleet table as server-sent events: once at once, then whenever it changes."""
    _visible(scope, site)  # 404 for a site outside the user's, before streaming
    token_h = token_hash(request.cookies.get(SESSION_COOKIE, ""))

    def table() -> str | None:
        if state.store.user_by_token(token_h, format_time(state.clock())) is None:
            return None  # signed out, disabled or expired: the stream ends
        ctx = _table_context(request, state, scope, site)
        page = render(request, "_fleet_table.html", ctx)
        return bytes(page.body).decode()

    async def stream() -> AsyncIterator[bytes]:
        yield b"retry: 1000\n\n"
        last = None
        loop = asyncio.get_running_loop()
        until = loop.time() + STREAM_S
        while loop.time() < until and not await request.is_disconnected():
            html = await anyio.to_thread.run_sync(table)
            if html is None:
                yield b"event: signed-out\ndata: \n\n"
                return
            if html != last:
                last = html
                yield _sse("fleet", html)
            await asyncio.sleep(TICK_S)

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"cache-control": "no-store", "x-accel-buffering": "no"},
    )
