"""What the running server keeps in memory, and keeping it fresh.

The device routes are the hot path: every screen polls its manifest. They
answer from here without touching the database: ``device_tokens`` maps token
hashes to device ids, ``manifests`` holds each device's newest envelope as the
exact bytes to send, ``asset_types`` the media type of each stored asset.

Changes made in this process (a publish through the API) are applied with
``remember``; changes made by another process (``content-server publish`` or
``add-device`` while the server runs) are noticed by ``reload_if_changed``,
which the app calls every ``reload_interval_s`` (SQLite's ``data_version``); a
device token not in memory is looked up at once (``device_for_unknown_token``),
so a device enrolled a moment ago works on its first request.
The signing keys are read again when a key file changes (``content-server
rotate-key`` while the server runs), so the server's own signing (renewals,
API publishes, alerts) always uses the keys on disk: during a rotation both.
Each map is replaced whole, never edited in place, so a reader on the event
loop sees either the old or the new one.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from signage_core.signing import SigningKey
from signage_core.timefmt import format_time

from .assets import AssetStore
from .datadir import open_store
from .errors import ContentServerError
from .keys import key_files_stamp, load_signing_keys
from .publishing import PublishResult, publish, site_ttl
from .ratelimit import TokenBuckets
from .settings import Settings
from .store import Store
from .throttle import LoginThrottle, ThrottleRules

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CachedManifest:
    version: int
    body: bytes
    expires_at: str

    @property
    def etag(self) -> str:
        return f'"{self.version}"'


class ServerState:
    def __init__(
        self,
        settings: Settings,
        store: Store,
        keys: list[SigningKey],
        clock: Callable[[], datetime],
    ) -> None:
        self.settings = settings
        self.store = store
        self.keys = keys
        self.clock = clock
        self.asset_store = AssetStore(settings.assets_dir)
        self.device_tokens: dict[str, str] = {}
        self.manifests: dict[str, CachedManifest] = {}
        self.asset_types: dict[str, str] = {}
        self.throttle = LoginThrottle(
            ThrottleRules(
                max_failures=settings.login_max_failures,
                max_per_address=settings.login_max_failures_per_address,
                window_s=settings.login_window_s,
                lockout_s=settings.login_lockout_s,
                max_lockout_s=settings.login_max_lockout_s,
            )
        )
        self.event_limit = TokenBuckets(settings.events_per_hour / 3600.0, settings.event_burst)
        self._data_version: int | None = None
        self._key_stamp = key_files_stamp(settings)
        self._lock = threading.Lock()  # writers of the maps; readers need none

    @classmethod
    def open(cls, settings: Settings, clock: Callable[[], datetime]) -> ServerState:
        store = open_store(settings)
        try:
            stamp = key_files_stamp(settings)
            keys = load_signing_keys(settings)
        except BaseException:
            store.close()
            raise
        state = cls(settings, store, keys, clock)
        state._key_stamp = stamp
        state.reload()
        return state

    def close(self) -> None:
        self.store.close()

    @property
    def manifest_ttl(self) -> timedelta:
        return timedelta(days=self.settings.manifest_ttl_days)

    def reload(self) -> None:
        """Read tokens, newest manifests and asset types again from the database."""
        with self._lock:
            self._reload()

    def _reload(self) -> None:
        self._data_version = self.store.data_version()
        self.device_tokens = self.store.device_tokens()
        self.asset_types = self.store.asset_types()
        newest = self.store.latest_manifest_versions()
        manifests = {}
        for device_id, (version, expires_at) in newest.items():
            cached = self.manifests.get(device_id)
            if cached is not None and cached.version == version:
                manifests[device_id] = cached
                continue
            body = self.store.manifest_envelope(device_id, version)
            if body is not None:
                manifests[device_id] = CachedManifest(version, body, expires_at)
        self.manifests = manifests

    def reload_if_changed(self) -> bool:
        keys_changed = self.reload_keys_if_changed()
        if self.store.data_version() == self._data_version:
            return keys_changed
        self.reload()
        return True

    def reload_keys_if_changed(self) -> bool:
        """Sign with the keys on disk from now on, if a key file changed since last read.

        A key that cannot be read (a file half-copied by hand, a wrong mode) is
        logged and the keys in use are kept, until the files change again."""
        stamp = key_files_stamp(self.settings)
        if stamp == self._key_stamp:
            return False
        with self._lock:
            if stamp == self._key_stamp:  # another thread read them meanwhile
                return False
            try:
                keys = load_signing_keys(self.settings)
            except (ContentServerError, OSError) as e:
                self._key_stamp = stamp
                in_use = _ids(self.keys)
                log.error("signing keys not reloaded; still signing with %s: %s", in_use, e)
                return False
            if _ids(keys) != _ids(self.keys):
                log.warning("signing keys changed: now signing with %s", _ids(keys))
            self.keys = keys
            self._key_stamp = stamp
        return True

    def remember(self, result: PublishResult) -> None:
        """Serve what this process just published (without waiting for a reload)."""
        with self._lock:
            manifests = dict(self.manifests)
            for m in result.manifests:
                old = manifests.get(m.device_id)
                if old is None or old.version < m.version:
                    manifests[m.device_id] = CachedManifest(m.version, m.envelope, m.expires_at)
            self.manifests = manifests

    def remember_assets(self, types: dict[str, str]) -> None:
        """Serve assets this process just stored (without waiting for a reload)."""
        with self._lock:
            self.asset_types = {**self.asset_types, **types}

    def forget_assets(self, hashes: set[str]) -> None:
        """Stop serving assets this process just deleted."""
        with self._lock:
            self.asset_types = {k: v for k, v in self.asset_types.items() if k not in hashes}

    def refresh_expiring(self, now: datetime) -> PublishResult | None:
        """Re-sign manifests past half their lifetime, so a server left alone never lets
        its screens' manifests expire. The lifetime is the one of the device's site (its
        ``manifest_ttl_days``, inherited down the tree), else the server's setting."""
        self.reload_keys_if_changed()  # never renew with a key retired a moment ago
        sites = self.store.sites()
        site_of = {d.id: d.site_id for d in self.store.devices(include_revoked=True)}

        def half_life_passed(device_id: str, m: CachedManifest) -> bool:
            site = site_of.get(device_id)
            ttl = self.manifest_ttl if site is None else site_ttl(site, sites, self.manifest_ttl)
            return m.expires_at <= format_time(now + ttl / 2)

        expiring = [d for d, m in self.manifests.items() if half_life_passed(d, m)]
        if not expiring:
            return None
        result = publish(
            self.store,
            self.keys,
            now,
            self.manifest_ttl,
            user="content-server",
            address="",
            reason="renew before expiry",
            device_ids=expiring,
        )
        self.remember(result)
        log.info("renewed %d manifest(s) as version %s", len(result.manifests), result.version)
        return result

    def device_for_unknown_token(self, token_hash: str) -> str | None:
        """A token not in memory: a device enrolled by another process (``content-server
        add-device``) a moment ago, before the next reload? Then read everything again (its
        token and manifest) and answer its id; None for a token nobody holds."""
        device_id = self.store.device_for_token(token_hash)
        if device_id is not None:
            self.reload()
            log.info("device %s enrolled by another process: serving it now", device_id)
        return device_id

    def prune_events(self, now: datetime) -> int:
        """Delete records received more than ``event_retention_days`` before ``now``."""
        before = format_time(now - timedelta(days=self.settings.event_retention_days))
        removed = self.store.prune_events(before)
        if removed:
            log.info("deleted %d record(s) received before %s", removed, before)
        return removed


def _ids(keys: list[SigningKey]) -> str:
    return ", ".join(k.keyid for k in keys)
