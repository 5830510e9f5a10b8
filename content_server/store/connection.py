"""One SQLite connection shared by threads: the only place that runs SQL text.

SQLite through sqlite-utils, in WAL mode, so the server reads while a command
such as ``content-server publish`` writes. One connection per ``Store``, used
from any thread under a lock (FastAPI runs blocking routes in a thread pool).
The concern modules (``accounts``, ``content``, ...) call the public methods
here; nothing outside this package holds a ``Connection``'s database.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from .migrations import MIGRATIONS

Row = dict[str, Any]


def to_json(value: Any) -> str:
    """The stored form of a JSON column: canonical, so equal values store equal text."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def opt_to_json(value: Any) -> str | None:
    return None if value is None else to_json(value)


def from_json(raw: str | None) -> Any:
    """A JSON column decoded; NULL stays None."""
    return None if raw is None else json.loads(raw)


def marks(values: Sequence[Any]) -> str:
    """``?, ?, ?``: one placeholder per value, for ``IN (...)``."""
    return ", ".join("?" * len(values))


class Connection:
    """A sqlite-utils database under a re-entrant lock, migrated on open."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._lock = threading.RLock()

    @classmethod
    def open(cls, path: Path) -> Connection:
        conn = sqlite3.connect(str(path), check_same_thread=False, timeout=10.0)
        db = Database(conn)
        db.enable_wal()
        db.execute("PRAGMA synchronous=NORMAL")
        MIGRATIONS.apply(db)
        return cls(db)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Everything inside commits together or not at all (nested: a savepoint).

        The outermost one takes the write lock at once (``BEGIN IMMEDIATE``): a deferred
        transaction that reads, then writes after another process (the server, a
        command line) committed, fails at once with "database is locked" whatever the
        busy timeout; an immediate one waits its turn."""
        with self._lock:
            conn = self._db.conn
            if conn.in_transaction:
                with self._db.atomic():
                    yield
                return
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                conn.rollback()
                raise
            conn.commit()

    def rows(self, sql: str, params: Iterable[Any] = ()) -> list[Row]:
        with self._lock:
            return list(self._db.query(sql, list(params)))

    def one(self, sql: str, params: Iterable[Any] = ()) -> Row | None:
        rows = self.rows(sql, params)
        return rows[0] if rows else None

    def execute(self, sql: str, params: Iterable[Any] = ()) -> sqlite3.Cursor:
        """Run one statement; inside ``transaction()`` when it is one of several."""
        with self._lock:
            return self._db.execute(sql, list(params))

    def write(self, sql: str, params: Iterable[Any] = ()) -> int:
        """One statement in its own transaction; the number of rows it changed."""
        with self.transaction():
            return int(self._db.execute(sql, list(params)).rowcount)

    def write_many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """One statement for each row; call inside ``transaction()``."""
        with self._lock:
            self._db.conn.executemany(sql, list(rows))

    def data_version(self) -> int:
        """Changes when another connection (another process) commits; cheap to ask."""
        with self._lock:
            return int(self._db.execute("PRAGMA data_version").fetchone()[0])

    def dump(self) -> str:
        """The whole database as SQL text (tests compare it before and after)."""
        with self._lock:
            return "\n".join(self._db.conn.iterdump())
