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
