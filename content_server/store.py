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
            manifest_ttl_days=r["manifest_ttl_days"],
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
        return User(r["username"], r["password_hash"], r["role"], r["site_id"], bool(r["disabled"]))

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
               WHERE t.token_hash = ? AND t.expires_at > ? AND u.disabled = 0""",
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
            groups=json.loads(r["groups"]),
        )

    def playlists(self) -> list[Playlist]:
        return [self._playlist(r) for r in self._rows("SELECT * FROM playlists ORDER BY id")]

    def put_playlist(self, p: Playlist) -> None:
        self._write(
            """INSERT INTO playlists (id, site_id, name, priority, fallback, schedule, items,
                                      updated_at, groups)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT (id) DO UPDATE SET site_id = excluded.site_id, name = excluded.name,
                 priority = excluded.priority, fallback = excluded.fallback,
                 schedule = excluded.schedule, items = excluded.items,
                 updated_at = excluded.updated_at, groups = excluded.groups""",
            [
                p.id,
                p.site_id,
                _json(p.name),
                p.priority,
                int(p.fallback),
                None if p.schedule is None else _json(p.schedule),
                _json(p.items),
                p.updated_at,
                _json(p.groups),
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

    def manifest_versions(self, device_id: str) -> list[int]:
        """Every version of the device's manifest still stored, newest first."""
        rows = self._rows(
            "SELECT version FROM manifests WHERE device_id = ? ORDER BY version DESC", [device_id]
        )
        return [int(r["version"]) for r in rows]

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

    # --- accounts (issue 3) -------------------------------------------------

    def users(self) -> list[User]:
        return [self._user(r) for r in self._rows("SELECT * FROM users ORDER BY username")]

    def set_user_disabled(self, username: str, disabled: bool) -> None:
        with self.transaction():
            self._db.execute(
                "UPDATE users SET disabled = ? WHERE username = ?", [int(disabled), username]
            )
            if disabled:
                self._db.execute("DELETE FROM user_tokens WHERE username = ?", [username])

    def set_password_hash(self, username: str, password_hash: str) -> None:
        """Change a password; every sign-in token of the user stops working."""
        with self.transaction():
            self._db.execute(
                "UPDATE users SET password_hash = ? WHERE username = ?", [password_hash, username]
            )
            self._db.execute("DELETE FROM user_tokens WHERE username = ?", [username])

    def set_site_ttl(self, site_id: str, days: int | None) -> None:
        self._write("UPDATE sites SET manifest_ttl_days = ? WHERE id = ?", [days, site_id])

    # --- uploaded assets: owners and what the media checks found ------------

    def add_asset_owner(
        self, sha256: str, site_id: str, original_name: str, created_at: str, user: str
    ) -> bool:
        """Give a site the use of stored bytes; False if it had it already."""
        return (
            self._write(
                "INSERT OR IGNORE INTO asset_owners"
                " (sha256, site_id, original_name, created_at, created_by) VALUES (?, ?, ?, ?, ?)",
                [sha256, site_id, original_name, created_at, user],
            )
            == 1
        )

    def asset_owners(self, sha256: str) -> list[str]:
        rows = self._rows("SELECT site_id FROM asset_owners WHERE sha256 = ?", [sha256])
        return [r["site_id"] for r in rows]

    def owned_assets(
        self, site_ids: Iterable[str], order: str = "created_at"
    ) -> list[dict[str, Any]]:
        """Assets the sites own, with their media facts; ``order`` is a checked column name."""
        wanted = sorted(set(site_ids))
        if not wanted or order not in ("created_at", "original_name", "sha256"):
            return []
        marks = ", ".join("?" * len(wanted))
        return self._rows(
            f"""SELECT o.sha256, o.site_id, o.original_name, o.created_at, o.created_by,
                       a.size, a.media_type, m.width, m.height, m.duration_s, m.fps,
                       m.frames, m.thumbnail
                FROM asset_owners o JOIN assets a USING (sha256)
                LEFT JOIN asset_media m USING (sha256)
                WHERE o.site_id IN ({marks}) ORDER BY o.{order}, o.sha256, o.site_id""",
            wanted,
        )

    def put_asset_media(self, sha256: str, facts: Mapping[str, Any]) -> None:
        self._write(
            """INSERT OR REPLACE INTO asset_media
                 (sha256, width, height, duration_s, fps, frames, thumbnail)
               VALUES (?, ?, ?, ?, ?, ?, ?)""",
            [
                sha256,
                *(
                    facts.get(k)
                    for k in ("width", "height", "duration_s", "fps", "frames", "thumbnail")
                ),
            ],
        )

    def asset_media(self, sha256: str) -> dict[str, Any] | None:
        return self._one("SELECT * FROM asset_media WHERE sha256 = ?", [sha256])

    # --- playlist drafts and published revisions ----------------------------

    def playlist(self, playlist_id: str) -> Playlist | None:
        r = self._one("SELECT * FROM playlists WHERE id = ?", [playlist_id])
        return None if r is None else self._playlist(r)

    @staticmethod
    def _draft(r: Mapping[str, Any]) -> Playlist:
        body = json.loads(r["body"])
        return Playlist(id=r["id"], updated_at=r["updated_at"], **body)

    def drafts(self) -> list[Playlist]:
        return [self._draft(r) for r in self._rows("SELECT * FROM playlist_drafts ORDER BY id")]

    def draft(self, playlist_id: str) -> Playlist | None:
        r = self._one("SELECT * FROM playlist_drafts WHERE id = ?", [playlist_id])
        return None if r is None else self._draft(r)

    def put_draft(self, p: Playlist, user: str) -> None:
        self._write(
            """INSERT INTO playlist_drafts (id, site_id, body, updated_at, updated_by)
               VALUES (?, ?, ?, ?, ?)
               ON CONFLICT (id) DO UPDATE SET site_id = excluded.site_id, body = excluded.body,
                 updated_at = excluded.updated_at, updated_by = excluded.updated_by""",
            [p.id, p.site_id, _json(p.content()), p.updated_at, user],
        )

    def add_revision(self, p: Playlist, published_at: str, user: str, note: str) -> int:
        """Record published content; the new revision number (1, 2, ... per playlist)."""
        with self.transaction():
            row = self._db.execute(
                "SELECT coalesce(max(revision), 0) + 1 FROM playlist_revisions"
                " WHERE playlist_id = ?",
                [p.id],
            ).fetchone()
            revision = int(row[0])
            self._db.execute(
                """INSERT INTO playlist_revisions
                     (playlist_id, revision, body, published_at, published_by, note)
                   VALUES (?, ?, ?, ?, ?, ?)""",
                [p.id, revision, _json(p.content()), published_at, user, note],
            )
            return revision

    def set_revision_version(self, playlist_id: str, revision: int, version: int | None) -> None:
        self._write(
            "UPDATE playlist_revisions SET version = ? WHERE playlist_id = ? AND revision = ?",
            [version, playlist_id, revision],
        )

    def revisions(self, playlist_id: str) -> list[dict[str, Any]]:
        rows = self._rows(
            "SELECT * FROM playlist_revisions WHERE playlist_id = ? ORDER BY revision",
            [playlist_id],
        )
        return [{**r, "body": json.loads(r["body"])} for r in rows]

    # --- kiosk pages ---------------------------------------------------------

    def pages(self) -> list[dict[str, Any]]:
        rows = self._rows("SELECT * FROM pages ORDER BY site_id, position, id")
        return [{**r, "variants": json.loads(r["variants"])} for r in rows]

    def put_page(self, page: Mapping[str, Any], now: str) -> None:
        self._write(
            """INSERT INTO pages (id, site_id, parent_id, kind, position, variants, updated_at)
               VALUES (?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT (id) DO UPDATE SET site_id = excluded.site_id,
                 parent_id = excluded.parent_id, kind = excluded.kind,
                 position = excluded.position, variants = excluded.variants,
                 updated_at = excluded.updated_at""",
            [
                page["id"],
                page["site_id"],
                page.get("parent_id"),
                page["kind"],
                page.get("position", 0),
                _json(page["variants"]),
                now,
            ],
        )

    def delete_page(self, page_id: str) -> int:
        return self._write("DELETE FROM pages WHERE id = ?", [page_id])

    # --- reports and the audit log, read ------------------------------------

    def play_counts(
        self, device_ids: Iterable[str], since: str, until: str
    ) -> list[dict[str, Any]]:
        """Proof-of-play counts per device, playlist, item and language in [since, until)."""
        wanted = sorted(set(device_ids))
        if not wanted:
            return []
        marks = ", ".join("?" * len(wanted))
        return self._rows(
            f"""SELECT device_id,
                       json_extract(body, '$.playlist_id') AS playlist_id,
                       json_extract(body, '$.item_id') AS item_id,
                       json_extract(body, '$.language') AS language,
                       count(*) AS plays,
                       coalesce(sum(json_extract(body, '$.duration_ms')), 0) AS duration_ms
                FROM events WHERE kind = 'play' AND device_id IN ({marks})
                  AND ts >= ? AND ts < ?
                GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4""",
            [*wanted, since, until],
        )

    def audit_entries(
        self, *, user: str | None = None, action: str | None = None, limit: int, offset: int
    ) -> list[dict[str, Any]]:
        rows = self._rows(
            """SELECT id, ts, user, action, target, address, detail FROM audit
               WHERE (? IS NULL OR user = ?) AND (? IS NULL OR action = ?)
               ORDER BY id DESC LIMIT ? OFFSET ?""",
            [user, user, action, action, limit, offset],
        )
        return [{**r, "detail": json.loads(r["detail"])} for r in rows]

    # --- issue 8: bounded device data ---------------------------------------

    def prune_events(self, received_before: str) -> int:
        """Delete records the server received before the given time; how many."""
        return self._write("DELETE FROM events WHERE received_at < ?", [received_before])

    def device_for_token(self, token_hash: str) -> str | None:
        """The id of the device (not revoked) with this token hash, if any."""
        r = self._one("SELECT id FROM devices WHERE token_hash = ? AND revoked = 0", [token_hash])
        return None if r is None else str(r["id"])


@MIGRATIONS()
def m101_accounts_assets_drafts_pages(db: Database) -> None:
    """Issue 3: disabled users, a write-once audit log, asset owners and media facts,
    playlist drafts and revisions, kiosk pages, a per-site manifest lifetime."""
    db.execute("ALTER TABLE users ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0")
    db.execute("ALTER TABLE sites ADD COLUMN manifest_ttl_days INTEGER")  # NULL: inherited
    for verb in ("UPDATE", "DELETE"):
        db.execute(
            f"""CREATE TRIGGER audit_no_{verb.lower()} BEFORE {verb} ON audit
                BEGIN SELECT RAISE(ABORT, 'the audit log is write-once'); END"""
        )
    db.execute(
        """CREATE TABLE asset_owners (
            sha256 TEXT NOT NULL,
            site_id TEXT NOT NULL,              -- the same bytes may serve several sites
            original_name TEXT NOT NULL,
            created_at TEXT NOT NULL,
            created_by TEXT NOT NULL,
            PRIMARY KEY (sha256, site_id))"""
    )
    db.execute(
        """CREATE TABLE asset_media (
            sha256 TEXT PRIMARY KEY,
            width INTEGER, height INTEGER,
            duration_s REAL, fps REAL, frames INTEGER,   -- videos only
            thumbnail TEXT)                              -- sha256 of a PNG asset, videos only"""
    )
    db.execute(
        """CREATE TABLE playlist_drafts (
            id TEXT PRIMARY KEY,
            site_id TEXT NOT NULL,
            body TEXT NOT NULL,                 -- JSON, Playlist.content()
            updated_at TEXT NOT NULL,
            updated_by TEXT NOT NULL)"""
    )
    db.execute(
        """CREATE TABLE playlist_revisions (
            playlist_id TEXT NOT NULL,
            revision INTEGER NOT NULL,
            body TEXT NOT NULL,                 -- JSON, Playlist.content() as published
            published_at TEXT NOT NULL,
            published_by TEXT NOT NULL,
            note TEXT NOT NULL,
            version INTEGER,                    -- the manifest version it went out in
            PRIMARY KEY (playlist_id, revision))"""
    )
    db.execute(
        """CREATE TABLE pages (
            id TEXT PRIMARY KEY,
            site_id TEXT NOT NULL,
            parent_id TEXT,                     -- NULL: a top-level category
            kind TEXT NOT NULL CHECK (kind IN ('category', 'page')),
            position INTEGER NOT NULL,
            variants TEXT NOT NULL,             -- JSON {lang: {title, body, image?}}
            updated_at TEXT NOT NULL)"""
    )


@MIGRATIONS()
def m201_fleet_health_alerts(db: Database) -> None:
    """Issue 5: live device health from MQTT, heartbeat history, signed alerts, screenshots."""
    db.execute(
        """CREATE TABLE device_health (
            device_id TEXT PRIMARY KEY,
            session INTEGER NOT NULL DEFAULT 0, -- newest MQTT session seen
            status_state TEXT,                  -- 'online' | 'offline' as the device/will said
            status_at TEXT,                     -- when the server received that status
            heartbeat TEXT,                     -- JSON, the newest heartbeat as sent
            heartbeat_at TEXT,                  -- when the server received it
            interval_s REAL)                    -- the device's heartbeat interval"""
    )
    db.execute(
        """CREATE TABLE heartbeats (
            device_id TEXT NOT NULL,
            received_at TEXT NOT NULL,
            body TEXT NOT NULL)                 -- JSON, the heartbeat as sent"""
    )
    db.execute("CREATE INDEX heartbeats_device_time ON heartbeats (device_id, received_at)")
    db.execute(
        """CREATE TABLE alerts (
            id TEXT PRIMARY KEY,
            site_id TEXT NOT NULL,
            version INTEGER NOT NULL,           -- grows with every alert or cancel signed
            state TEXT NOT NULL CHECK (state IN ('active', 'cancelled')),
            severity TEXT NOT NULL,
            issued_at TEXT NOT NULL,
            expires_at TEXT NOT NULL,
            created_by TEXT NOT NULL,
            envelope TEXT NOT NULL)             -- canonical JSON of the signed envelope"""
    )
    db.execute(
        """CREATE TABLE screenshots (
            device_id TEXT PRIMARY KEY,
            taken_at TEXT NOT NULL,
            file TEXT,                          -- name under DATA/screenshots; NULL: no screen
            note TEXT NOT NULL)"""
    )


class FleetStore:
    """The SQL of fleet health, alerts and screenshots (issue 5), over a ``Store``'s connection."""

    def __init__(self, store: Store) -> None:
        self.store = store

    # --- health --------------------------------------------------------------

    def write_health(
        self,
        statuses: Iterable[tuple[str, int, str, str]],
        heartbeats: Iterable[tuple[str, str, Mapping[str, Any], float | None]],
    ) -> None:
        """One transaction: ``(device, session, state, at)`` statuses (an older session
        never overwrites a newer one) and ``(device, at, body, interval)`` heartbeats."""
        s = self.store
        with s.transaction():
            s._db.conn.executemany(
                """INSERT INTO device_health (device_id, session, status_state, status_at)
                   VALUES (?, ?, ?, ?)
                   ON CONFLICT (device_id) DO UPDATE SET session = excluded.session,
                     status_state = excluded.status_state, status_at = excluded.status_at
                   WHERE excluded.session >= device_health.session""",
                list(statuses),
            )
            rows = [(d, at, _json(dict(body)), iv) for d, at, body, iv in heartbeats]
            s._db.conn.executemany(
                "INSERT INTO heartbeats (device_id, received_at, body) VALUES (?, ?, ?)",
                [r[:3] for r in rows],
            )
            s._db.conn.executemany(
                """INSERT INTO device_health (device_id, heartbeat, heartbeat_at, interval_s)
                   VALUES (?, ?, ?, ?)
                   ON CONFLICT (device_id) DO UPDATE SET heartbeat = excluded.heartbeat,
                     heartbeat_at = excluded.heartbeat_at,
                     interval_s = coalesce(excluded.interval_s, device_health.interval_s)""",
                [(d, body, at, iv) for d, at, body, iv in rows],
            )

    def health(self) -> dict[str, dict[str, Any]]:
        rows = self.store._rows("SELECT * FROM device_health")
        return {r["device_id"]: {**r, "heartbeat": _opt_json(r["heartbeat"])} for r in rows}

    def heartbeat_count(self, device_id: str | None = None) -> int:
        r = self.store._one(
            "SELECT count(*) AS n FROM heartbeats WHERE ? IS NULL OR device_id = ?",
            [device_id, device_id],
        )
        return int(r["n"]) if r else 0

    def prune_heartbeats(self, before: str) -> int:
        return self.store._write("DELETE FROM heartbeats WHERE received_at < ?", [before])

    def set_revoked(self, device_id: str, revoked: bool = True) -> int:
        return self.store._write(
            "UPDATE devices SET revoked = ? WHERE id = ?", [int(revoked), device_id]
        )

    # --- alerts --------------------------------------------------------------

    def next_alert_version(self) -> int:
        r = self.store._one("SELECT coalesce(max(version), 0) + 1 AS v FROM alerts")
        return int(r["v"]) if r else 1

    def put_alert(self, row: Mapping[str, Any]) -> None:
        self.store._write(
            """INSERT INTO alerts (id, site_id, version, state, severity, issued_at, expires_at,
                                   created_by, envelope)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT (id) DO UPDATE SET version = excluded.version,
                 state = excluded.state, envelope = excluded.envelope,
                 expires_at = excluded.expires_at""",
            [
                row["id"],
                row["site_id"],
                row["version"],
                row["state"],
                row["severity"],
                row["issued_at"],
                row["expires_at"],
                row["created_by"],
                row["envelope"],
            ],
        )

    def alert(self, alert_id: str) -> dict[str, Any] | None:
        return self.store._one("SELECT * FROM alerts WHERE id = ?", [alert_id])

    def alerts(self) -> list[dict[str, Any]]:
        return self.store._rows("SELECT * FROM alerts ORDER BY version DESC")

    def current_alerts(self) -> dict[str, dict[str, Any]]:
        """``{site: the newest alert document signed for it}`` (active or cancelled)."""
        rows = self.store._rows(
            """SELECT a.* FROM alerts a
               JOIN (SELECT site_id, max(version) AS version FROM alerts GROUP BY site_id)
               AS newest USING (site_id, version)"""
        )
        return {r["site_id"]: r for r in rows}

    # --- screenshots ---------------------------------------------------------

    def put_screenshot(self, device_id: str, taken_at: str, file: str | None, note: str) -> None:
        self.store._write(
            """INSERT INTO screenshots (device_id, taken_at, file, note) VALUES (?, ?, ?, ?)
               ON CONFLICT (device_id) DO UPDATE SET taken_at = excluded.taken_at,
                 file = excluded.file, note = excluded.note""",
            [device_id, taken_at, file, note],
        )

    def screenshot(self, device_id: str) -> dict[str, Any] | None:
        return self.store._one("SELECT * FROM screenshots WHERE device_id = ?", [device_id])


@MIGRATIONS()
def m102_device_groups(db: Database) -> None:
    """Device groups: a playlist may name groups and then goes to their members only."""
    db.execute(
        """CREATE TABLE device_groups (
            id TEXT PRIMARY KEY,
            site_id TEXT NOT NULL,              -- scope: members are devices at it or below
            name TEXT NOT NULL,
            members TEXT NOT NULL,              -- JSON list of device ids
            updated_at TEXT NOT NULL)"""
    )
    db.execute("ALTER TABLE playlists ADD COLUMN groups TEXT NOT NULL DEFAULT '[]'")


class GroupStore:
    """The SQL of device groups, over a ``Store``'s connection."""

    def __init__(self, store: Store) -> None:
        self.store = store

    @staticmethod
    def _group(r: Mapping[str, Any]) -> dict[str, Any]:
        return {**r, "members": json.loads(r["members"])}

    def groups(self) -> list[dict[str, Any]]:
        rows = self.store._rows("SELECT * FROM device_groups ORDER BY site_id, id")
        return [self._group(r) for r in rows]

    def group(self, group_id: str) -> dict[str, Any] | None:
        r = self.store._one("SELECT * FROM device_groups WHERE id = ?", [group_id])
        return None if r is None else self._group(r)

    def put_group(self, group: Mapping[str, Any], now: str) -> None:
        self.store._write(
            """INSERT INTO device_groups (id, site_id, name, members, updated_at)
               VALUES (?, ?, ?, ?, ?)
               ON CONFLICT (id) DO UPDATE SET site_id = excluded.site_id,
                 name = excluded.name, members = excluded.members,
                 updated_at = excluded.updated_at""",
            [group["id"], group["site_id"], group["name"], _json(group["members"]), now],
        )

    def delete_group(self, group_id: str) -> int:
        return self.store._write("DELETE FROM device_groups WHERE id = ?", [group_id])


@MIGRATIONS()
def m302_events_received_at(db: Database) -> None:
    """Issue 8: records are pruned by when the server received them."""
    db.execute("CREATE INDEX IF NOT EXISTS events_received_at ON events (received_at)")
