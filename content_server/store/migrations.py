"""The schema of the content server's database: every migration, in the order applied.

sqlite-utils ``Migrations`` applies the pending ones in the order they are
registered here and records each by its function name in
``_sqlite_migrations``. So a migration is never renamed (a database that has
it would run it again) and never edited once released; a schema change is a
new function at the end of this module, named ``mNNN_what_it_adds`` with a
number above every other. ``Store.open`` applies them on every open.
"""

from __future__ import annotations

from sqlite_utils import Database, Migrations

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


@MIGRATIONS()
def m101_accounts_assets_drafts_pages(db: Database) -> None:
    """Disabled users, a write-once audit log, asset owners and media facts,
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


@MIGRATIONS()
def m201_fleet_health_alerts(db: Database) -> None:
    """Live device health from MQTT, heartbeat history, signed alerts, screenshots."""
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


@MIGRATIONS()
def m302_events_received_at(db: Database) -> None:
    """Records are pruned by when the server received them."""
    db.execute("CREATE INDEX IF NOT EXISTS events_received_at ON events (received_at)")


@MIGRATIONS()
def m305_relays(db: Database) -> None:
    """Gate relays: the MQTT account each relay's bridge uses on the city broker."""
    db.execute(
        """CREATE TABLE relays (
            site_id TEXT PRIMARY KEY,           -- the gate it serves (its whole subtree)
            username TEXT NOT NULL UNIQUE,      -- the bridge's MQTT user, relay-<site>
            password_hash TEXT NOT NULL,        -- Mosquitto's $7$ form; the password is in
                                                -- the relay's mosquitto.conf only
            updated_at TEXT NOT NULL)"""
    )


@MIGRATIONS()
def m401_device_names(db: Database) -> None:
    """A device's name as people call it, given when it is enrolled over the API or admin."""
    db.execute(
        """CREATE TABLE device_names (
            device_id TEXT PRIMARY KEY,
            name TEXT NOT NULL)"""
    )


@MIGRATIONS()
def m411_device_uptime_days(db: Database) -> None:
    """Seconds each device was heard per local day (heartbeats are pruned after a week;
    uptime reports cover a year). Fed by the MQTT ingest, see ``uptime.py``."""
    db.execute(
        """CREATE TABLE device_uptime_days (
            device_id TEXT NOT NULL,
            day TEXT NOT NULL,                  -- local date (Asia/Ho_Chi_Minh), 2026-12-01
            online_s REAL NOT NULL,             -- seconds heard that day, at most 86400
            PRIMARY KEY (device_id, day))"""
    )


@MIGRATIONS()
def m421_feedback_index(db: Database) -> None:
    """Kiosk feedback is read by kind and time (``GET /feedback``, ``/reports/feedback``)."""
    db.execute("CREATE INDEX IF NOT EXISTS events_kind_device_ts ON events (kind, device_id, ts)")


@MIGRATIONS()
def m431_layouts(db: Database) -> None:
    """Screen layouts per site (inherited down the tree) and the ticker's notices."""
    db.execute(
        """CREATE TABLE layouts (
            site_id TEXT PRIMARY KEY,           -- applies here and below, unless a site
                                                -- below has its own
            orientation TEXT NOT NULL CHECK (orientation IN ('landscape', 'portrait')),
            header INTEGER NOT NULL,            -- 1: the site's name, date and clock on top
            ticker INTEGER NOT NULL,            -- 1: notices scroll along the bottom
            title TEXT NOT NULL,                -- JSON {lang: text}; {}: the device's site name
            updated_at TEXT NOT NULL)"""
    )
    db.execute(
        """CREATE TABLE ticker_notices (
            id TEXT PRIMARY KEY,
            site_id TEXT NOT NULL,              -- shown at this site and every site below
            position INTEGER NOT NULL,
            texts TEXT NOT NULL,                -- JSON {lang: text}, one line each
            until TEXT,                         -- NULL: until deleted
            updated_at TEXT NOT NULL)"""
    )


@MIGRATIONS()
def m432_playlist_bilingual(db: Database) -> None:
    """A playlist's languages one card after another (no row), or two side by side."""
    db.execute(
        """CREATE TABLE playlist_bilingual (
            playlist_id TEXT PRIMARY KEY,       -- a live playlist (drafts keep it in their JSON)
            mode TEXT NOT NULL CHECK (mode IN ('side_by_side')))"""
    )
