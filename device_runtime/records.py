"""The local queue of proof-of-play and feedback records (``state/records.sqlite``).

Records are the acknowledged path of the design: each gets a uuid4 and is
written to SQLite (WAL, ``synchronous=FULL``) before ``add`` returns, so a
power cut right after cannot lose it. ``flush(fetcher)`` posts the oldest in
batches to ``POST /api/v1/devices/{id}/events`` as ``{"events": [{"id",
"kind", "ts", ...}]}`` and deletes a batch only after a 2xx answer; the server
is idempotent on ``id``, so a batch sent twice (answer lost) does no harm.

A batch the server refuses as a whole (400, 422) is retried one record at a
time; a record refused alone is moved to the ``rejected`` table: kept for an
operator, never resent, never blocking the queue. Any other failure, a 429 (the
device is over its allowance at the server) included, keeps the records queued for
the next flush.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import uuid
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from signage_core.timefmt import format_time

from .clock import utc_now
from .errors import DownloadError, RecordsError
from .fetcher import Fetcher

log = logging.getLogger(__name__)

BATCH = 200
_REFUSED = (400, 413, 422)
_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    seq  INTEGER PRIMARY KEY AUTOINCREMENT,
    id   TEXT NOT NULL UNIQUE,
    body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS rejected (
    id     TEXT PRIMARY KEY,
    body   TEXT NOT NULL,
    status INTEGER NOT NULL,
    at     TEXT NOT NULL
);
"""


class RecordQueue:
    """Thread-safe: the UI thread adds, the sync worker flushes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = self._open(path)
        except (OSError, sqlite3.OperationalError) as e:  # not there, locked, no permission
            raise RecordsError(f"cannot open the record queue {path}: {e}") from e
        except sqlite3.DatabaseError as e:  # "file is not a database": corrupt
            aside = path.with_name(f"{path.name}.corrupt-{utc_now():%Y%m%dT%H%M%S}")
            log.error("records: %s is unreadable (%s); kept as %s, starting anew", path, e, aside)
            try:
                path.rename(aside)
                for suffix in ("-wal", "-shm"):
                    path.with_name(path.name + suffix).unlink(missing_ok=True)
                self._db = self._open(path)
            except (OSError, sqlite3.Error) as e2:
                raise RecordsError(f"cannot open the record queue {path}: {e2}") from e2

    @staticmethod
    def _open(path: Path) -> sqlite3.Connection:
        db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=10)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
            db.executescript(_SCHEMA)
            db.execute("SELECT count(*) FROM records").fetchone()
        except sqlite3.Error:
            db.close()
            raise
        return db

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def add(self, kind: str, ts: datetime, fields: Mapping[str, Any]) -> str:
        """Queue a record durably and return its id."""
        record_id = str(uuid.uuid4())
        event = {**fields, "id": record_id, "kind": kind, "ts": format_time(ts)}
        body = json.dumps(event, ensure_ascii=False, separators=(",", ":"))
        try:
            with self._lock:
                self._db.execute("INSERT INTO records (id, body) VALUES (?, ?)", (record_id, body))
        except sqlite3.Error as e:
            raise RecordsError(f"cannot queue a {kind} record: {e}") from e
        return record_id

    def pending(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT count(*) FROM records").fetchone()[0])

    def rejected(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT count(*) FROM rejected").fetchone()[0])

    def _oldest(self, limit: int) -> list[tuple[str, str]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT id, body FROM records ORDER BY seq LIMIT ?", (limit,)
            ).fetchall()
        return [(str(i), str(b)) for i, b in rows]

    def _delete(self, ids: list[str]) -> None:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.executemany("DELETE FROM records WHERE id = ?", [(i,) for i in ids])
            self._db.execute("COMMIT")

    def _reject(self, record_id: str, body: str, status: int) -> None:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute(
                "INSERT OR REPLACE INTO rejected (id, body, status, at) VALUES (?, ?, ?, ?)",
                (record_id, body, status, format_time(utc_now())),
            )
            self._db.execute("DELETE FROM records WHERE id = ?", (record_id,))
            self._db.execute("COMMIT")

    def flush(self, fetcher: Fetcher, batch_size: int = BATCH) -> int:
        """Send queued records until none is left or the server cannot take them; return how many
        the server acknowledged. Raise ``DownloadError`` if the server could not be reached."""
        sent = 0
        while rows := self._oldest(batch_size):
            try:
                fetcher.post_events([json.loads(body) for _, body in rows])
            except DownloadError as e:
                if e.status not in _REFUSED:
                    raise
                sent += self._one_by_one(fetcher, rows)
                continue
            self._delete([record_id for record_id, _ in rows])
            sent += len(rows)
        return sent

    def _one_by_one(self, fetcher: Fetcher, rows: list[tuple[str, str]]) -> int:
        sent = 0
        for record_id, body in rows:
            try:
                fetcher.post_events([json.loads(body)])
            except DownloadError as e:
                if e.status not in _REFUSED:
                    raise
                log.error("records: the server refuses record %s (%s); set aside", record_id, e)
                self._reject(record_id, body, e.status or 0)
                continue
            self._delete([record_id])
            sent += 1
        return sent
