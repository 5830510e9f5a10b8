"""What a device must download and may delete to play a manifest: a pure planner.

``plan(cached, manifest, keep)`` compares the hashes in the local cache with
the assets a manifest needs. It never deletes an asset the new manifest or the
``keep`` set (the last good manifest, still playing) needs, so a screen never
loses a file it may show next. Downloads come smallest first: on a link that
drops, many small files finished beat one large file half done.

Fetching, hashing and deleting files is the device runtime's job.
"""

from __future__ import annotations

from collections.abc import Set
from dataclasses import dataclass

from .manifest import Manifest


@dataclass(frozen=True)
class Plan:
    downloads: tuple[str, ...]  # sha256 of assets to fetch, smallest first
    deletes: frozenset[str]  # cached, needed by neither the manifest nor ``keep``
    keeps: frozenset[str]  # cached and still needed
    download_bytes: int = 0  # declared size of everything in ``downloads``

    @property
    def complete(self) -> bool:
        """True when every asset the manifest needs is already cached."""
        return not self.downloads


def plan(cached: Set[str], manifest: Manifest, keep: Set[str] = frozenset()) -> Plan:
    """Compare the cache with what ``manifest`` (and ``keep``) need."""
    needed = manifest.asset_hashes()
    missing = needed - set(cached)

    def size(sha: str) -> int:
        return int(manifest.assets[sha]["size"])

    downloads = tuple(sorted(missing, key=lambda sha: (size(sha), sha)))
    wanted = needed | set(keep)
    return Plan(
        downloads=downloads,
        deletes=frozenset(set(cached) - wanted),
        keeps=frozenset(set(cached) & wanted),
        download_bytes=sum(size(sha) for sha in downloads),
    )
