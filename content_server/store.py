"""The database: every SQL statement of the content server, and the schema's migrations.

SQLite through sqlite-utils, in WAL mode, so the server reads while a command
such as ``content-server publish`` writes. One connection per ``Store``, used
from any thread under a lock (FastAPI runs blocking routes in a thread pool).
A write that spans several tables runs inside ``with store.transaction():``,
so nothing is ever half stored. The schema is created and upgraded by the
``MIGRATIONS`` set (sqlite-utils 4 ``Migrations``), applied on every open.

Times are stored as ``signage_core.timefmt`` strings (UTC, ``Z``), which sort
as text. What the rows mean is left to the callers; this module only stores.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlite_utils import Database, Migrations

from .models import Asset, Device, Playlist, Site, User

MIGRATIONS = Migrations("content_server")


@MIGRATIONS()
def m001_initial(db: Database) -> None:
    db.execute(
        """CREATE TABLE sites (
            id TEXT PRIMARY KEY,
            parent_id TEXT,
            name TEXT NOT NULL,                 -- JSON {lang: text}
            languages TEXT,                     -- JSON list, NULL: inherited
            required_languages TEXT,            -- JSON list, NULL: inherited
            updated_at TEXT NOT NULL)"""
    )
    db.execute(
        """CREATE TABLE devices (
            id TEXT PRIMARY KEY,
            site_id TEXT NOT NULL,
            token_hash TEXT NOT NULL UNIQUE,    -- sha256 hex of the bearer token
            mqtt_password_hash TEXT NOT NULL,   -- Mosquitto $7$ hash
            created_at TEXT NOT NULL,
            revoked INTEGER NOT NULL DEFAULT 0)"""
    )
    db.execute(
        """CREATE TABLE users (
            username TEXT PRIMARY KEY,
            password_hash TEXT NOT NULL,        -- scrypt, see accounts.py
            role TEXT NOT NULL CHECK (role IN ('admin', 'editor', 'viewer')),
            site_id TEXT,                       -- NULL: every site
            created_at TEXT NOT NULL)"""
    )
    db.execute(
        """CREATE TABLE user_tokens (
            token_hash TEXT PRIMARY KEY,        -- sha256 hex of the bearer token
            username TEXT NOT NULL,
            issued_at TEXT NOT NULL,
            expires_at TEXT NOT NULL)"""
    )
    db.execute(
        """CREATE TABLE assets (
            sha256 TEXT PRIMARY KEY,
            size INTEGER NOT NULL,
            media_type TEXT NOT NULL,
            original_name TEXT NOT NULL,
            created_at TEXT NOT NULL)"""
    )
    db.execute(
        """CREATE TABLE playlists (
            id TEXT PRIMARY KEY,
            site_id TEXT NOT NULL,
            name TEXT NOT NULL,                 -- JSON {lang: text}
            priority INTEGER NOT NULL,
            fallback INTEGER NOT NULL,
            schedule TEXT,                      -- JSON, NULL: always
            items TEXT NOT NULL,                -- JSON list, manifest form
            updated_at TEXT NOT NULL)"""
    )
    # AUTOINCREMENT: a version number is never handed out twice, even after deletes.
    db.execute(
        """CREATE TABLE publishes (
            version INTEGER PRIMARY KEY AUTOINCREMENT,
            published_at TEXT NOT NULL,
            user TEXT NOT NULL,
            reason TEXT NOT NULL)"""
    )
    db.execute(
        """CREATE TABLE manifests (
            device_id TEXT NOT NULL,
            version INTEGER NOT NULL,
            envelope BLOB NOT NULL,             -- canonical JSON bytes, served as they are
            issued_at TEXT NOT NULL,
            expires_at TEXT NOT NULL,
            PRIMARY KEY (device_id, version))"""
    )
    db.execute(
        """CREATE TABLE events (
            id TEXT PRIMARY KEY,                -- the device's UUID: a resend is ignored
            device_id TEXT NOT NULL,
            kind TEXT NOT NULL,
            ts TEXT NOT NULL,
            body TEXT NOT NULL,                 -- JSON, the record as sent
            received_at TEXT NOT NULL)"""
    )
    db.execute("CREATE INDEX events_device_ts ON events (device_id, ts)")
    db.execute(
        """CREATE TABLE audit (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            ts TEXT NOT NULL,
            user TEXT NOT NULL,
            action TEXT NOT NULL,
            target TEXT NOT NULL,
            address TEXT NOT NULL,
            detail TEXT NOT NULL)"""
    )


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _opt_json(raw: str | None) -> Any:
    return None if raw is None else json.loads(raw)


class Store:
    """The content server's database. Open with ``Store.open(path)``; close when done."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._lock = threading.RLock()

    @classmethod
    def open(cls, path: Path) -> Store:
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
        """Everything inside commits together or not at all (nested: a savepoint)."""
        with self._lock, self._db.atomic():
            yield

    def _rows(self, sql: str, params: Iterable[Any] = ()) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._db.query(sql, list(params)))

    def _one(self, sql: str, params: Iterable[Any] = ()) -> dict[str, Any] | None:
        rows = self._rows(sql, params)
        return rows[0] if rows else None

    def _write(self, sql: str, params: Iterable[Any] = ()) -> int:
        with self.transaction():
            return int(self._db.execute(sql, list(params)).rowcount)

    def data_version(self) -> int:
        """Changes when another connection (another process) commits; cheap to ask."""
        with self._lock:
            return int(self._db.execute("PRAGMA data_version").fetchone()[0])

    def dump(self) -> str:
        """The whole database as SQL text (tests compare it before and after)."""
        with self._lock:
            return "\n".join(self._db.conn.iterdump())

    # --- sites -------------------------------------------------------------

    @staticmethod
    def _site(r: Mapping[str, Any]) -> Site:
        return Site(
            id=r["id"],
            parent_id=r["parent_id"],
            name=json.loads(r["name"]),
            languages=_opt_json(r["languages"]),
            required_languages=_opt_json(r["required_languages"]),
        )

    def sites(self) -> dict[str, Site]:
        return {r["id"]: self._site(r) for r in self._rows("SELECT * FROM sites ORDER BY id")}

    def put_site(self, site: Site, now: str) -> None:
        self._write(
            """INSERT INTO sites (id, parent_id, name, languages, required_languages, updated_at)
               VALUES (?, ?, ?, ?, ?, ?)
               ON CONFLICT (id) DO UPDATE SET parent_id = excluded.parent_id,
                 name = excluded.name, languages = excluded.languages,
                 required_languages = excluded.required_languages,
                 updated_at = excluded.updated_at""",
            [
                site.id,
                site.parent_id,
                _json(site.name),
                None if site.languages is None else _json(site.languages),
                None if site.required_languages is None else _json(site.required_languages),
                now,
            ],
        )

    # --- devices -----------------------------------------------------------

    @staticmethod
    def _device(r: Mapping[str, Any]) -> Device:
        return Device(
            id=r["id"],
            site_id=r["site_id"],
            token_hash=r["token_hash"],
            mqtt_password_hash=r["mqtt_password_hash"],
            created_at=r["created_at"],
            revoked=bool(r["revoked"]),
        )

    def devices(self, include_revoked: bool = False) -> list[Device]:
        where = "" if include_revoked else "WHERE revoked = 0"
        return [self._device(r) for r in self._rows(f"SELECT * FROM devices {where} ORDER BY id")]

    def device(self, device_id: str) -> Device | None:
        r = self._one("SELECT * FROM devices WHERE id = ?", [device_id])
        return None if r is None else self._device(r)

    def put_device(self, device: Device) -> None:
        """Insert a device, or replace its site and credentials (re-enrolment)."""
        self._write(
            """INSERT INTO devices
                 (id, site_id, token_hash, mqtt_password_hash, created_at, revoked)
               VALUES (?, ?, ?, ?, ?, ?)
               ON CONFLICT (id) DO UPDATE SET site_id = excluded.site_id,
                 token_hash = excluded.token_hash,
                 mqtt_password_hash = excluded.mqtt_password_hash,
                 revoked = excluded.revoked""",
            [
                device.id,
                device.site_id,
                device.token_hash,
                device.mqtt_password_hash,
                device.created_at,
                int(device.revoked),
            ],
        )

    def device_tokens(self) -> dict[str, str]:
        """``{token hash: device id}`` of every device that is not revoked."""
        rows = self._rows("SELECT token_hash, id FROM devices WHERE revoked = 0")
        return {r["token_hash"]: r["id"] for r in rows}

    # --- users and their sign-in tokens ------------------------------------

    @staticmethod
    def _user(r: Mapping[str, Any]) -> User:
        return User(r["username"], r["password_hash"], r["role"], r["site_id"])

    def user(self, username: str) -> User | None:
        r = self._one("SELECT * FROM users WHERE username = ?", [username])
        return None if r is None else self._user(r)

    def add_user(self, user: User, now: str) -> None:
        self._write(
            "INSERT INTO users (username, password_hash, role, site_id, created_at)"
            " VALUES (?, ?, ?, ?, ?)",
            [user.username, user.password_hash, user.role, user.site_id, now],
        )

    def add_user_token(
        self, token_hash: str, username: str, issued_at: str, expires_at: str
    ) -> None:
        with self.transaction():
            self._db.execute("DELETE FROM user_tokens WHERE expires_at <= ?", [issued_at])
            self._db.execute(
                "INSERT INTO user_tokens (token_hash, username, issued_at, expires_at)"
                " VALUES (?, ?, ?, ?)",
                [token_hash, username, issued_at, expires_at],
            )

    def user_by_token(self, token_hash: str, now: str) -> User | None:
        r = self._one(
            """SELECT u.* FROM user_tokens t JOIN users u ON u.username = t.username
               WHERE t.token_hash = ? AND t.expires_at > ?""",
            [token_hash, now],
        )
        return None if r is None else self._user(r)

    # --- assets ------------------------------------------------------------

    def asset(self, sha256: str) -> Asset | None:
        r = self._one("SELECT * FROM assets WHERE sha256 = ?", [sha256])
        return None if r is None else Asset(**r)

    def assets(self, hashes: Iterable[str]) -> dict[str, Asset]:
        wanted = sorted(set(hashes))
        if not wanted:
            return {}
        marks = ", ".join("?" * len(wanted))
        rows = self._rows(f"SELECT * FROM assets WHERE sha256 IN ({marks})", wanted)
        return {r["sha256"]: Asset(**r) for r in rows}

    def asset_types(self) -> dict[str, str]:
        """``{sha256: media type}`` of every stored asset."""
        return {
            r["sha256"]: r["media_type"]
            for r in self._rows("SELECT sha256, media_type FROM assets")
        }

    def add_asset(self, asset: Asset) -> bool:
        """Record an asset; False if the same bytes were stored before."""
        return (
            self._write(
                "INSERT OR IGNORE INTO assets (sha256, size, media_type, original_name, created_at)"
                " VALUES (?, ?, ?, ?, ?)",
                [asset.sha256, asset.size, asset.media_type, asset.original_name, asset.created_at],
            )
            == 1
        )

    # --- playlists ---------------------------------------------------------

    @staticmethod
    def _playlist(r: Mapping[str, Any]) -> Playlist:
        return Playlist(
            id=r["id"],
            site_id=r["site_id"],
            name=json.loads(r["name"]),
            priority=r["priority"],
            fallback=bool(r["fallback"]),
            schedule=_opt_json(r["schedule"]),
            items=json.loads(r["items"]),
            updated_at=r["updated_at"],
        )

    def playlists(self) -> list[Playlist]:
        return [self._playlist(r) for r in self._rows("SELECT * FROM playlists ORDER BY id")]

    def put_playlist(self, p: Playlist) -> None:
        self._write(
            """INSERT INTO playlists (id, site_id, name, priority, fallback, schedule, items,
                                      updated_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT (id) DO UPDATE SET site_id = excluded.site_id, name = excluded.name,
                 priority = excluded.priority, fallback = excluded.fallback,
                 schedule = excluded.schedule, items = excluded.items,
                 updated_at = excluded.updated_at""",
            [
                p.id,
                p.site_id,
                _json(p.name),
                p.priority,
                int(p.fallback),
                None if p.schedule is None else _json(p.schedule),
                _json(p.items),
                p.updated_at,
            ],
        )

    # --- publishing --------------------------------------------------------

    def new_version(self, published_at: str, user: str, reason: str) -> int:
        """A manifest version never used before, greater than every earlier one."""
        with self.transaction():
            cur = self._db.execute(
                "INSERT INTO publishes (published_at, user, reason) VALUES (?, ?, ?)",
                [published_at, user, reason],
            )
            return int(cur.lastrowid or 0)

    def add_manifest(
        self, device_id: str, version: int, envelope: bytes, issued_at: str, expires_at: str
    ) -> None:
        self._write(
            "INSERT INTO manifests (device_id, version, envelope, issued_at, expires_at)"
            " VALUES (?, ?, ?, ?, ?)",
            [device_id, version, envelope, issued_at, expires_at],
        )

    def latest_manifest_versions(self) -> dict[str, tuple[int, str]]:
        """``{device id: (newest version, its expires_at)}`` for every device with a manifest."""
        rows = self._rows(
            """SELECT m.device_id, m.version, m.expires_at FROM manifests m
               JOIN (SELECT device_id, max(version) AS version FROM manifests GROUP BY device_id)
               AS newest USING (device_id, version)"""
        )
        return {r["device_id"]: (r["version"], r["expires_at"]) for r in rows}

    def manifest_envelope(self, device_id: str, version: int) -> bytes | None:
        r = self._one(
            "SELECT envelope FROM manifests WHERE device_id = ? AND version = ?",
            [device_id, version],
        )
        return None if r is None else bytes(r["envelope"])

    # --- events ------------------------------------------------------------

    def add_events(
        self, device_id: str, events: Iterable[Mapping[str, Any]], received_at: str
    ) -> tuple[int, int]:
        """Store records by id, ignoring ids already stored: ``(new, duplicates)``."""
        new = dup = 0
        with self.transaction():
            for e in events:
                cur = self._db.execute(
                    "INSERT OR IGNORE INTO events (id, device_id, kind, ts, body, received_at)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    [e["id"], device_id, e["kind"], e["ts"], _json(e), received_at],
                )
                if cur.rowcount == 1:
                    new += 1
                else:
                    dup += 1
        return new, dup

    def events(self, device_id: str) -> list[dict[str, Any]]:
        rows = self._rows(
            "SELECT body FROM events WHERE device_id = ? ORDER BY ts, id", [device_id]
        )
        return [json.loads(r["body"]) for r in rows]

    # --- audit -------------------------------------------------------------

    def audit(
        self,
        ts: str,
        user: str,
        action: str,
        target: str,
        address: str,
        detail: Mapping[str, Any] | None = None,
    ) -> None:
        self._write(
            "INSERT INTO audit (ts, user, action, target, address, detail)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            [ts, user, action, target, address, _json(dict(detail or {}))],
        )

    def audit_log(self) -> list[dict[str, Any]]:
        rows = self._rows("SELECT ts, user, action, target, address, detail FROM audit ORDER BY id")
        return [{**r, "detail": json.loads(r["detail"])} for r in rows]
