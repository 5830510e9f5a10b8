"""Editing playlists through the API: check a draft, publish it, roll back to a revision.

A border guard's edits change a DRAFT (``Store.put_draft``); devices play only
what is LIVE (the ``playlists`` table, which the YAML importer also writes).
``publish_playlist`` refuses a draft that lacks a language its site requires
or has a character the device fonts cannot draw, naming every item; otherwise
it copies the draft to live, records a numbered revision and signs a new
manifest version for each device of the site and the sites below it.
``rollback`` puts an earlier revision back the same way: the old content,
signed again with a NEW higher version, since devices refuse lower ones.

Request shapes are ``schemas_admin``'s; keeping the in-memory manifests fresh
is done here through ``ServerState.remember``.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from signage_core import languages
from signage_core.errors import LanguageError, ScheduleError
from signage_core.schedule import Schedule
from signage_core.timefmt import format_time

from .assets import IMAGE_TYPES, VIDEO_TYPES
from .errors import InvalidInputError, PublishRefusedError
from .fonts import cannot_draw, coverage
from .models import Playlist, Site, descendants, effective_languages, effective_required
from .publishing import publish
from .schemas_admin import PlaylistBody
from .state import ServerState
from .store import GroupStore


@dataclass(frozen=True)
class Published:
    revision: int
    version: int | None
    devices: list[str]


def check_language(code: str, where: str) -> None:
    try:
        languages.get(code)
    except LanguageError as e:
        raise InvalidInputError(f"{where}: {e}") from e


def check_drawable(text: str, where: str, state: ServerState) -> None:
    """Refuse ``text`` (422) if it has characters the device fonts cannot draw."""
    missing = coverage(state.settings.fonts_dir).missing(text)
    if missing:
        raise InvalidInputError(cannot_draw(where, missing))


def draft_from(
    playlist_id: str, body: PlaylistBody, state: ServerState, asset_scope: Collection[str] | None
) -> Playlist:
    """The playlist the body describes, checked; ``InvalidInputError`` names what is wrong.

    ``asset_scope``: sites whose uploads the items may use (None: any stored asset).
    """
    for code in body.name:
        check_language(code, "name")
    try:
        schedule = Schedule.from_dict(
            None
            if body.schedule is None
            else body.schedule.model_dump(mode="json", exclude_none=True)
        ).to_dict()
    except ScheduleError as e:
        raise InvalidInputError(f"schedule: {e}") from e
    items: list[dict[str, Any]] = []
    seen: set[str] = set()
    for item in body.items:
        if item.id in seen:
            raise InvalidInputError(f"item id {item.id!r} is used twice in this playlist")
        seen.add(item.id)
        variants: dict[str, dict[str, str]] = {}
        for code, v in item.variants.items():
            where = f"item {item.id}, {code}"
            check_language(code, f"item {item.id}")
            given = v.model_dump(exclude_none=True)
            if item.kind == "text":
                if "asset" in given or "caption" in given or not (v.title or v.body):
                    raise InvalidInputError(
                        f"{where}: a text item has a title and/or a body, and no asset or caption"
                    )
                variants[code] = {"title": v.title or "", "body": v.body or ""}
            else:
                if v.asset is None or "title" in given or "body" in given:
                    raise InvalidInputError(
                        f"{where}: an {item.kind} item has an asset (sha256 of an upload) "
                        "and an optional caption"
                    )
                check_asset(v.asset, item.kind, where, state, asset_scope)
                variants[code] = {"asset": v.asset, **({"caption": v.caption} if v.caption else {})}
        items.append(
            {"id": item.id, "kind": item.kind, "duration_s": item.duration_s, "variants": variants}
        )
    return Playlist(
        id=playlist_id,
        site_id=body.site_id,
        name=dict(body.name),
        priority=body.priority,
        fallback=body.fallback,
        schedule=schedule or None,
        items=items,
        updated_at=format_time(state.clock()),
        groups=_checked_groups(body.site_id, body.groups, state),
        bilingual=body.bilingual,
    )


def _checked_groups(site_id: str, wanted: list[str], state: ServerState) -> list[str]:
    """The groups, if each exists at the playlist's site or below it (so a user who may
    edit the playlist manages them too)."""
    if len(set(wanted)) != len(wanted):
        raise InvalidInputError("groups: a group is listed twice")
    groups = {g.id: g for g in GroupStore(state.store).groups()}
    below = descendants(site_id, state.store.sites())
    for gid in wanted:
        if gid not in groups or groups[gid].site_id not in below:
            raise InvalidInputError(
                f"groups: there is no device group {gid!r} at site {site_id} or below it; "
                "create it first (POST /api/v1/groups)"
            )
    return list(wanted)


def check_asset(
    sha: str, kind: str, where: str, state: ServerState, asset_scope: Collection[str] | None
) -> None:
    asset = state.store.asset(sha)
    owned = asset_scope is None or bool(set(state.store.asset_owners(sha)) & set(asset_scope))
    if asset is None or not owned:
        raise InvalidInputError(
            f"{where}: asset {sha[:12]}… does not exist at the sites you manage; upload the "
            "file first (POST /api/v1/assets) and use the sha256 it answers"
        )
    expected = IMAGE_TYPES if kind == "image" else VIDEO_TYPES
    if asset.media_type not in expected:
        raise InvalidInputError(f"{where}: asset {sha[:12]}… is {asset.media_type}, not an {kind}")


def _texts(variant: Mapping[str, Any]) -> list[str]:
    return [variant[k] for k in ("title", "body", "caption") if variant.get(k)]


@dataclass(frozen=True)
class Finding:
    """One thing to fix before (or consider before) publishing, for one item and language.

    ``problem``: ``missing-required`` (publishing is refused), ``missing-shown`` (screens
    fall back to another language) or ``undrawable`` (refused; ``chars`` lists them)."""

    item_id: str
    language: str
    problem: str
    chars: tuple[str, ...] = ()

    @property
    def blocking(self) -> bool:
        return self.problem != "missing-shown"


def translation_findings(p: Playlist, sites: Mapping[str, Site]) -> list[Finding]:
    """Items lacking a language their site requires, or one its screens show."""
    required = effective_required(p.site_id, sites)
    shown = [c for c in effective_languages(p.site_id, sites) if c not in required]
    out = []
    for item in p.items:
        if item["kind"] != "text" and not any("caption" in v for v in item["variants"].values()):
            continue  # a picture without words needs no translation
        for code in languages.missing(item["variants"], tuple(required)):
            out.append(Finding(item["id"], code, "missing-required"))
        for code in languages.missing(item["variants"], tuple(shown)):
            out.append(Finding(item["id"], code, "missing-shown"))
    return out


def glyph_findings(p: Playlist, state: ServerState) -> list[Finding]:
    """Characters the device fonts cannot draw, per item and language."""
    fonts = coverage(state.settings.fonts_dir)
    out = []
    for item in p.items:
        for code, variant in item["variants"].items():
            missing: dict[str, None] = {}
            for text in _texts(variant):
                missing.update(dict.fromkeys(fonts.missing(text)))
            if missing:
                out.append(Finding(item["id"], code, "undrawable", tuple(missing)))
    return out


def check_draft(p: Playlist, state: ServerState) -> list[Finding]:
    """Everything publishing would refuse or warn about, in item order."""
    order = {item["id"]: i for i, item in enumerate(p.items)}
    found = translation_findings(p, state.store.sites()) + glyph_findings(p, state)
    return sorted(found, key=lambda f: (order.get(f.item_id, 0), f.language, f.problem))


def translation_report(p: Playlist, sites: Mapping[str, Site]) -> tuple[list[str], list[str]]:
    """``(blocking, warnings)``: items lacking a required language, or a shown one."""
    blocking: dict[str, list[str]] = {}
    shown: dict[str, list[str]] = {}
    for f in translation_findings(p, sites):
        (blocking if f.blocking else shown).setdefault(f.item_id, []).append(f.language)
    return (
        [
            f"item {i} lacks {', '.join(codes)} (required at site {p.site_id})"
            for i, codes in blocking.items()
        ],
        [f"item {i} lacks {', '.join(c)}; screens will show a fallback" for i, c in shown.items()],
    )


def glyph_problems(p: Playlist, state: ServerState) -> list[str]:
    return [
        cannot_draw(f"item {f.item_id}, {f.language}", f.chars) for f in glyph_findings(p, state)
    ]


def warnings_for(p: Playlist, sites: Mapping[str, Site]) -> list[str]:
    blocking, optional = translation_report(p, sites)
    return [f"{b}: publishing is refused until it is added" for b in blocking] + optional


def _go_live(
    state: ServerState, p: Playlist, user: str, address: str, note: str, old_site: str | None
) -> Published:
    now = state.clock()
    ts = format_time(now)
    live = replace(p, updated_at=ts)
    store = state.store
    with store.transaction():
        sites = store.sites()
        affected = descendants(p.site_id, sites)
        if old_site is not None:
            affected |= descendants(old_site, sites)
        device_ids = [d.id for d in store.devices() if d.site_id in affected]
        store.put_playlist(live)
        store.put_draft(live, user)
        revision = store.add_revision(live, ts, user, note)
        result = publish(
            store,
            state.keys,
            now,
            timedelta(days=state.settings.manifest_ttl_days),
            user=user,
            address=address,
            reason=f"{note}: playlist {p.id} revision {revision}",
            device_ids=device_ids,
        )
        store.set_revision_version(p.id, revision, result.version)
        detail = {"revision": revision, "note": note, "version": result.version}
        store.audit(ts, user, note.split()[0], f"playlist {p.id}", address, detail)
    state.remember(result)
    return Published(revision, result.version, [m.device_id for m in result.manifests])


def publish_playlist(
    state: ServerState, draft: Playlist, live: Playlist | None, user: str, address: str
) -> Published:
    blocking, _ = translation_report(draft, state.store.sites())
    if blocking:
        raise PublishRefusedError(
            f"playlist {draft.id} was not published: " + "; ".join(blocking), blocking
        )
    glyphs = glyph_problems(draft, state)
    if glyphs:
        raise PublishRefusedError(
            f"playlist {draft.id} was not published: " + "; ".join(glyphs), glyphs
        )
    return _go_live(state, draft, user, address, "publish", live.site_id if live else None)


def rollback(
    state: ServerState,
    playlist_id: str,
    revision: int,
    scope: Collection[str],
    user: str,
    address: str,
    live: Playlist | None,
) -> Published:
    found = next((r for r in state.store.revisions(playlist_id) if r.revision == revision), None)
    if found is None or found.body["site_id"] not in scope:
        raise InvalidInputError(
            f"playlist {playlist_id} has no published revision {revision}; "
            f"GET /api/v1/playlists/{playlist_id}/revisions lists them"
        )
    old = Playlist(id=playlist_id, updated_at="", **found.body)
    return _go_live(
        state,
        old,
        user,
        address,
        f"rollback to revision {revision}",
        live.site_id if live else None,
    )
