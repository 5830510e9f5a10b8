"""What goes to devices and comes back: manifest versions and signed manifests out,
records (proof of play, events) in."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from ..models import DailyPlays, FeedbackCount, FeedbackRecord, PlayCount
from .connection import Connection, Row, marks, to_json


class DeliverySql:
    """Part of ``Store``: manifests out, records in."""

    db: Connection

    # --- publishing --------------------------------------------------------

    def new_version(self, published_at: str, user: str, reason: str) -> int:
        """A manifest version never used before, greater than every earlier one."""
        with self.db.transaction():
            cur = self.db.execute(
                "INSERT INTO publishes (published_at, user, reason) VALUES (?, ?, ?)",
                [published_at, user, reason],
            )
            return int(cur.lastrowid or 0)

    def skip_versions(self, count: int, published_at: str, user: str, reason: str) -> int:
        """Leave ``count`` versions unused: the next one handed out is past them all.

        After a restore from backup, devices may hold versions the lost server handed out
        after the backup; they accept only a version greater than the one they hold."""
        with self.db.transaction():
            (newest,) = self.db.execute(
                "SELECT coalesce(max(version), 0) FROM publishes"
            ).fetchone()
            self.db.execute(
                "INSERT INTO publishes (version, published_at, user, reason) VALUES (?, ?, ?, ?)",
                [int(newest) + count, published_at, user, reason],
            )
            return int(newest) + count

    def add_manifest(
        self, device_id: str, version: int, envelope: bytes, issued_at: str, expires_at: str
    ) -> None:
        self.db.write(
            "INSERT INTO manifests (device_id, version, envelope, issued_at, expires_at)"
            " VALUES (?, ?, ?, ?, ?)",
            [device_id, version, envelope, issued_at, expires_at],
        )

    def latest_manifest_versions(self) -> dict[str, tuple[int, str]]:
        """``{device id: (newest version, its expires_at)}`` for every device with a manifest."""
        rows = self.db.rows(
            """SELECT m.device_id, m.version, m.expires_at FROM manifests m
               JOIN (SELECT device_id, max(version) AS version FROM manifests GROUP BY device_id)
               AS newest USING (device_id, version)"""
        )
        return {r["device_id"]: (r["version"], r["expires_at"]) for r in rows}

    def manifest_envelope(self, device_id: str, version: int) -> bytes | None:
        r = self.db.one(
            "SELECT envelope FROM manifests WHERE device_id = ? AND version = ?",
            [device_id, version],
        )
        return None if r is None else bytes(r["envelope"])

    def manifest_versions(self, device_id: str) -> list[int]:
        """Every version of the device's manifest still stored, newest first."""
        rows = self.db.rows(
            "SELECT version FROM manifests WHERE device_id = ? ORDER BY version DESC", [device_id]
        )
        return [int(r["version"]) for r in rows]

    # --- records from devices ----------------------------------------------

    def add_events(
        self, device_id: str, events: Iterable[Mapping[str, Any]], received_at: str
    ) -> tuple[int, int]:
        """Store records by id, ignoring ids already stored: ``(new, duplicates)``."""
        new = dup = 0
        with self.db.transaction():
            for e in events:
                cur = self.db.execute(
                    "INSERT OR IGNORE INTO events (id, device_id, kind, ts, body, received_at)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    [e["id"], device_id, e["kind"], e["ts"], to_json(e), received_at],
                )
                if cur.rowcount == 1:
                    new += 1
                else:
                    dup += 1
        return new, dup

    def events(self, device_id: str) -> list[dict[str, Any]]:
        rows = self.db.rows(
            "SELECT body FROM events WHERE device_id = ? ORDER BY ts, id", [device_id]
        )
        return [json.loads(r["body"]) for r in rows]

    def play_counts(self, device_ids: Iterable[str], since: str, until: str) -> list[PlayCount]:
        """Proof-of-play counts per device, playlist, item and language in [since, until)."""
        rows = self._plays_per(
            "json_extract(body, '$.language') AS language", "1, 2, 3, 4", device_ids, since, until
        )
        return [PlayCount(**r) for r in rows]

    def daily_plays(self, device_ids: Iterable[str], since: str, until: str) -> list[DailyPlays]:
        """Proof of play per device, playlist, item and local day (UTC+7, Asia/Ho_Chi_Minh
        has no daylight saving) for records in [since, until)."""
        rows = self._plays_per(
            "date(ts, '+7 hours') AS day", "4, 1, 2, 3", device_ids, since, until
        )
        return [DailyPlays(**r) for r in rows]

    def _plays_per(
        self, column: str, order: str, device_ids: Iterable[str], since: str, until: str
    ) -> list[Row]:
        """Play records of these devices in [since, until), counted and their durations
        summed per device, playlist, item and ``column`` (an SQL expression with its name),
        ordered by ``order`` (column numbers)."""
        wanted = sorted(set(device_ids))
        if not wanted:
            return []
        return self.db.rows(
            f"""SELECT device_id,
                       json_extract(body, '$.playlist_id') AS playlist_id,
                       json_extract(body, '$.item_id') AS item_id,
                       {column},
                       count(*) AS plays,
                       coalesce(sum(json_extract(body, '$.duration_ms')), 0) AS duration_ms
                FROM events WHERE kind = 'play' AND device_id IN ({marks(wanted)})
                  AND ts >= ? AND ts < ?
                GROUP BY 1, 2, 3, 4 ORDER BY {order}""",
            [*wanted, since, until],
        )

    def _feedback_where(
        self,
        device_ids: Iterable[str],
        since: str | None,
        until: str | None,
        rating: int | None,
        language: str | None,
    ) -> tuple[str, list[Any]]:
        wanted = sorted(set(device_ids))
        where = [f"kind = 'feedback' AND device_id IN ({marks(wanted)})"]
        args: list[Any] = list(wanted)
        optional = (
            ("ts >= ?", since),
            ("ts < ?", until),
            ("json_extract(body, '$.rating') = ?", rating),
            ("json_extract(body, '$.language') = ?", language),
        )
        for clause, value in optional:
            if value is not None:
                where.append(clause)
                args.append(value)
        return " AND ".join(where), args

    def feedback(
        self,
        device_ids: Iterable[str],
        since: str | None = None,
        until: str | None = None,
        rating: int | None = None,
        language: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> tuple[list[FeedbackRecord], int]:
        """Feedback records of these devices in [since, until), newest first, and how many
        match in all (for paging)."""
        ids = list(device_ids)
        if not ids:
            return [], 0
        where, args = self._feedback_where(ids, since, until, rating, language)
        total = self.db.one(f"SELECT count(*) AS n FROM events WHERE {where}", args)
        rows = self.db.rows(
            f"""SELECT id, device_id, ts, received_at, body FROM events WHERE {where}
                ORDER BY ts DESC, id LIMIT ? OFFSET ?""",
            [*args, limit, offset],
        )
        out = []
        for r in rows:
            body = json.loads(r["body"])
            out.append(
                FeedbackRecord(
                    id=r["id"],
                    device_id=r["device_id"],
                    ts=r["ts"],
                    received_at=r["received_at"],
                    rating=int(body["rating"]),
                    language=str(body["language"]),
                    page_id=body.get("page_id"),
                    comment=body.get("comment"),
                )
            )
        return out, int(total["n"]) if total else 0

    def feedback_counts(
        self, device_ids: Iterable[str], since: str, until: str
    ) -> list[FeedbackCount]:
        """Feedback records per device, rating and language in [since, until)."""
        ids = list(device_ids)
        if not ids:
            return []
        where, args = self._feedback_where(ids, since, until, None, None)
        rows = self.db.rows(
            f"""SELECT device_id, json_extract(body, '$.rating') AS rating,
                       json_extract(body, '$.language') AS language, count(*) AS count
                FROM events WHERE {where} GROUP BY 1, 2, 3 ORDER BY 1, 2, 3""",
            args,
        )
        return [FeedbackCount(**r) for r in rows]

    def prune_events(self, received_before: str) -> int:
        """Delete records the server received before the given time; how many."""
        return self.db.write("DELETE FROM events WHERE received_at < ?", [received_before])
