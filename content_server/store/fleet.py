"""The fleet as the server sees it: live device health from MQTT, heartbeat history,
signed alerts and screenshots."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ..models import AlertRecord, HealthRow, Screenshot
from .connection import from_json, marks, to_json

if TYPE_CHECKING:
    from . import Store


class FleetStore:
    """The SQL of fleet health, alerts and screenshots, over a ``Store``'s connection."""

    def __init__(self, store: Store) -> None:
        self.db = store.db

    # --- health --------------------------------------------------------------

    def write_health(
        self,
        statuses: Iterable[tuple[str, int, str, str]],
        heartbeats: Iterable[tuple[str, str, Mapping[str, Any], float | None]],
        uptime: Iterable[tuple[str, str, float]] = (),
    ) -> None:
        """One transaction: ``(device, session, state, at)`` statuses (an older session
        never overwrites a newer one), ``(device, at, body, interval)`` heartbeats and
        ``(device, local day, seconds)`` added to the device's uptime (``uptime.py``)."""
        beats = [(d, at, to_json(dict(body)), iv) for d, at, body, iv in heartbeats]
        with self.db.transaction():
            self.db.write_many(
                """INSERT INTO device_health (device_id, session, status_state, status_at)
                   VALUES (?, ?, ?, ?)
                   ON CONFLICT (device_id) DO UPDATE SET session = excluded.session,
                     status_state = excluded.status_state, status_at = excluded.status_at
                   WHERE excluded.session >= device_health.session""",
                statuses,
            )
            self.db.write_many(
                "INSERT INTO heartbeats (device_id, received_at, body) VALUES (?, ?, ?)",
                [(d, at, body) for d, at, body, _ in beats],
            )
            self.db.write_many(
                """INSERT INTO device_health (device_id, heartbeat, heartbeat_at, interval_s)
                   VALUES (?, ?, ?, ?)
                   ON CONFLICT (device_id) DO UPDATE SET heartbeat = excluded.heartbeat,
                     heartbeat_at = excluded.heartbeat_at,
                     interval_s = coalesce(excluded.interval_s, device_health.interval_s)""",
                [(d, body, at, iv) for d, at, body, iv in beats],
            )
            self.db.write_many(
                """INSERT INTO device_uptime_days (device_id, day, online_s) VALUES (?, ?, ?)
                   ON CONFLICT (device_id, day) DO UPDATE
                   SET online_s = min(86400, device_uptime_days.online_s + excluded.online_s)""",
                uptime,
            )

    def health(self) -> dict[str, HealthRow]:
        rows = self.db.rows("SELECT * FROM device_health")
        return {
            r["device_id"]: HealthRow(**{**r, "heartbeat": from_json(r["heartbeat"])}) for r in rows
        }

    def uptime_days(
        self, device_ids: Iterable[str], since: str, until: str
    ) -> list[tuple[str, str, float]]:
        """``(device, local day, seconds online)`` for days in [since, until] (inclusive)."""
        wanted = sorted(set(device_ids))
        if not wanted:
            return []
        rows = self.db.rows(
            f"""SELECT device_id, day, online_s FROM device_uptime_days
                WHERE device_id IN ({marks(wanted)}) AND day >= ? AND day <= ?
                ORDER BY device_id, day""",
            [*wanted, since, until],
        )
        return [(r["device_id"], r["day"], float(r["online_s"])) for r in rows]

    def prune_heartbeats(self, before: str) -> int:
        return self.db.write("DELETE FROM heartbeats WHERE received_at < ?", [before])

    # --- alerts --------------------------------------------------------------

    def next_alert_version(self) -> int:
        r = self.db.one("SELECT coalesce(max(version), 0) + 1 AS v FROM alerts")
        return int(r["v"]) if r else 1

    def put_alert(self, alert: AlertRecord) -> None:
        self.db.write(
            """INSERT INTO alerts (id, site_id, version, state, severity, issued_at, expires_at,
                                   created_by, envelope)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT (id) DO UPDATE SET version = excluded.version,
                 state = excluded.state, envelope = excluded.envelope,
                 expires_at = excluded.expires_at""",
            [
                alert.id,
                alert.site_id,
                alert.version,
                alert.state,
                alert.severity,
                alert.issued_at,
                alert.expires_at,
                alert.created_by,
                alert.envelope,
            ],
        )

    def alert(self, alert_id: str) -> AlertRecord | None:
        r = self.db.one("SELECT * FROM alerts WHERE id = ?", [alert_id])
        return None if r is None else AlertRecord(**r)

    def alerts(self) -> list[AlertRecord]:
        """Newest first."""
        return [
            AlertRecord(**r) for r in self.db.rows("SELECT * FROM alerts ORDER BY version DESC")
        ]

    def current_alerts(self) -> dict[str, AlertRecord]:
        """``{site: the newest alert document signed for it}`` (active or cancelled)."""
        rows = self.db.rows(
            """SELECT a.* FROM alerts a
               JOIN (SELECT site_id, max(version) AS version FROM alerts GROUP BY site_id)
               AS newest USING (site_id, version)"""
        )
        return {r["site_id"]: AlertRecord(**r) for r in rows}

    # --- screenshots ---------------------------------------------------------

    def put_screenshot(self, device_id: str, taken_at: str, file: str | None, note: str) -> None:
        self.db.write(
            """INSERT INTO screenshots (device_id, taken_at, file, note) VALUES (?, ?, ?, ?)
               ON CONFLICT (device_id) DO UPDATE SET taken_at = excluded.taken_at,
                 file = excluded.file, note = excluded.note""",
            [device_id, taken_at, file, note],
        )

    def screenshot(self, device_id: str) -> Screenshot | None:
        r = self.db.one("SELECT * FROM screenshots WHERE device_id = ?", [device_id])
        return None if r is None else Screenshot(**r)
