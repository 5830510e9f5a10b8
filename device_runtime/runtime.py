"""The facade both device apps use: one object that keeps content fresh and reports.

    rt = Runtime(settings, app_name="signage-player", app_version="0.1.0")
    rt.start()          # last good manifest from disk (no network), then one sync
                        # worker thread and the MQTT link in the background
    rt.current          # Content | None: what may play now
    rt.add_listener(cb) # cb(content) from the worker thread when a new manifest is ready
    rt.set_now_playing(playlist_id, item_id, language)
    rt.record_play(...) # proof of play, durable before it returns
    rt.status()         # SyncStatus snapshot
    rt.sync_now()       # wake the worker
    rt.alerts           # signed emergency alerts to show now (most severe first)
    rt.add_alert_listener(cb)  # cb(alerts) from paho's or the worker thread
    rt.commands         # screenshot_provider, restart_requested, overlay (see commands.py)
    rt.report_skipped(...)  # a video that would not play: in the heartbeat's ``skipped``
    rt.maintenance_info()   # what the maintenance overlay shows
    rt.stop()

Threads: the caller's (the Kivy main thread) only reads snapshots and queues
records; the sync worker fetches, verifies and stores; paho's thread and the
heartbeat thread talk MQTT. A listener runs on the worker thread: a Kivy app
hands over with ``Clock.schedule_once``. The initial content loaded by
``start()`` is not announced to listeners: read ``rt.current`` after ``start()``.
"""

from __future__ import annotations

import logging
import random
import shutil
import threading
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from signage_core.alert import Alert
from signage_core.signing import PublicKey
from signage_core.timefmt import format_time

from .alerts import AlertKeeper
from .cache import AssetCache
from .clock import utc_now
from .commands import CommandHandler
from .content import Content, SyncStatus
from .errors import DeviceRuntimeError
from .fetcher import Fetcher, HttpFetcher
from .mqtt_link import MqttLink
from .netinfo import addresses
from .records import RecordQueue
from .settings import DeviceSettings
from .state import SessionCounter, TrustState
from .syncer import Syncer
from .verifier import CacheVerifier

log = logging.getLogger(__name__)

Listener = Callable[[Content], None]
# After failed passes the worker waits longer, up to this many poll intervals.
MAX_BACKOFF_FACTOR = 4
# Skipped videos named in each heartbeat (the count covers them all).
MAX_SKIPPED = 5


class Runtime:
    def __init__(
        self,
        settings: DeviceSettings,
        app_name: str = "signage-player",
        app_version: str = "0.1.0",
        *,
        fetcher: Fetcher | None = None,
        enable_mqtt: bool = True,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.settings = settings
        self.app_name = app_name
        self.app_version = app_version
        self.fetcher: Fetcher = fetcher if fetcher is not None else HttpFetcher(settings)
        self.enable_mqtt = enable_mqtt
        self.clock = clock
        self._listeners: list[Listener] = []
        self._now_playing: tuple[str | None, str | None, str | None] = (None, None, None)
        self._skipped: list[dict[str, Any]] = []  # newest last, at most MAX_SKIPPED
        self._skipped_total = 0
        self._skipped_lock = threading.Lock()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._worker: threading.Thread | None = None
        self._started_at = time.monotonic()
        self.cache: AssetCache | None = None
        self.syncer: Syncer | None = None
        self.records: RecordQueue | None = None
        self.link: MqttLink | None = None
        self.alert_keeper = AlertKeeper(self._trusted_keys, self._trusted_now)
        self.commands = CommandHandler(
            settings,
            sync_now=self.sync_now,
            trusted_keys=self._trusted_keys,
            trusted_now=self._trusted_now,
        )
        self.verifier: CacheVerifier | None = None

    def _trusted_now(self) -> datetime:
        """The device clock, never earlier than the newest signed issued_at seen:
        a clock reset to 1970 must not bring back an expired alert."""
        if self.syncer is not None:
            return self.syncer.trust.trusted_now(self.clock())
        return self.clock()

    def _trusted_keys(self) -> Mapping[str, PublicKey]:
        """Provisioned keys, plus those learned from a key-rotation manifest once started."""
        if self.syncer is not None:
            return self.syncer.trust.trusted_keys
        return self.settings.trusted_key_map

    # -- life cycle ----------------------------------------------------------------------

    def start(self) -> None:
        """Load the last good manifest (no network), then start the worker and MQTT link."""
        if self._worker is not None:
            return
        s = self.settings
        self._started_at = time.monotonic()
        self.cache = AssetCache(s.cache_dir)
        trust = TrustState(s.state_dir, s.device_id, s.trusted_key_map)
        self.records = RecordQueue(s.state_dir / "records.sqlite")
        self.syncer = Syncer(
            device_id=s.device_id,
            fetcher=self.fetcher,
            cache=self.cache,
            trust=trust,
            quota_bytes=s.cache_quota_bytes,
            download_window=s.download_window,
            large_asset_bytes=s.large_asset_bytes,
            attempts=s.download_attempts,
            clock=self.clock,
            sleep=self._stop.wait,
            on_new=self._notify,
            should_stop=self._stop.is_set,
        )
        self.syncer.load()
        if self.syncer.current is not None:
            self.alert_keeper.offer_manifest(self.syncer.current.manifest)
        self._worker = threading.Thread(target=self._work, name="sync-worker", daemon=True)
        self._worker.start()
        self.verifier = CacheVerifier(self.syncer, s.verify_interval_s, self.sync_now, self._stop)
        self.verifier.start()
        if self.enable_mqtt:
            self.link = MqttLink(
                s,
                sessions=SessionCounter(s.state_dir),
                heartbeat=self.heartbeat,
                on_command=self._on_command,
                on_connected=self._on_mqtt_connected,
                on_alert=self.alert_keeper.offer_mqtt,
                clock=self.clock,
            )
            self.link.set_alert_sites(self.alert_keeper.sites)
            self.link.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the worker (an interrupted download resumes next time) and say offline."""
        self._stop.set()
        self._wake.set()
        if self._worker is not None:
            self._worker.join(timeout)
        if self.verifier is not None:
            self.verifier.join(timeout)
        if self.link is not None:
            self.link.stop()
            self.link = None
        if self.records is not None:
            self.records.close()
            self.records = None

    # -- what the apps read ----------------------------------------------------------------

    @property
    def current(self) -> Content | None:
        return self.syncer.current if self.syncer is not None else None

    def status(self) -> SyncStatus:
        return self.syncer.status if self.syncer is not None else SyncStatus()

    def add_listener(self, cb: Listener) -> None:
        self._listeners.append(cb)

    @property
    def alerts(self) -> list[Alert]:
        return self.alert_keeper.showing()

    def add_alert_listener(self, cb: Callable[[list[Alert]], None]) -> None:
        self.alert_keeper.add_listener(cb)

    def sync_now(self) -> None:
        self._wake.set()

    def set_now_playing(
        self, playlist_id: str | None, item_id: str | None, language: str | None
    ) -> None:
        self._now_playing = (playlist_id, item_id, language)

    def report_skipped(
        self,
        *,
        playlist_id: str,
        item_id: str,
        language: str,
        asset: str | None,
        reason: str,
        at: datetime,
    ) -> None:
        """A video the player skipped (did not open, broke or stalled): counted, and the
        newest few sent in every heartbeat (``skipped``) until the process restarts."""
        entry = {
            "playlist": playlist_id,
            "item": item_id,
            "language": language,
            "asset": asset,
            "reason": reason[:300],
            "at": format_time(at),
        }
        with self._skipped_lock:
            self._skipped_total += 1
            self._skipped = [*self._skipped, entry][-MAX_SKIPPED:]

    def skipped_report(self) -> dict[str, Any]:
        with self._skipped_lock:
            return {"videos": self._skipped_total, "last": list(self._skipped)}

    def maintenance_info(self) -> dict[str, Any]:
        """What a technician sees on the maintenance overlay: the heartbeat's facts and
        this machine's addresses."""
        beat = self.heartbeat()
        return {
            "device_id": self.settings.device_id,
            "app": beat["app"],
            "manifest_version": beat["manifest_version"],
            "cache": beat["cache"],
            "sync": beat["sync"],
            "addresses": addresses(),
            "server_url": self.settings.server_url,
        }

    def record_play(
        self,
        *,
        playlist_id: str,
        item_id: str,
        language: str,
        started_at: datetime,
        duration_ms: int,
        manifest_version: int,
    ) -> str | None:
        """Queue a proof-of-play record; its id, or None if it could not be stored (logged)."""
        fields = {
            "playlist_id": playlist_id,
            "item_id": item_id,
            "language": language,
            "duration_ms": int(duration_ms),
            "manifest_version": int(manifest_version),
        }
        return self.record("play", started_at, **fields)

    def record(self, kind: str, at: datetime, **fields: Any) -> str | None:
        """Queue any record (``kind`` "play", "feedback", ...) for the events endpoint."""
        if self.records is None:
            log.error("records: runtime not started; a %s record is lost", kind)
            return None
        try:
            return self.records.add(kind, at, fields)
        except DeviceRuntimeError as e:
            log.error("records: %s", e)
            return None

    # -- heartbeat -------------------------------------------------------------------------

    def heartbeat(self) -> dict[str, Any]:
        """Every heartbeat field but ``seq`` and ``ts`` (the MQTT link adds those)."""
        current = self.current
        status = self.status()
        usage = self.cache.usage() if self.cache else None
        missing = 0
        newest = self.syncer.newest if self.syncer else None
        if self.cache is not None and newest is not None:
            sizes = {sha: int(m["size"]) for sha, m in newest.assets.items()}
            missing = len(self.cache.missing(sizes))
        try:
            disk_free: int | None = shutil.disk_usage(self.settings.data_dir).free
        except OSError:
            disk_free = None
        last_error = status.last_error
        if current is not None and current.expired:
            # The heartbeat has no field of its own for this; the server reads the prefix.
            expires = current.manifest.signed.get("expires_at")
            flag = f"manifest_expired: version {current.manifest.version} expired at {expires}"
            last_error = f"{flag}; still playing it" + (f"; {last_error}" if last_error else "")
        playlist, item, language = self._now_playing
        return {
            "uptime_s": int(time.monotonic() - self._started_at),
            "app": {"name": self.app_name, "version": self.app_version},
            "manifest_version": current.manifest.version if current else None,
            "now_playing": {"playlist": playlist, "item": item, "language": language},
            "cache": {
                "bytes": usage.bytes if usage else 0,
                "files": usage.files if usage else 0,
                "missing": missing,
            },
            "disk_free_bytes": disk_free,
            "sync": {
                "state": status.state,
                "last_ok": format_time(status.last_ok) if status.last_ok else None,
                "last_error": last_error,
            },
            "clock_skew_s": status.clock_skew_s,
            "alerts": self.alert_keeper.report(),
            "skipped": self.skipped_report(),
        }

    # -- the worker ------------------------------------------------------------------------

    def _notify(self, content: Content) -> None:
        self.alert_keeper.offer_manifest(content.manifest)
        if self.link is not None:
            self.link.set_alert_sites(self.alert_keeper.sites)
            self.link.beat_soon()  # the server learns the new version without waiting
        for cb in list(self._listeners):
            try:
                cb(content)
            except Exception:
                log.exception("a content listener failed")

    def _on_command(self, envelope: dict[str, Any]) -> None:
        self.commands(envelope)

    def _on_mqtt_connected(self) -> None:
        if self.status().state == "offline":
            self.sync_now()

    def _delay(self, failures: int) -> float:
        base = self.settings.poll_interval_s
        factor = min(2 ** max(failures - 1, 0), MAX_BACKOFF_FACTOR) if failures else 1
        return float(base * factor * random.uniform(0.9, 1.1))

    def _work(self) -> None:
        assert self.cache is not None and self.syncer is not None
        self.syncer.verify_cache()  # full speed on start; the verifier thread rehashes later
        failures = 0
        while not self._stop.is_set():
            self._wake.clear()
            status = self.syncer.run_once()
            if self._stop.is_set():
                break
            if self.link is not None:
                self.link.mark_ready()
            self._flush_records()
            failures = failures + 1 if status.state in ("offline", "error") else 0
            self._wake.wait(self._delay(failures))

    def _flush_records(self) -> None:
        records = self.records
        if records is None:
            return
        try:
            sent = records.flush(self.fetcher)
        except DeviceRuntimeError as e:
            log.warning("records: %d waiting; not sent now: %s", records.pending(), e)
            return
        if sent:
            log.info("records: %d sent", sent)


__all__ = ["Content", "Runtime", "SyncStatus", "utc_now"]
