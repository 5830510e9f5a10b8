"""What a device must download and may delete to play a manifest: a pure planner.

``plan(cached, manifest, keep, defer_over=None)`` compares the hashes in the
local cache with the assets a manifest needs. It never deletes an asset the new
manifest or the ``keep`` set (the last good manifest, still playing) needs, so a
screen never loses a file it may show next. Downloads come smallest first: on a
link that drops, many small files finished beat one large file half done.

Large media may wait for a download window (``in_window``, e.g. 22:00–05:00
local, when the link is free): with ``defer_over`` set, assets larger than it
go to ``deferred`` instead of ``downloads``. Manifests are small and always
fetched; that is the caller's business, as are fetching, hashing and deleting
files and reading the clock.
"""

from __future__ import annotations

import re
from collections.abc import Set
from dataclasses import dataclass
from datetime import datetime, time

from .manifest import Manifest

_WINDOW = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)\s*-\s*([01]\d|2[0-3]|24):([0-5]\d)$")


@dataclass(frozen=True)
class Plan:
    downloads: tuple[str, ...]  # sha256 of assets to fetch, smallest first
    deletes: frozenset[str]  # cached, needed by neither the manifest nor ``keep``
    keeps: frozenset[str]  # cached and still needed
    download_bytes: int = 0  # declared size of everything in ``downloads``
    deferred: tuple[str, ...] = ()  # missing, but larger than ``defer_over``: later
    deferred_bytes: int = 0

    @property
    def complete(self) -> bool:
        """True when every asset the manifest needs is already cached."""
        return not self.downloads and not self.deferred


def plan(
    cached: Set[str],
    manifest: Manifest,
    keep: Set[str] = frozenset(),
    defer_over: int | None = None,
) -> Plan:
    """Compare the cache with what ``manifest`` (and ``keep``) need.

    ``defer_over``: assets of more bytes than this are deferred (outside the
    download window); None fetches everything now.
    """
    needed = manifest.asset_hashes()
    missing = needed - set(cached)

    def size(sha: str) -> int:
        return int(manifest.assets[sha]["size"])

    ordered = sorted(missing, key=lambda sha: (size(sha), sha))
    downloads = tuple(s for s in ordered if defer_over is None or size(s) <= defer_over)
    deferred = tuple(s for s in ordered if s not in downloads)
    wanted = needed | set(keep)
    return Plan(
        downloads=downloads,
        deletes=frozenset(set(cached) - wanted),
        keeps=frozenset(set(cached) & wanted),
        download_bytes=sum(size(sha) for sha in downloads),
        deferred=deferred,
        deferred_bytes=sum(size(sha) for sha in deferred),
    )


@dataclass(frozen=True)
class DownloadWindow:
    """A daily local time window ``[start, end)``; an end before the start crosses midnight."""

    start: time
    end: time

    @classmethod
    def parse(cls, text: str) -> DownloadWindow:
        """Read ``"22:00-05:00"``; raise ``ValueError`` saying what is wrong."""
        m = _WINDOW.match(text.strip())
        if not m or (m.group(3) == "24" and m.group(4) != "00"):
            raise ValueError(f"expected a window like 22:00-05:00, got {text!r}")
        start = time(int(m.group(1)), int(m.group(2)))
        end = time(0, 0) if m.group(3) == "24" else time(int(m.group(3)), int(m.group(4)))
        if start == end:
            raise ValueError(f"the window {text!r} is empty: start and end are the same")
        return cls(start, end)

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


def in_window(window: DownloadWindow | None, local: datetime) -> bool:
    """Whether the local wall-clock time ``local`` is inside ``window`` (None: always)."""
    if window is None:
        return True
    t = local.time().replace(tzinfo=None)
    if window.start < window.end:
        return window.start <= t < window.end
    return t >= window.start or t < window.end
