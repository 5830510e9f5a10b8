"""Records the store reads and writes: plain frozen dataclasses, no behaviour beyond lookups.

JSON columns come back decoded. Language-keyed texts (``name``) are dicts
``{language code: text}``. Playlist items are kept in manifest form (see
``signage_core.manifest``): ``{"id", "kind", "duration_s", "variants": {lang: {...}}}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from signage_core.languages import DEFAULT_REQUIRED

ROLES = ("admin", "editor", "viewer")


@dataclass(frozen=True)
class Site:
    id: str
    parent_id: str | None
    name: dict[str, str]
    languages: list[str] | None  # None: inherited from the parent
    required_languages: list[str] | None  # None: inherited, finally vi + lo
    manifest_ttl_days: int | None = None  # None: inherited, finally the server's setting


@dataclass(frozen=True)
class Device:
    id: str
    site_id: str
    token_hash: str
    mqtt_password_hash: str  # Mosquitto's $7$ form; the password itself is only in the config
    created_at: str
    revoked: bool


@dataclass(frozen=True)
class User:
    username: str
    password_hash: str
    role: str
    site_id: str | None  # None: every site
    disabled: bool = False


@dataclass(frozen=True)
class Asset:
    sha256: str
    size: int
    media_type: str
    original_name: str
    created_at: str


@dataclass(frozen=True)
class Playlist:
    id: str
    site_id: str
    name: dict[str, str]
    priority: int
    fallback: bool
    schedule: dict[str, Any] | None
    items: list[dict[str, Any]]
    updated_at: str
    groups: list[str] = field(default_factory=list)  # empty: every device of the site tree
    bilingual: str = "sequential"  # or "side_by_side": two languages on one screen

    def content(self) -> dict[str, Any]:
        """What an import compares to decide whether the playlist changed."""
        return {
            "site_id": self.site_id,
            "name": self.name,
            "priority": self.priority,
            "fallback": self.fallback,
            "schedule": self.schedule,
            "items": self.items,
            "groups": self.groups,
            "bilingual": self.bilingual,
        }


def site_chain(site_id: str, sites: Mapping[str, Site]) -> list[Site]:
    """The site and its ancestors, nearest first (a cycle is cut where it repeats)."""
    chain: list[Site] = []
    seen: set[str] = set()
    current: str | None = site_id
    while current is not None and current in sites and current not in seen:
        seen.add(current)
        chain.append(sites[current])
        current = sites[current].parent_id
    return chain


def effective_languages(site_id: str, sites: Mapping[str, Site]) -> list[str]:
    for site in site_chain(site_id, sites):
        if site.languages:
            return list(site.languages)
    return list(DEFAULT_REQUIRED)


def effective_required(site_id: str, sites: Mapping[str, Site]) -> list[str]:
    for site in site_chain(site_id, sites):
        if site.required_languages is not None:
            return list(site.required_languages)
    return list(DEFAULT_REQUIRED)


def descendants(site_id: str, sites: Mapping[str, Site]) -> set[str]:
    """The site and every site below it."""
    return {s for s in sites if any(a.id == site_id for a in site_chain(s, sites))}


# --- what the store returns besides the records above ---------------------------


@dataclass(frozen=True)
class AuditRecord:
    id: int
    ts: str
    user: str
    action: str
    target: str
    address: str  # where the request came from; "local" for the CLI
    detail: dict[str, Any]


@dataclass(frozen=True)
class Revision:
    """Published content of a playlist, as it went out."""

    playlist_id: str
    revision: int  # 1, 2, ... per playlist
    body: dict[str, Any]  # Playlist.content()
    published_at: str
    published_by: str
    note: str
    version: int | None  # the manifest version it went out in


@dataclass(frozen=True)
class OwnedAsset:
    """An asset a site may use, with what the media checks found."""

    sha256: str
    site_id: str
    original_name: str
    created_at: str
    created_by: str
    size: int
    media_type: str
    width: int | None
    height: int | None
    duration_s: float | None  # videos only, like fps, frames and thumbnail
    fps: float | None
    frames: int | None
    thumbnail: str | None  # sha256 of a PNG asset


@dataclass(frozen=True)
class PlayCount:
    """Proof of play summed per device, playlist, item and language."""

    device_id: str
    playlist_id: str | None
    item_id: str | None
    language: str | None
    plays: int
    duration_ms: int


@dataclass(frozen=True)
class FeedbackRecord:
    """A traveller's feedback from a kiosk, as the device sent it."""

    id: str
    device_id: str
    ts: str
    received_at: str
    rating: int
    language: str
    page_id: str | None
    comment: str | None


@dataclass(frozen=True)
class FeedbackCount:
    """Feedback records per device, rating and language."""

    device_id: str
    rating: int
    language: str
    count: int


@dataclass(frozen=True)
class HealthRow:
    """What the server last heard from a device over MQTT (times as received)."""

    device_id: str
    session: int  # the newest MQTT session seen
    status_state: str | None  # "online" | "offline", as the device or its will said
    status_at: str | None
    heartbeat: dict[str, Any] | None  # the newest heartbeat as sent
    heartbeat_at: str | None
    interval_s: float | None  # the device's heartbeat interval


@dataclass(frozen=True)
class AlertRecord:
    """A signed alert document as stored; ``envelope`` is its canonical JSON."""

    id: str
    site_id: str
    version: int  # grows with every alert or cancel signed
    state: str  # "active" | "cancelled"
    severity: str
    issued_at: str
    expires_at: str
    created_by: str
    envelope: str


@dataclass(frozen=True)
class Screenshot:
    device_id: str
    taken_at: str
    file: str | None  # a name under DATA/screenshots; None: the device has no screen
    note: str


@dataclass(frozen=True)
class Group:
    """Devices a playlist may be given to instead of the whole site tree."""

    id: str
    site_id: str  # the scope: members are devices at this site or below
    name: str
    members: list[str]  # device ids
    updated_at: str


@dataclass(frozen=True)
class Page:
    """A kiosk page or category; ``variants`` is ``{lang: {title, body, image?}}``."""

    id: str
    site_id: str
    parent_id: str | None  # None: a top-level category
    kind: str  # "category" | "page"
    position: int
    variants: dict[str, dict[str, Any]]
    updated_at: str

    def manifest_form(self) -> dict[str, Any]:
        """The page as a manifest's ``pages`` lists it."""
        return {
            "id": self.id,
            "site_id": self.site_id,
            "parent_id": self.parent_id,
            "kind": self.kind,
            "position": self.position,
            "variants": self.variants,
        }


@dataclass(frozen=True)
class Relay:
    """A gate relay's bridge account on the city broker (``content-server relay-config``)."""

    site_id: str  # the gate it serves, with its whole subtree
    username: str  # relay-<site>
    password_hash: str  # Mosquitto's $7$ form; the password is in the relay's config only
    updated_at: str


@dataclass(frozen=True)
class DailyPlays:
    """Proof of play of one item on one device on one local day."""

    device_id: str
    playlist_id: str | None
    item_id: str | None
    day: str  # local date (Asia/Ho_Chi_Minh)
    plays: int
    duration_ms: int


@dataclass(frozen=True)
class SiteLayout:
    """A site's own screen layout (``signage_core.layout``); sites below inherit it."""

    site_id: str
    orientation: str  # "landscape" | "portrait"
    header: bool
    ticker: bool
    title: dict[str, str]  # {}: the device's site name
    updated_at: str


@dataclass(frozen=True)
class TickerNotice:
    """A short notice for the ticker of the site and every site below it."""

    id: str
    site_id: str
    position: int
    texts: dict[str, str]
    until: str | None  # signage_core.timefmt; None: until deleted
    updated_at: str
