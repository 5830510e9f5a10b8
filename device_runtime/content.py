"""What the device plays and how its sync is going: the values the apps read.

``Content`` is a verified manifest whose assets are all in the cache;
``SyncStatus`` is a snapshot of the sync worker for the screen and the
heartbeat. Both are immutable: the worker replaces them, readers never lock.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from signage_core.manifest import Manifest

# idle: nothing left to do; waiting: large media wait for the download window;
# disk_full: no room (disk or cache_quota_bytes), retried on the next pass.
SYNC_STATES = ("idle", "syncing", "waiting", "offline", "error", "disk_full")


@dataclass(frozen=True)
class Content:
    manifest: Manifest
    cache_dir: Path
    expired: bool = False
    # Re-hashes a file not yet checked by this process; False: missing or corrupt (deleted).
    verify: Callable[[str], bool] = field(default=lambda _sha256: True, compare=False)

    def asset_path(self, sha256: str) -> Path:
        """The verified cached file of an asset this manifest lists (KeyError otherwise).

        A file is hashed before it is first handed out, so nothing that rotted on disk
        is ever shown; a corrupt one is deleted and fetched again by the sync.
        """
        if sha256 not in self.manifest.assets:
            raise KeyError(f"asset {sha256[:12]} is not part of manifest {self.manifest.version}")
        if not self.verify(sha256):
            raise KeyError(f"asset {sha256[:12]} is missing or corrupt; it will be fetched again")
        return self.cache_dir / sha256

    def has_asset(self, sha256: str) -> bool:
        """Whether the file is there now (a file found corrupt on start is fetched again)."""
        return sha256 in self.manifest.assets and (self.cache_dir / sha256).is_file()


@dataclass(frozen=True)
class SyncStatus:
    state: str = "idle"  # one of SYNC_STATES
    last_ok: datetime | None = None  # end of the last pass that left nothing to do
    last_error: str | None = None  # what went wrong last, for a border guard to read
    offline_since: datetime | None = None  # first failed attempt to reach the server
    refused_reason: str | None = None  # reason code of the last refused manifest
    bytes_done: int = 0
    bytes_total: int = 0
    files_done: int = 0
    files_total: int = 0
    files_failed: int = 0  # assets of this pass that failed (retried on the next pass)
    deferred_files: int = 0  # large assets waiting for the download window
    deferred_bytes: int = 0
    corrupt_found: int = 0  # cached files found corrupt (deleted, fetched again) since start
    last_corrupt: str | None = None  # sha256 of the last one, for the report
    clock_skew_s: int | None = None  # device clock minus the server's Date
