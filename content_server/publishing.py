"""Publishing: building, signing and storing each device's manifest.

A device's manifest holds its site's languages (inherited from the nearest
ancestor that names them) and every playlist assigned to its site or to an
ancestor (one that names device groups: only if the device is a member of
one of them), in the exact shape ``signage_core.manifest.parse_manifest`` reads;
each one is checked with it before it is signed. One publish takes one new
version number (``Store.new_version``: global, strictly increasing, never
reused) for all the devices it signs for, and stores the canonical envelope
bytes, which the manifest route serves as they are.

Kiosk pages of the site and its ancestors go into ``pages`` (a flat list; the
tree is in ``parent_id``)::

    {"id": "adot-customs", "site_id": "adot", "parent_id": "adot-info" or null,
     "kind": "category" | "page", "position": 0,
     "variants": {"vi": {"title": ..., "body": ..., "image": "<sha256>"?}, ...}}

A screen layout (``signage_core.layout``) comes from the nearest site of the
device's chain that has one (none: no ``layout``, a full-screen card); its header
title is the layout's own or else the device's site name, and its ticker carries
the notices of the device's site and every ancestor (the nearest site's first),
without those already run out at the time of the publish.

A manifest expires after its site's ``manifest_ttl_days`` (the nearest
ancestor that sets it), else after the ``ttl`` given.

Every manifest is signed by each of ``keys`` and lists them in ``keys``
(``"<keyid>:<base64>"``, as devices write trusted keys): during a key rotation
that is the current and the next key, which teaches devices the next one
(``signage_core.trust.rotated_keys``); otherwise the current key alone, which
makes devices forget keys learned from an earlier rotation.

``now`` is always an argument. Keeping the in-memory copy of the newest
envelopes up to date is the caller's (``state.ServerState``).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from signage_core.canonical import canonical_json
from signage_core.errors import SignageError
from signage_core.manifest import SCHEMA, parse_manifest
from signage_core.schedule import DEFAULT_TIMEZONE
from signage_core.signing import SigningKey, sign_envelope
from signage_core.timefmt import format_time
from signage_core.trust import listed_keys

from .alerts import manifest_alerts
from .errors import ContentServerError
from .models import (
    Asset,
    Device,
    Group,
    Page,
    Playlist,
    Site,
    SiteLayout,
    TickerNotice,
    effective_languages,
    site_chain,
)
from .store import FleetStore, GroupStore, LayoutStore, Store

# Fields that change with every publish even when the content does not.
_VOLATILE = ("version", "issued_at", "expires_at")


@dataclass(frozen=True)
class PublishedManifest:
    device_id: str
    version: int
    envelope: bytes
    expires_at: str


@dataclass(frozen=True)
class PublishResult:
    version: int | None  # None: nothing was signed
    manifests: list[PublishedManifest] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


def playlists_for(
    site_id: str,
    sites: Mapping[str, Site],
    playlists: Sequence[Playlist],
    in_groups: Collection[str] = (),
) -> list[Playlist]:
    """Playlists assigned to the site or an ancestor: highest priority first, then by id.

    A playlist that names device groups goes only to their members: it is kept if
    one of ``in_groups`` (the groups the device is a member of) is among them.
    """
    chain = {s.id for s in site_chain(site_id, sites)}
    mine = (
        p
        for p in playlists
        if p.site_id in chain and (not p.groups or not set(p.groups).isdisjoint(in_groups))
    )
    return sorted(mine, key=lambda p: (-p.priority, p.id))


def asset_hashes(playlists: Sequence[Playlist], pages: Sequence[Page] = ()) -> set[str]:
    from_items = {
        v["asset"]
        for p in playlists
        for item in p.items
        for v in item["variants"].values()
        if "asset" in v
    }
    return from_items | {v["image"] for pg in pages for v in pg.variants.values() if v.get("image")}


def pages_for(site_id: str, sites: Mapping[str, Site], pages: Sequence[Page]) -> list[Page]:
    """Kiosk pages of the site and its ancestors."""
    chain = {s.id for s in site_chain(site_id, sites)}
    return [pg for pg in pages if pg.site_id in chain]


def layout_for(
    site_id: str,
    sites: Mapping[str, Site],
    layouts: Mapping[str, SiteLayout],
    notices: Sequence[TickerNotice],
    now: str,
) -> dict[str, Any] | None:
    """The manifest's ``layout`` for a device at ``site_id``, or None (no layout in its
    chain). ``now`` (a ``timefmt`` string) drops the notices already run out."""
    chain = site_chain(site_id, sites)
    own = next((layouts[s.id] for s in chain if s.id in layouts), None)
    if own is None:
        return None
    rank = {s.id: i for i, s in enumerate(chain)}
    mine = sorted(
        (n for n in notices if n.site_id in rank and (n.until is None or n.until > now)),
        key=lambda n: (rank[n.site_id], n.position, n.id),
    )
    return {
        "orientation": own.orientation,
        "header": own.header,
        "ticker": own.ticker,
        "title": dict(own.title or (sites[site_id].name if site_id in sites else {})),
        "notices": [{"id": n.id, "texts": n.texts, "until": n.until} for n in mine]
        if own.ticker
        else [],
    }


def site_ttl(site_id: str, sites: Mapping[str, Site], default: timedelta) -> timedelta:
    for site in site_chain(site_id, sites):
        if site.manifest_ttl_days is not None:
            return timedelta(days=site.manifest_ttl_days)
    return default


def manifest_content(
    device: Device,
    sites: Mapping[str, Site],
    playlists: Sequence[Playlist],
    assets: Mapping[str, Asset],
    pages: Sequence[Page] = (),
    groups: Sequence[Group] = (),
) -> dict[str, Any]:
    """The ``signed`` dict without version and times."""
    in_groups = {g.id for g in groups if device.id in g.members}
    mine = playlists_for(device.site_id, sites, playlists, in_groups)
    my_pages = pages_for(device.site_id, sites, pages)
    used: dict[str, dict[str, Any]] = {}
    for sha in sorted(asset_hashes(mine, my_pages)):
        asset = assets.get(sha)
        if asset is None:
            raise ContentServerError(
                f"device {device.id}: asset {sha[:12]} is used by a playlist but not stored; "
                "import the playlist folder again"
            )
        used[sha] = {"size": asset.size, "media_type": asset.media_type}
    return {
        "schema": SCHEMA,
        "device_id": device.id,
        "site_id": device.site_id,
        "timezone": DEFAULT_TIMEZONE,
        "languages": effective_languages(device.site_id, sites),
        "playlists": [
            {
                "id": p.id,
                "site_id": p.site_id,
                "name": p.name,
                "priority": p.priority,
                "fallback": p.fallback,
                "schedule": p.schedule,
                "items": p.items,
                # only when set: manifests of playlists that do not use it stay as they were
                **({"bilingual": p.bilingual} if p.bilingual != "sequential" else {}),
            }
            for p in mine
        ],
        "pages": [pg.manifest_form() for pg in my_pages],
        "alerts": [],
        "assets": used,
    }


def _without_volatile(signed: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in signed.items() if k not in _VOLATILE}


def publish(
    store: Store,
    keys: list[SigningKey],
    now: datetime,
    ttl: timedelta,
    *,
    user: str,
    address: str,
    reason: str,
    device_ids: Collection[str] | None = None,
    only_changed: bool = False,
) -> PublishResult:
    """Sign a new manifest for each device (all, or ``device_ids``) in one transaction.

    With ``only_changed``, a device whose content is the same as in its newest
    manifest is left alone (and listed in ``unchanged``).
    """
    issued_at = format_time(now)
    with store.transaction():
        sites = store.sites()
        playlists = store.playlists()
        pages = store.pages()
        groups = GroupStore(store).groups()
        assets = store.assets(asset_hashes(playlists, pages))
        latest = store.latest_manifest_versions()
        current_alerts = FleetStore(store).current_alerts()
        layout_store = LayoutStore(store)
        layouts, notices = layout_store.layouts(), layout_store.notices()
        drafts: list[dict[str, Any]] = []
        unchanged: list[str] = []
        for device in store.devices():
            if device_ids is not None and device.id not in device_ids:
                continue
            content = manifest_content(device, sites, playlists, assets, pages, groups)
            content.update(manifest_alerts(device.site_id, sites, current_alerts, issued_at))
            layout = layout_for(device.site_id, sites, layouts, notices, issued_at)
            if layout is not None:
                content["layout"] = layout
            content["keys"] = [k.public.spec() for k in keys]
            if only_changed and device.id in latest:
                old = store.manifest_envelope(device.id, latest[device.id][0])
                if old is not None and _without_volatile(json.loads(old)["signed"]) == content:
                    unchanged.append(device.id)
                    continue
            drafts.append(content)
        if not drafts:
            return PublishResult(None, [], unchanged)
        version = store.new_version(issued_at, user, reason)
        published = []
        for content in drafts:
            expires_at = format_time(now + site_ttl(content["site_id"], sites, ttl))
            signed = {
                **content,
                "version": version,
                "issued_at": issued_at,
                "expires_at": expires_at,
            }
            try:
                parse_manifest(signed)
                listed_keys(signed)
                envelope = canonical_json(sign_envelope(signed, keys))
            except SignageError as e:
                raise ContentServerError(
                    f"the manifest for device {content['device_id']} would be refused: {e}"
                ) from e
            store.add_manifest(content["device_id"], version, envelope, issued_at, expires_at)
            published.append(PublishedManifest(content["device_id"], version, envelope, expires_at))
        store.audit(
            issued_at,
            user,
            "publish",
            f"version {version}",
            address,
            {"reason": reason, "devices": [p.device_id for p in published]},
        )
    return PublishResult(version, published, unchanged)
