"""The device's emergency alerts: checked, kept, and handed to the screen.

Alerts arrive two ways: retained on the MQTT topics of the device's site and
its ancestors (within seconds), and in every manifest's ``alerts`` (for a
device that missed MQTT). Both go through ``signage_core.alert.accept_alert``
with the device's trusted keys: an unsigned, forged, malformed or misplaced
alert is ignored, logged and counted in ``refused`` (reported in the
heartbeat). An empty message is only a broker clearing its retained copy: it
never takes an alert off a screen; only a signed cancel or the expiry does.

Listeners are called (from the thread that delivered the alert: paho's or the
sync worker) whenever what shows may have changed; a UI hands over to its own
thread and arms one timer for ``next_change_at`` to drop an alert at expiry.
Which sites to listen to is the manifest's ``alert_sites``.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

from signage_core.alert import Alert, AlertBoard, accept_alert
from signage_core.errors import RefusedError
from signage_core.manifest import Manifest
from signage_core.signing import PublicKey

log = logging.getLogger(__name__)

AlertListener = Callable[[list[Alert]], None]


def alert_sites(manifest: Manifest) -> tuple[str, ...]:
    """The sites whose alerts reach this device: the manifest's ``alert_sites``,
    else (an older server) its own site."""
    sites = manifest.signed.get("alert_sites")
    if isinstance(sites, list) and sites and all(isinstance(s, str) for s in sites):
        return tuple(sites)
    return (manifest.site_id,)


class AlertKeeper:
    def __init__(
        self,
        trusted_keys: Callable[[], Mapping[str, PublicKey]],
        clock: Callable[[], datetime],
    ) -> None:
        # A provider, not a copy: keys learned from a rotation manifest count at once.
        self.trusted_keys = trusted_keys
        self.clock = clock
        self.sites: tuple[str, ...] = ()
        self.refused = 0
        self.last_refusal: str | None = None
        self._board = AlertBoard()
        self._lock = threading.Lock()
        self._listeners: list[AlertListener] = []

    def add_listener(self, cb: AlertListener) -> None:
        self._listeners.append(cb)

    def showing(self, now: datetime | None = None) -> list[Alert]:
        with self._lock:
            return self._board.showing(now or self.clock())

    def next_change_at(self, now: datetime | None = None) -> datetime | None:
        with self._lock:
            return self._board.next_change_at(now or self.clock())

    def set_sites(self, sites: Iterable[str]) -> bool:
        """Follow these sites' alerts (and drop held alerts of sites no longer followed)."""
        new = tuple(sites)
        with self._lock:
            if new == self.sites:
                return False
            self.sites = new
            for site in [s for s in self._board.by_site if s not in new]:
                del self._board.by_site[site]
        self._announce()
        return True

    def offer(self, envelope: Any, topic_site: str | None, via: str) -> Alert | None:
        """Check an alert envelope; keep it if trusted and newer. None if refused or old."""
        try:
            alert = accept_alert(envelope, self.trusted_keys(), self.sites, topic_site)
        except RefusedError as e:
            with self._lock:
                self.refused += 1
                self.last_refusal = f"{e.reason}: {e}"
            log.warning("alerts: refused an alert (%s) via %s: %s", e.reason, via, e)
            return None
        with self._lock:
            changed = self._board.apply(alert)
        if not changed:
            return None
        log.info(
            "alerts: %s alert %s (version %d) for %s via %s",
            alert.state,
            alert.id,
            alert.version,
            alert.site_id,
            via,
        )
        self._announce()
        return alert

    def offer_mqtt(self, site_id: str, raw: bytes) -> Alert | None:
        if not raw:
            return None  # a cleared retained copy: not a cancel
        try:
            envelope = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            envelope = None  # refused below as malformed, and counted
        return self.offer(envelope, site_id, "mqtt")

    def offer_manifest(self, manifest: Manifest) -> None:
        self.set_sites(alert_sites(manifest))
        docs = manifest.signed.get("alerts")
        for doc in docs if isinstance(docs, list) else []:
            self.offer(doc, None, f"manifest {manifest.version}")

    def report(self) -> dict[str, Any]:
        """The heartbeat's ``alerts`` field."""
        with self._lock:
            showing = [a.id for a in self._board.showing(self.clock())]
            return {"showing": showing, "refused": self.refused, "last_refusal": self.last_refusal}

    def _announce(self) -> None:
        showing = self.showing()
        for cb in list(self._listeners):
            try:
                cb(showing)
            except Exception:
                log.exception("an alert listener failed")
