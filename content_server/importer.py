"""``content-server import DIR``: sites, playlists, kiosk pages, screen layouts and ticker
notices from YAML (docs/playlist-format.md).

Two steps. ``check_folder`` reads every ``*.yaml`` under the folder and checks
every rule, writing nothing; if anything is wrong it raises
``ImportFailedError`` with every problem as ``path:line: reason``. ``apply``
stores the media files (content-addressed, so an interrupted import leaves
only unreferenced files) and then, in one transaction, upserts sites, assets,
playlists, kiosk pages, layouts and notices, touching only rows whose content
changed: importing the same folder twice changes nothing. Publishing afterwards is the caller's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any

from signage_core import languages
from signage_core.timefmt import format_time

from .assets import AssetStore
from .errors import ContentServerError, ImportFailedError, InvalidInputError
from .import_rules import (
    CheckedLayout,
    CheckedPage,
    FileRules,
    MediaRef,
    PlaylistDraft,
    layout_rules,
)
from .media import DecodeLimits
from .models import (
    Asset,
    Playlist,
    Site,
    SiteLayout,
    TickerNotice,
    descendants,
    effective_required,
    site_chain,
)
from .store import GroupStore, LayoutStore, Store
from .yamlsource import Problems, Y, load

Localised = list[tuple[dict[str, Any], Y]]  # items, each with its texts' node


@dataclass
class ImportPlan:
    sites: list[Site] = field(default_factory=list)  # parents before children
    playlists: list[PlaylistDraft] = field(default_factory=list)
    pages: list[dict[str, Any]] = field(default_factory=list)  # store form, images as MediaRef
    media: dict[Path, MediaRef] = field(default_factory=dict)
    layouts: list[dict[str, Any]] = field(default_factory=list)  # {site_id, orientation, ...}
    notices: list[dict[str, Any]] = field(default_factory=list)  # {id, site_id, position, ...}


@dataclass(frozen=True)
class ImportSummary:
    sites_new: int
    sites_changed: int
    sites_unchanged: int
    playlists_new: int
    playlists_changed: int
    playlists_unchanged: int
    assets: int
    assets_new: int
    pages_new: int = 0
    pages_changed: int = 0
    pages_unchanged: int = 0
    layouts_new: int = 0
    layouts_changed: int = 0
    layouts_unchanged: int = 0
    notices_new: int = 0
    notices_changed: int = 0
    notices_unchanged: int = 0

    def lines(self) -> list[str]:
        return [
            f"sites: {self.sites_new} new, {self.sites_changed} changed, "
            f"{self.sites_unchanged} unchanged",
            f"playlists: {self.playlists_new} new, {self.playlists_changed} changed, "
            f"{self.playlists_unchanged} unchanged",
            f"kiosk pages: {self.pages_new} new, {self.pages_changed} changed, "
            f"{self.pages_unchanged} unchanged",
            f"screen layouts: {self.layouts_new} new, {self.layouts_changed} changed, "
            f"{self.layouts_unchanged} unchanged",
            f"ticker notices: {self.notices_new} new, {self.notices_changed} changed, "
            f"{self.notices_unchanged} unchanged",
            f"media files: {self.assets} ({self.assets_new} new)",
        ]


def _yaml_files(folder: Path) -> list[Path]:
    files = [
        p
        for p in folder.rglob("*")
        if p.suffix in (".yaml", ".yml")
        and p.is_file()
        and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    ]
    return sorted(files, key=lambda p: p.relative_to(folder).as_posix())


def check_folder(
    folder: Path, store: Store, max_bytes: int, limits: DecodeLimits | None = None
) -> ImportPlan:
    """Check everything under ``folder``; the plan to apply, or ``ImportFailedError``."""
    if not folder.is_dir():
        raise InvalidInputError(f"{folder} is not a folder")
    root = folder.resolve()
    problems = Problems()
    files = _yaml_files(root)
    if not files:
        raise ImportFailedError([f"{folder}: no .yaml files found"])
    site_defs: dict[str, tuple[Site, Y, FileRules]] = {}
    playlist_defs: dict[str, tuple[PlaylistDraft, Y, FileRules, Localised]] = {}
    page_defs: dict[str, tuple[CheckedPage, FileRules]] = {}
    layout_defs: dict[str, tuple[CheckedLayout, FileRules]] = {}
    layout_sites: list[tuple[CheckedLayout, FileRules]] = []
    notice_defs: dict[str, tuple[dict[str, Any], Y, FileRules]] = {}
    for path in files:
        shown = str(folder / path.relative_to(root))
        doc = load(path, shown, problems)
        if doc is None:
            continue
        f = FileRules(shown, path.parent, root, problems, max_bytes, limits or DecodeLimits())
        if not isinstance(doc.value, dict) or len(doc.value) != 1:
            f.err(doc, "a file holds exactly one of 'sites:', 'playlist:', 'page:', "
                  "'layout:' or 'ticker:'")  # fmt: skip
            continue
        ((top, body),) = doc.value.items()
        if top == "sites":
            if not isinstance(body.value, list):
                f.err(body, "sites must be a list of sites")
                continue
            for entry in body.value:
                checked = f.site(entry)
                if checked is None:
                    continue
                site, node = checked
                if site.id in site_defs:
                    _, first, first_f = site_defs[site.id]
                    where = f"{first_f.shown}:{first.line}"
                    f.err(node, f"site '{site.id}' is defined twice (also {where})")
                    continue
                site_defs[site.id] = (site, node, f)
        elif top == "playlist":
            result = f.playlist(body)
            if result is None:
                continue
            draft, site_node, localised = result
            if draft.id in playlist_defs:
                _, first, first_f, _ = playlist_defs[draft.id]
                where = f"{first_f.shown}:{first.line}"
                f.err(body, f"playlist '{draft.id}' is defined twice (also {where})")
                continue
            playlist_defs[draft.id] = (draft, site_node, f, localised)
        elif top == "page":
            for checked_page in f.pages(body) or []:
                pid = checked_page.page["id"]
                if pid in page_defs:
                    first_page, first_f = page_defs[pid]
                    where = f"{first_f.shown}:{first_page.node.line}"
                    f.err(checked_page.node, f"page '{pid}' is defined twice (also {where})")
                    continue
                page_defs[pid] = (checked_page, f)
        elif top in ("layout", "ticker"):
            checked_layout = layout_rules(f, body, top)
            if checked_layout is None:
                continue
            if checked_layout.layout is not None:
                sid = checked_layout.site_id
                if sid in layout_defs:
                    first_layout, first_f = layout_defs[sid]
                    where = f"{first_f.shown}:{first_layout.site.line}"
                    f.err(body, f"site '{sid}' has two layouts (also {where})")
                    continue
                layout_defs[sid] = (checked_layout, f)
            for notice, node in checked_layout.notices:
                if notice["id"] in notice_defs:
                    _, first_node, first_f = notice_defs[notice["id"]]
                    where = f"{first_f.shown}:{first_node.line}"
                    f.err(node, f"notice '{notice['id']}' is defined twice (also {where})")
                    continue
                notice_defs[notice["id"]] = (notice, node, f)
            layout_sites.append((checked_layout, f))
        else:
            f.err(doc, f"unknown top-level key '{top}'; expected 'sites', 'playlist', 'page', "
                  "'layout' or 'ticker'")  # fmt: skip

    sites = {**store.sites(), **{s.id: s for s, _, _ in site_defs.values()}}
    for site, node, f in site_defs.values():
        if site.parent_id is not None and site.parent_id not in sites:
            f.err(node, f"site '{site.id}': parent '{site.parent_id}' does not exist")
        elif site.parent_id is not None and any(
            a.id == site.id for a in site_chain(site.parent_id, sites)
        ):
            f.err(node, f"site '{site.id}' would be its own ancestor")
    for draft, site_node, f, localised in playlist_defs.values():
        if draft.site_id not in sites:
            f.err(
                site_node,
                f"site '{draft.site_id}' does not exist (not in the database "
                "nor in a sites file of this import)",
            )
            continue
        required = effective_required(draft.site_id, sites)
        for item, node in localised:
            missing = languages.missing(node.value, tuple(required))
            if missing:
                f.err(
                    node,
                    f"item '{item['id']}' lacks {', '.join(missing)}, required for "
                    f"site '{draft.site_id}'",
                )
        _check_groups(draft, f, site_node, store, sites)
    _check_pages(page_defs, store, sites)
    for checked_layout, f in layout_sites:
        if checked_layout.site_id not in sites:
            f.err(checked_layout.site, f"site '{checked_layout.site_id}' does not exist (not in "
                  "the database nor in a sites file of this import)")  # fmt: skip
    if problems:
        raise ImportFailedError(problems.lines)

    plan = ImportPlan()
    depth = {s: len(site_chain(s, sites)) for s in site_defs}
    plan.sites = [site_defs[s][0] for s in sorted(site_defs, key=lambda s: (depth[s], s))]
    plan.playlists = [playlist_defs[p][0] for p in sorted(playlist_defs)]
    for draft in plan.playlists:
        for item in draft.items:
            for variant in item["variants"].values():
                if isinstance(variant.get("asset"), MediaRef):
                    plan.media[variant["asset"].path] = variant["asset"]
    plan.pages = [page_defs[p][0].page for p in sorted(page_defs)]
    plan.layouts = [{"site_id": s, **(layout_defs[s][0].layout or {})} for s in sorted(layout_defs)]
    plan.notices = [notice_defs[n][0] for n in sorted(notice_defs)]
    for page in plan.pages:
        for variant in page["variants"].values():
            if isinstance(variant.get("image"), MediaRef):
                plan.media[variant["image"].path] = variant["image"]
    return plan


def _check_groups(
    draft: PlaylistDraft, f: FileRules, site_node: Y, store: Store, sites: Mapping[str, Site]
) -> None:
    """Each group a playlist names exists, at the playlist's site or below it."""
    if not draft.groups:
        return
    groups = {g.id: g for g in GroupStore(store).groups()}
    below = descendants(draft.site_id, sites)
    for gid in draft.groups:
        group = groups.get(gid)
        if group is None:
            f.err(draft.groups_node or site_node, f"device group '{gid}' does not exist; "
                  "create it first (POST /api/v1/groups)")  # fmt: skip
        elif group.site_id not in below:
            f.err(draft.groups_node or site_node,
                  f"device group '{gid}' is at site '{group.site_id}', not at "
                  f"'{draft.site_id}' or below it")  # fmt: skip


def _check_pages(
    page_defs: Mapping[str, tuple[CheckedPage, FileRules]],
    store: Store,
    sites: Mapping[str, Site],
) -> None:
    """Sites exist, required languages are there, and pages already stored still fit."""
    for checked, f in page_defs.values():
        page = checked.page
        if page["site_id"] not in sites:
            if page["kind"] == "category":
                f.err(checked.site, f"site '{page['site_id']}' does not exist (not in the "
                      "database nor in a sites file of this import)")  # fmt: skip
            continue
        required = effective_required(page["site_id"], sites)
        missing = languages.missing(checked.text.value, tuple(required))
        if missing:
            f.err(checked.text, f"{page['kind']} '{page['id']}' lacks {', '.join(missing)}, "
                  f"required for site '{page['site_id']}'")  # fmt: skip
    for stored in store.pages():
        parent_id = stored.parent_id
        if stored.id in page_defs or parent_id is None or parent_id not in page_defs:
            continue
        parent, f = page_defs[parent_id]
        if parent.page["kind"] != "category" or parent.page["site_id"] != stored.site_id:
            f.err(parent.node, f"page '{stored.id}' (made in the admin pages) sits in "
                  f"'{parent.page['id']}', which must stay a category of site "
                  f"'{stored.site_id}'")  # fmt: skip


def _resolve_page(page: dict[str, Any], shas: Mapping[Path, str]) -> dict[str, Any]:
    variants = {
        lang: {**v, "image": shas[v["image"].path]} if isinstance(v.get("image"), MediaRef) else v
        for lang, v in page["variants"].items()
    }
    return {**page, "variants": variants}


def _resolve_items(items: list[dict[str, Any]], shas: Mapping[Path, str]) -> list[dict[str, Any]]:
    out = []
    for item in items:
        variants = {
            lang: {**v, "asset": shas[v["asset"].path]}
            if isinstance(v.get("asset"), MediaRef)
            else v
            for lang, v in item["variants"].items()
        }
        out.append({**item, "variants": variants})
    return out


def apply(
    plan: ImportPlan,
    store: Store,
    asset_store: AssetStore,
    now: datetime,
    *,
    user: str,
    address: str,
    max_bytes: int,
) -> ImportSummary:
    """Store the media, then sites, assets, playlists and pages in one transaction."""
    ts = format_time(now)
    stored: dict[Path, Asset] = {}
    for path, ref in plan.media.items():
        try:
            f = asset_store.put_file(path, max_bytes)
        except OSError as e:
            raise ContentServerError(f"could not store {ref.name}: {e.strerror or e}") from e
        stored[path] = Asset(f.sha256, f.size, f.media_type, PurePosixPath(ref.name).name, ts)
    shas = {path: asset.sha256 for path, asset in stored.items()}
    counts = dict.fromkeys(("sn", "sc", "su", "pn", "pc", "pu", "an", "gn", "gc", "gu"), 0)
    with store.transaction():
        old_sites = store.sites()
        for site in plan.sites:
            old = old_sites.get(site.id)
            if old == site:
                counts["su"] += 1
                continue
            counts["sn" if old is None else "sc"] += 1
            store.put_site(site, ts)
        for asset in stored.values():
            counts["an"] += store.add_asset(asset)
        old_playlists = {p.id: p for p in store.playlists()}
        for draft in plan.playlists:
            playlist = Playlist(
                draft.id,
                draft.site_id,
                draft.name,
                draft.priority,
                draft.fallback,
                draft.schedule,
                _resolve_items(draft.items, shas),
                ts,
                draft.groups,
                draft.bilingual,
            )
            old_p = old_playlists.get(draft.id)
            if old_p is not None and old_p.content() == playlist.content():
                counts["pu"] += 1
                continue
            counts["pn" if old_p is None else "pc"] += 1
            store.put_playlist(playlist)
        old_pages = {pg.id: pg.manifest_form() for pg in store.pages()}
        keys = ("site_id", "parent_id", "kind", "position", "variants")
        for page in (_resolve_page(pg, shas) for pg in plan.pages):
            old_pg = old_pages.get(page["id"])
            if old_pg is not None and all(old_pg[k] == page[k] for k in keys):
                counts["gu"] += 1
                continue
            counts["gn" if old_pg is None else "gc"] += 1
            store.put_page(page, ts)
        layout_counts = _apply_layouts(plan, LayoutStore(store), ts)
        summary = ImportSummary(
            counts["sn"], counts["sc"], counts["su"],
            counts["pn"], counts["pc"], counts["pu"],
            len({a.sha256 for a in stored.values()}), counts["an"],
            counts["gn"], counts["gc"], counts["gu"],
            *layout_counts,
        )  # fmt: skip
        store.audit(ts, user, "import", "playlists", address, {"summary": summary.lines()})
    return summary


def _apply_layouts(plan: ImportPlan, layouts: LayoutStore, ts: str) -> tuple[int, ...]:
    """Upsert the plan's layouts and notices (inside the import's transaction); counts of
    layouts new, changed, unchanged, then notices new, changed, unchanged."""
    counts = [0] * 6
    old_layouts = layouts.layouts()
    for entry in plan.layouts:
        layout = SiteLayout(
            entry["site_id"], entry["orientation"], entry["header"], entry["ticker"],
            entry["title"], ts,
        )  # fmt: skip
        old = old_layouts.get(layout.site_id)
        same = SiteLayout(**{**asdict(layout), "updated_at": old.updated_at}) if old else None
        if old is not None and old == same:
            counts[2] += 1
            continue
        counts[0 if old is None else 1] += 1
        layouts.put_layout(layout)
    old_notices = {n.id: n for n in layouts.notices()}
    for entry in plan.notices:
        notice = TickerNotice(
            entry["id"], entry["site_id"], entry["position"], entry["texts"], entry["until"], ts
        )
        old_n = old_notices.get(notice.id)
        if old_n is not None and old_n == TickerNotice(
            **{**asdict(notice), "updated_at": old_n.updated_at}
        ):
            counts[5] += 1
            continue
        counts[3 if old_n is None else 4] += 1
        layouts.put_notice(notice)
    return tuple(counts)
