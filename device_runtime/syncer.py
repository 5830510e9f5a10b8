"""One sync pass: fetch the manifest, trust it or not, fill the cache, switch.

    GET manifest (If-None-Match) ── 304 ──▶ repair missing files of the current one
        │ 200
        ▼
    accept_manifest (trusted time) ── refused ──▶ keep the last good one, report why
        │
        ▼
    download every missing asset (one failing does not stop the others)
        │ all verified in the cache            │ some failed
        ▼                                      ▼
    store as last good, switch, notify      keep playing the current one, retry next pass

Nothing partial plays: a new manifest becomes current only once every asset it
names is verified in the cache. An asset is deleted only when neither the
manifest playing nor the one being fetched needs it: the assets of the one
replaced go on the next pass, once the screen has switched. The loop, its
timing and its thread are ``runtime.py``'s.
"""

from __future__ import annotations

import json
import logging
import shutil
import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime

from signage_core.errors import RefusedError
from signage_core.manifest import Manifest
from signage_core.sync import plan
from signage_core.trust import TrustContext, accept_manifest

from .cache import AssetCache
from .content import Content, SyncStatus
from .errors import CacheError, DeviceRuntimeError, DownloadError
from .fetcher import Fetcher
from .state import TrustState

log = logging.getLogger(__name__)


def utc_now() -> datetime:
    return datetime.now(UTC)


class Syncer:
    def __init__(
        self,
        *,
        device_id: str,
        fetcher: Fetcher,
        cache: AssetCache,
        trust: TrustState,
        quota_bytes: int | None = None,
        clock: Callable[[], datetime] = utc_now,
        on_new: Callable[[Content], None] = lambda c: None,
        should_stop: Callable[[], bool] = lambda: False,
    ) -> None:
        self.device_id = device_id
        self.fetcher = fetcher
        self.cache = cache
        self.trust = trust
        self.quota_bytes = quota_bytes
        self.clock = clock
        self.on_new = on_new
        self.should_stop = should_stop
        self.current: Content | None = None
        self.newest: Manifest | None = None  # the newest accepted, complete or not
        self._status = SyncStatus()
        self._lock = threading.Lock()

    # -- status, read from any thread --------------------------------------------------

    @property
    def status(self) -> SyncStatus:
        with self._lock:
            return self._status

    def _update(self, **changes: object) -> None:
        with self._lock:
            self._status = replace(self._status, **changes)  # type: ignore[arg-type]

    def _progress(self, n: int) -> None:
        with self._lock:
            s = self._status
            self._status = replace(s, bytes_done=s.bytes_done + n)

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
        self.current = Content(m, self.cache.root, expired=loaded.expired)
        self.newest = m
        return self.current

    # -- one pass ------------------------------------------------------------------------

    def run_once(self) -> SyncStatus:
        """Run one pass; every failure is recorded in the status, none is raised."""
        self._update(state="syncing", bytes_done=0, bytes_total=0, files_done=0, files_total=0)
        try:
            self._pass()
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

    def _ok(self) -> None:
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
        now = self.clock()
        if response.server_date is not None:
            self.trust.note_time(server_date=response.server_date)
            self._update(clock_skew_s=round((now - response.server_date).total_seconds()))
        if response.status == 304 and current is not None:
            self._complete(current.manifest)
            self._ok()
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
        )
        try:
            manifest = accept_manifest(envelope, ctx)
        except RefusedError as e:
            held = f"; still playing version {current.manifest.version}" if current else ""
            self._fail(DeviceRuntimeError(f"manifest refused ({e.reason}): {e}{held}"), e.reason)
            return
        self.trust.note_time(issued_at=manifest.issued_at)
        if current is not None and manifest.signed == current.manifest.signed:
            if response.etag != self.trust.record.etag:
                self.trust.store_manifest(response.body, manifest, response.etag)
            self._complete(manifest)
            self._ok()
            return
        log.info("sync: manifest version %d accepted", manifest.version)
        self.newest = manifest
        self._complete(manifest)  # raises unless every asset is verified in the cache
        self.trust.store_manifest(response.body, manifest, response.etag)
        content = Content(manifest, self.cache.root, expired=False)
        self.current = content
        log.info("sync: manifest version %d is now playing", manifest.version)
        self._ok()
        self.on_new(content)
        # The old manifest's assets stay until the next pass: the screen may show one now.

    def _complete(self, manifest: Manifest) -> None:
        """Fetch what ``manifest`` lacks; raise unless every asset is then in the cache.

        Before fetching, delete what neither ``manifest`` nor the current one needs.
        """
        keep = self.current.manifest.asset_hashes() if self.current is not None else set()
        self._collect(manifest, keep)
        self.cache.prune_parts(manifest.asset_hashes())
        sizes = {sha: int(meta["size"]) for sha, meta in manifest.assets.items()}
        # A file removed by verify_all() or by hand is fetched again under its name.
        for sha in self.cache.missing(sizes) & self.cache.hashes():
            self.cache.delete([sha])
        p = plan(self.cache.hashes(), manifest, keep)
        if p.complete:
            return
        self._check_space(p.download_bytes)
        self._update(files_total=len(p.downloads), bytes_total=p.download_bytes)
        failures: list[str] = []
        offline: DownloadError | None = None
        for sha in p.downloads:
            if self.should_stop():
                raise DownloadError("sync stopped: the runtime is shutting down")
            try:
                self.cache.download(
                    self.fetcher,
                    sha,
                    sizes[sha],
                    should_stop=self.should_stop,
                    progress=self._progress,
                )
            except DownloadError as e:
                failures.append(str(e))
                offline = offline or (e if e.offline else None)
                log.warning("sync: %s", e)
                continue
            except CacheError as e:  # IntegrityError included: the bytes were wrong
                failures.append(str(e))
                log.warning("sync: %s", e)
                continue
            log.info("sync: asset %s downloaded (%d bytes)", sha[:12], sizes[sha])
            with self._lock:
                self._status = replace(self._status, files_done=self._status.files_done + 1)
        if not failures:
            return
        message = (
            f"{len(failures)} of {len(p.downloads)} asset(s) of manifest {manifest.version} "
            f"failed; it will play once all are here. First: {failures[0]}"
        )
        raise DownloadError(message) if offline else DeviceRuntimeError(message)

    def _check_space(self, needed: int) -> None:
        if self.quota_bytes is not None:
            used = self.cache.usage().bytes
            if used + needed > self.quota_bytes:
                raise CacheError(
                    f"the new content needs {needed} more bytes; the cache holds {used} "
                    f"of its {self.quota_bytes}-byte quota (cache_quota_bytes)"
                )
        try:
            free = shutil.disk_usage(self.cache.root).free
        except OSError:
            return
        if needed > free:
            raise CacheError(f"the new content needs {needed} bytes; the disk has {free} free")

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
