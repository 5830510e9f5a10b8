"""One sync pass: fetch the manifest, trust it or not, fill the cache, switch.

    GET manifest (If-None-Match) ── 304 ──▶ repair missing files of the current one
        │ 200
        ▼
    accept_manifest (trusted time) ── refused ──▶ keep the last good one, report why
        │
        ▼
    download every missing asset, smallest first, each tried up to ``attempts``
    times with exponential backoff and jitter (one failing does not stop the
    others; a link that is down ends the pass; large media may wait for the
    download window while something plays)
        │ all verified in the cache            │ some failed, deferred, disk full
        ▼                                      ▼
    store as last good, switch, notify      keep playing the current one, retry next pass

Nothing partial plays: a new manifest becomes current only once every asset it
names is verified in the cache. An asset is deleted only when neither the
manifest playing nor the one being fetched needs it: the assets of the one
replaced go on the next pass, once the screen has switched. The loop, its
timing and its thread are ``runtime.py``'s.

A manifest that lists ``keys`` (a key rotation) teaches the device the keys
``signage_core.trust.rotated_keys`` allows, kept in ``state/keys.json``.
"""

from __future__ import annotations

import json
import logging
import random
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from signage_core.errors import RefusedError
from signage_core.manifest import Manifest
from signage_core.schedule import DEFAULT_TIMEZONE
from signage_core.sync import DownloadWindow, in_window, plan
from signage_core.trust import TrustContext, accept_manifest, rotated_keys

from .cache import AssetCache
from .clock import utc_now
from .content import Content, SyncStatus
from .errors import (
    CacheError,
    DeviceRuntimeError,
    DiskFullError,
    DownloadError,
    IntegrityError,
    StateError,
)
from .fetcher import Fetcher
from .state import TrustState

log = logging.getLogger(__name__)


def _retryable(e: DeviceRuntimeError) -> bool:
    """Worth another try in this pass: a cut link, a server error, bytes spoiled on the way."""
    if isinstance(e, DownloadError):
        return e.status is None or e.status >= 500 or e.status in (408, 429)
    return isinstance(e, IntegrityError)


def backoff_s(attempt: int, base_s: float, cap_s: float, rng: random.Random) -> float:
    """The wait before try ``attempt + 1``: doubling from ``base_s`` up to ``cap_s``,
    with "equal jitter" (half fixed, half random) so a fleet does not retry in step."""
    delay = min(cap_s, base_s * 2 ** max(attempt - 1, 0))
    return float(delay / 2 + rng.uniform(0, delay / 2))


class Syncer:
    def __init__(
        self,
        *,
        device_id: str,
        fetcher: Fetcher,
        cache: AssetCache,
        trust: TrustState,
        quota_bytes: int | None = None,
        download_window: DownloadWindow | None = None,
        large_asset_bytes: int = 20_000_000,
        attempts: int = 3,
        retry_base_s: float = 2.0,
        retry_cap_s: float = 60.0,
        clock: Callable[[], datetime] = utc_now,
        sleep: Callable[[float], object] = time.sleep,
        on_new: Callable[[Content], None] = lambda c: None,
        should_stop: Callable[[], bool] = lambda: False,
    ) -> None:
        self.device_id = device_id
        self.fetcher = fetcher
        self.cache = cache
        self.trust = trust
        self.quota_bytes = quota_bytes
        self.download_window = download_window
        self.large_asset_bytes = large_asset_bytes
        self.attempts = max(1, attempts)
        self.retry_base_s = retry_base_s
        self.retry_cap_s = retry_cap_s
        self.clock = clock
        self.sleep = sleep
        self.on_new = on_new
        self.should_stop = should_stop
        self.current: Content | None = None
        self.newest: Manifest | None = None  # the newest accepted, complete or not
        self._status = SyncStatus()
        self._lock = threading.Lock()
        self._rng = random.Random()

    # -- status, read from any thread --------------------------------------------------

    @property
    def status(self) -> SyncStatus:
        with self._lock:
            return self._status

    def _update(self, **changes: object) -> None:
        with self._lock:
            self._status = replace(self._status, **changes)  # type: ignore[arg-type]

    # -- start ---------------------------------------------------------------------------

    def load(self) -> Content | None:
        """Make the last good manifest on disk current, without network; quick, no hashing."""
        loaded = self.trust.load(self.clock())
        if loaded.problems:
            self._update(last_error="; ".join(loaded.problems))
        if loaded.manifest is None:
            return None
        m = loaded.manifest
        missing = self.cache.missing({sha: int(meta["size"]) for sha, meta in m.assets.items()})
        if missing:
            log.warning(
                "sync: %d asset(s) of stored manifest %d are missing; they will be fetched again",
                len(missing),
                m.version,
            )
        state = "expired" if loaded.expired else "valid"
        log.info("sync: playing stored manifest version %d (%s)", m.version, state)
        self.current = Content(
            m, self.cache.root, expired=loaded.expired, verify=self.cache.ensure_verified
        )
        self.newest = m
        return self.current

    def verify_cache(
        self,
        pause: Callable[[], None] = lambda: None,
        should_stop: Callable[[], bool] = lambda: False,
    ) -> list[str]:
        """Re-hash the cache (see ``AssetCache.verify_all``); count and report what was bad."""
        try:
            removed = self.cache.verify_all(pause=pause, should_stop=should_stop)
        except (OSError, DeviceRuntimeError) as e:
            log.error("cache: cannot verify the cache: %s", e)
            return []
        corrupt = [name for name in removed if len(name) == 64]
        if corrupt:
            log.warning(
                "cache: %d corrupt file(s) deleted, to be fetched again: %s",
                len(corrupt),
                ", ".join(c[:12] for c in corrupt),
            )
            with self._lock:
                s = self._status
                self._status = replace(
                    s, corrupt_found=s.corrupt_found + len(corrupt), last_corrupt=corrupt[-1]
                )
        return removed

    # -- one pass ------------------------------------------------------------------------

    def run_once(self) -> SyncStatus:
        """Run one pass; every failure is recorded in the status, none is raised."""
        # An offline device says "offline" until the server answers again, not "syncing".
        self._update(
            state="offline" if self._status.state == "offline" else "syncing",
            bytes_done=0,
            bytes_total=0,
            files_done=0,
            files_total=0,
            files_failed=0,
            deferred_files=0,
            deferred_bytes=0,
        )
        try:
            self._pass()
        except DiskFullError as e:
            log.warning("sync: %s", e)
            self._update(state="disk_full", last_error=f"disk_full: {e}", offline_since=None)
        except DeviceRuntimeError as e:
            self._fail(e)
        except Exception as e:  # a bug must not end the worker: report it and go on
            log.exception("sync: unexpected failure")
            self._fail(DeviceRuntimeError(f"unexpected failure: {e!r}"))
        self._refresh_expiry()
        return self.status

    def _fail(self, e: Exception, reason: str | None = None) -> None:
        offline = isinstance(e, DownloadError) and e.offline
        log.warning("sync: %s", e)
        with self._lock:
            s = self._status
            self._status = replace(
                s,
                state="offline" if offline else "error",
                last_error=str(e),
                offline_since=(s.offline_since or self.clock()) if offline else None,
                refused_reason=reason,
            )

    def _ok(self, complete: bool = True) -> None:
        if not complete:  # large media wait for the download window
            self._update(state="waiting", last_error=None, offline_since=None, refused_reason=None)
            return
        self._update(
            state="idle",
            last_ok=self.clock(),
            last_error=None,
            offline_since=None,
            refused_reason=None,
        )

    def _pass(self) -> None:
        current = self.current
        etag = self.trust.record.etag if current is not None else None
        response = self.fetcher.get_manifest(etag)
        if self._status.state == "offline":
            self._update(state="syncing")
        now = self.clock()
        if response.server_date is not None:
            # Unsigned (a proxy or a captive portal writes what it likes): it measures the
            # skew for the heartbeat and never moves the trusted time.
            self._update(clock_skew_s=round((now - response.server_date).total_seconds()))
        if response.status == 304 and current is not None:
            self._ok(self._complete(current.manifest, defer=False))
            return
        try:
            envelope = json.loads(response.body)
        except ValueError:
            envelope = None  # refused below as malformed
        ctx = TrustContext(
            device_id=self.device_id,
            trusted_keys=self.trust.trusted_keys,
            held_version=current.manifest.version if current else self.trust.record.held_version,
            trusted_time=self.trust.trusted_now(now),
            # No signed time yet: the manifest's own issued_at is the only one there is.
            device_clock=now if self.trust.record.newest_issued_at is None else None,
        )
        try:
            manifest = accept_manifest(envelope, ctx)
        except RefusedError as e:
            held = f"; still playing version {current.manifest.version}" if current else ""
            self._fail(DeviceRuntimeError(f"manifest refused ({e.reason}): {e}{held}"), e.reason)
            return
        self.trust.note_issued_at(manifest.issued_at, manifest.expires_at - manifest.issued_at)
        self._learn_keys(envelope)
        if current is not None and manifest.signed == current.manifest.signed:
            if response.etag != self.trust.record.etag:
                self.trust.store_manifest(response.body, manifest, response.etag)
            self._ok(self._complete(manifest, defer=False))
            return
        log.info("sync: manifest version %d accepted", manifest.version)
        self.newest = manifest
        # Raises unless every asset is verified in the cache; False: some wait for the window.
        if not self._complete(manifest, defer=current is not None):
            self._ok(complete=False)
            return
        self.trust.store_manifest(response.body, manifest, response.etag)
        content = Content(
            manifest, self.cache.root, expired=False, verify=self.cache.ensure_verified
        )
        self.current = content
        log.info("sync: manifest version %d is now playing", manifest.version)
        self._ok()
        self.on_new(content)
        # The old manifest's assets stay until the next pass: the screen may show one now.

    def _learn_keys(self, envelope: dict[str, object]) -> None:
        keys = rotated_keys(envelope, self.trust.trusted_keys)
        if keys is None:
            return
        try:
            self.trust.learn_keys(keys)
        except StateError as e:  # the next manifest teaches them again
            log.warning("sync: %s", e)

    def _defer_over(self, manifest: Manifest) -> int | None:
        """The size above which assets wait now, or None outside of any window rule."""
        if self.download_window is None:
            return None
        try:
            zone = ZoneInfo(manifest.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            zone = ZoneInfo(DEFAULT_TIMEZONE)
        local = self.trust.trusted_now(self.clock()).astimezone(zone)
        return None if in_window(self.download_window, local) else self.large_asset_bytes

    def _complete(self, manifest: Manifest, *, defer: bool) -> bool:
        """Fetch what ``manifest`` lacks; True once every asset is in the cache.

        False when only large assets remain and they wait for the download
        window (``defer``: something else plays meanwhile). Raise when an asset
        failed. Before fetching, delete what neither ``manifest`` nor the
        current one needs.
        """
        keep = self.current.manifest.asset_hashes() if self.current is not None else set()
        self._collect(manifest, keep)
        self.cache.prune_parts(manifest.asset_hashes())
        sizes = {sha: int(meta["size"]) for sha, meta in manifest.assets.items()}
        # A file removed by verify_cache() or by hand is fetched again under its name.
        for sha in self.cache.missing(sizes) & self.cache.hashes():
            self.cache.delete([sha])
        p = plan(self.cache.hashes(), manifest, keep, self._defer_over(manifest) if defer else None)
        self._update(deferred_files=len(p.deferred), deferred_bytes=p.deferred_bytes)
        if p.deferred:
            log.info(
                "sync: %d large asset(s), %d bytes, wait for the download window %s",
                len(p.deferred),
                p.deferred_bytes,
                self.download_window,
            )
        if not p.downloads:
            return p.complete
        self._check_space(p.download_bytes + p.deferred_bytes)
        self._update(files_total=len(p.downloads), bytes_total=p.download_bytes)
        failures: list[str] = []
        offline: DownloadError | None = None
        done = 0
        for sha in p.downloads:
            if self.should_stop():
                raise DownloadError("sync stopped: the runtime is shutting down")
            try:
                self._fetch(sha, sizes[sha], done)
            except (DownloadError, CacheError) as e:  # DiskFullError goes up: nothing fits
                if isinstance(e, DiskFullError):
                    raise
                failures.append(str(e))
                self._update(files_failed=len(failures))
                if isinstance(e, DownloadError) and e.offline:
                    offline = e
                    break  # the link is down: the others would fail the same way
                continue
            done += sizes[sha]
            log.info("sync: asset %s downloaded (%d bytes)", sha[:12], sizes[sha])
            with self._lock:
                self._status = replace(
                    self._status, files_done=self._status.files_done + 1, bytes_done=done
                )
        if not failures:
            return p.complete or not self.cache.missing(sizes)
        message = (
            f"{len(failures)} of {len(p.downloads)} asset(s) of manifest {manifest.version} "
            f"failed; it will play once all are here. First: {failures[0]}"
        )
        raise DownloadError(message) if offline else DeviceRuntimeError(message)

    def _fetch(self, sha: str, size: int, done_before: int) -> None:
        """Download one asset, retrying what may pass on a second try."""

        def progress(n: int) -> None:
            self._update(bytes_done=done_before + n)

        attempt = 1
        while True:
            try:
                self.cache.download(
                    self.fetcher, sha, size, should_stop=self.should_stop, progress=progress
                )
                return
            except (DownloadError, CacheError) as e:
                if attempt >= self.attempts or not _retryable(e) or self.should_stop():
                    raise
                delay = backoff_s(attempt, self.retry_base_s, self.retry_cap_s, self._rng)
                log.info("sync: %s; try %d in %.1f s", e, attempt + 1, delay)
                self.sleep(delay)
                if self.should_stop():
                    raise
                attempt += 1

    def _check_space(self, needed: int) -> None:
        if self.quota_bytes is not None:
            used = self.cache.usage().bytes
            if used + needed > self.quota_bytes:
                raise DiskFullError(
                    f"the new content needs {needed} more bytes; the cache holds {used} "
                    f"of its {self.quota_bytes}-byte quota (cache_quota_bytes)"
                )
        try:
            free = shutil.disk_usage(self.cache.root).free
        except OSError:
            return
        if needed > free:
            raise DiskFullError(f"the new content needs {needed} bytes; the disk has {free} free")

    def _collect(self, manifest: Manifest, keep: set[str]) -> None:
        """Delete cached assets needed by neither ``manifest`` nor ``keep``."""
        deletes = plan(self.cache.hashes(), manifest, keep).deletes
        if deletes:
            log.info("sync: deleting %d asset(s) no longer needed", len(deletes))
            self.cache.delete(deletes)

    def _refresh_expiry(self) -> None:
        current = self.current
        if current is None:
            return
        expired = current.manifest.is_expired(self.trust.trusted_now(self.clock()))
        if expired != current.expired:
            self.current = replace(current, expired=expired)
            if expired:
                log.warning(
                    "sync: manifest %d expired at %s; it keeps playing until a new one arrives",
                    current.manifest.version,
                    current.manifest.signed.get("expires_at"),
                )
