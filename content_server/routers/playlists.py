"""``/api/v1/playlists``: playlists of the sites a user manages; drafts, publish, roll back.

``GET …/{id}/check`` (the saved draft) and ``POST …/check`` (content not saved
yet) answer what publishing would refuse or warn about, per item and
language, with the same rules ``publish`` applies (``drafts.check_draft``).

Reading needs any role; writing needs ``editor`` or ``admin``. Each write
changes the draft only; ``POST …/publish`` makes it live and signs manifests,
``POST …/rollback`` puts an earlier published revision back (as a new
revision and a new, higher manifest version). Every write is audited.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request

from ..access import Audit, EditorUser, ScopedPlaylist, UserScope, client_address
from ..deps import State
from ..drafts import Finding, check_draft, draft_from, publish_playlist, rollback, warnings_for
from ..fonts import cannot_draw, describe
from ..models import Playlist, Site
from ..schemas_admin import (
    CheckFindingOut,
    CheckOut,
    PlaylistBody,
    PlaylistContent,
    PlaylistIn,
    PlaylistOut,
    PublishOut,
    RevisionOut,
    RollbackIn,
)

router = APIRouter(prefix="/playlists", tags=["playlists"])
SortKey = Literal["id", "site_id", "priority", "updated_at"]


def _content(p: Playlist) -> PlaylistContent:
    return PlaylistContent(**p.content())


def playlist_out(draft: Playlist, live: Playlist | None, sites: dict[str, Site]) -> PlaylistOut:
    return PlaylistOut(
        id=draft.id,
        site_id=draft.site_id,
        draft=_content(draft),
        live=None if live is None else _content(live),
        unpublished_changes=live is None or live.content() != draft.content(),
        updated_at=draft.updated_at,
        warnings=warnings_for(draft, sites),
    )


@router.get("", summary="Playlists of the sites you manage")
def list_playlists(
    scope: UserScope,
    state: State,
    sort: Annotated[SortKey, Query(description="Field to sort by.")] = "id",
    site_id: Annotated[str | None, Query(max_length=64)] = None,
) -> list[PlaylistOut]:
    live = {p.id: p for p in state.store.playlists()}
    drafts = {**live, **{p.id: p for p in state.store.drafts()}}
    out = [
        playlist_out(d, live.get(d.id), scope.sites)
        for d in drafts.values()
        if d.site_id in scope.ids and (site_id is None or d.site_id == site_id)
    ]
    key = {"id": lambda p: p.id, "site_id": lambda p: (p.site_id, p.id),
           "priority": lambda p: (-p.draft.priority, p.id),
           "updated_at": lambda p: (p.updated_at, p.id)}[sort]  # fmt: skip
    return sorted(out, key=key)


@router.post("", status_code=201, summary="Create a playlist (a draft; publish it to play it)")
def create_playlist(
    body: PlaylistIn, user: EditorUser, scope: UserScope, state: State, audit: Audit
) -> PlaylistOut:
    scope.check_site(body.site_id)
    held = [p for p in (state.store.playlist(body.id), state.store.draft(body.id)) if p]
    # a playlist moved between sites has two: the one outside the user's sites decides
    owner = min((p.site_id for p in held), key=lambda s: s in scope.ids, default=None)
    scope.check_new_id(body.id, "playlist", owner, bool(held))
    draft = draft_from(body.id, body, state, _asset_scope(scope))
    state.store.put_draft(draft, user.username)
    audit("create playlist", f"playlist {body.id}", {"site_id": body.site_id})
    return playlist_out(draft, None, scope.sites)


def _asset_scope(scope: UserScope) -> set[str] | None:
    return None if scope.user.site_id is None else scope.ids


def _check_out(findings: list[Finding], site_id: str) -> CheckOut:
    def message(f: Finding) -> str:
        if f.problem == "missing-required":
            return f"item {f.item_id} lacks {f.language} (required at site {site_id})"
        if f.problem == "missing-shown":
            return f"item {f.item_id} lacks {f.language}; screens will show a fallback"
        return cannot_draw(f"item {f.item_id}, {f.language}", f.chars)

    return CheckOut(
        publishable=not any(f.blocking for f in findings),
        findings=[
            CheckFindingOut(
                item_id=f.item_id, language=f.language, problem=f.problem,  # type: ignore[arg-type]
                chars=[describe(c) for c in f.chars], blocking=f.blocking, message=message(f),
            )
            for f in findings
        ],
    )  # fmt: skip


@router.post("/check", summary="Check content before saving: what publishing would refuse")
def check_unsaved(body: PlaylistIn, scope: UserScope, state: State) -> CheckOut:
    scope.check_site(body.site_id)
    draft = draft_from(body.id, body, state, _asset_scope(scope))
    return _check_out(check_draft(draft, state), body.site_id)


@router.get("/{playlist_id}/check", summary="Check the draft: what publishing would refuse")
def check_saved(record: ScopedPlaylist, state: State) -> CheckOut:
    return _check_out(check_draft(record.draft, state), record.draft.site_id)


@router.get("/{playlist_id}", summary="A playlist: its draft and what is live")
def get_playlist(record: ScopedPlaylist, scope: UserScope) -> PlaylistOut:
    return playlist_out(record.draft, record.live, scope.sites)


@router.put("/{playlist_id}", summary="Replace the playlist's draft")
def put_playlist(
    record: ScopedPlaylist,
    body: PlaylistBody,
    user: EditorUser,
    scope: UserScope,
    state: State,
    audit: Audit,
) -> PlaylistOut:
    scope.check_site(body.site_id)
    draft = draft_from(record.id, body, state, _asset_scope(scope))
    state.store.put_draft(draft, user.username)
    audit("edit playlist", f"playlist {record.id}", {"site_id": body.site_id})
    return playlist_out(draft, record.live, scope.sites)


@router.post(
    "/{playlist_id}/publish",
    summary="Publish the draft: sign a new manifest for every device that plays it",
    responses={422: {"description": "Missing required languages or undrawable characters"}},
)
def post_publish(
    record: ScopedPlaylist, user: EditorUser, scope: UserScope, state: State, request: Request
) -> PublishOut:
    done = publish_playlist(
        state, record.draft, record.live, user.username, client_address(request)
    )
    return PublishOut(
        playlist_id=record.id,
        revision=done.revision,
        version=done.version,
        devices=done.devices,
        warnings=warnings_for(record.draft, scope.sites),
    )


@router.get("/{playlist_id}/revisions", summary="Published revisions, oldest first")
def get_revisions(record: ScopedPlaylist, state: State) -> list[RevisionOut]:
    return [RevisionOut(**asdict(r)) for r in state.store.revisions(record.id)]


@router.post(
    "/{playlist_id}/rollback",
    summary="Publish an earlier revision again (signed with a new, higher version)",
)
def post_rollback(
    record: ScopedPlaylist,
    body: RollbackIn,
    user: EditorUser,
    scope: UserScope,
    state: State,
    request: Request,
) -> PublishOut:
    done = rollback(
        state, record.id, body.revision, scope.ids, user.username, client_address(request),
        record.live,
    )  # fmt: skip
    return PublishOut(
        playlist_id=record.id,
        revision=done.revision,
        version=done.version,
        devices=done.devices,
        warnings=[],
    )
