"""What guards edit: assets and who may use them, playlists with their drafts and
published revisions, and kiosk pages."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from ..models import Asset, OwnedAsset, Page, Playlist, Revision
from .connection import Connection, Row, from_json, marks, opt_to_json, to_json

# Live playlists with their bilingual mode (a row only for side_by_side).
_PLAYLISTS = """SELECT playlists.*, playlist_bilingual.mode AS bilingual FROM playlists
               LEFT JOIN playlist_bilingual ON playlist_bilingual.playlist_id = playlists.id"""
ASSET_ORDERS = ("created_at", "original_name", "sha256")
_MEDIA_FACTS = ("width", "height", "duration_s", "fps", "frames", "thumbnail")


def _playlist(r: Row) -> Playlist:
    return Playlist(
        id=r["id"],
        site_id=r["site_id"],
        name=json.loads(r["name"]),
        priority=r["priority"],
        fallback=bool(r["fallback"]),
        schedule=from_json(r["schedule"]),
        items=json.loads(r["items"]),
        updated_at=r["updated_at"],
        groups=json.loads(r["groups"]),
        bilingual=r["bilingual"] or "sequential",
    )


def _draft(r: Row) -> Playlist:
    body = json.loads(r["body"])
    return Playlist(id=r["id"], updated_at=r["updated_at"], **body)


class ContentSql:
    """Part of ``Store``: what is shown."""

    db: Connection

    # --- assets ------------------------------------------------------------

    def asset(self, sha256: str) -> Asset | None:
        r = self.db.one("SELECT * FROM assets WHERE sha256 = ?", [sha256])
        return None if r is None else Asset(**r)

    def assets(self, hashes: Iterable[str]) -> dict[str, Asset]:
        wanted = sorted(set(hashes))
        if not wanted:
            return {}
        rows = self.db.rows(f"SELECT * FROM assets WHERE sha256 IN ({marks(wanted)})", wanted)
        return {r["sha256"]: Asset(**r) for r in rows}

    def asset_types(self) -> dict[str, str]:
        """``{sha256: media type}`` of every stored asset."""
        return {
            r["sha256"]: r["media_type"]
            for r in self.db.rows("SELECT sha256, media_type FROM assets")
        }

    def add_asset(self, asset: Asset) -> bool:
        """Record an asset; False if the same bytes were stored before."""
        return (
            self.db.write(
                "INSERT OR IGNORE INTO assets (sha256, size, media_type, original_name, created_at)"
                " VALUES (?, ?, ?, ?, ?)",
                [asset.sha256, asset.size, asset.media_type, asset.original_name, asset.created_at],
            )
            == 1
        )

    def add_asset_owner(
        self, sha256: str, site_id: str, original_name: str, created_at: str, user: str
    ) -> bool:
        """Give a site the use of stored bytes; False if it had it already."""
        return (
            self.db.write(
                "INSERT OR IGNORE INTO asset_owners"
                " (sha256, site_id, original_name, created_at, created_by) VALUES (?, ?, ?, ?, ?)",
                [sha256, site_id, original_name, created_at, user],
            )
            == 1
        )

    def asset_owners(self, sha256: str) -> list[str]:
        rows = self.db.rows("SELECT site_id FROM asset_owners WHERE sha256 = ?", [sha256])
        return [r["site_id"] for r in rows]

    def owned_assets(self, site_ids: Iterable[str], order: str = "created_at") -> list[OwnedAsset]:
        """Assets the sites own, with their media facts; ``order`` is one of ``ASSET_ORDERS``."""
        wanted = sorted(set(site_ids))
        if not wanted or order not in ASSET_ORDERS:
            return []
        rows = self.db.rows(
            f"""SELECT o.sha256, o.site_id, o.original_name, o.created_at, o.created_by,
                       a.size, a.media_type, m.width, m.height, m.duration_s, m.fps,
                       m.frames, m.thumbnail
                FROM asset_owners o JOIN assets a USING (sha256)
                LEFT JOIN asset_media m USING (sha256)
                WHERE o.site_id IN ({marks(wanted)}) ORDER BY o.{order}, o.sha256, o.site_id""",
            wanted,
        )
        return [OwnedAsset(**r) for r in rows]

    def put_asset_media(self, sha256: str, facts: Mapping[str, Any]) -> None:
        """What the media checks found (size, duration, thumbnail); absent facts are NULL."""
        self.db.write(
            """INSERT OR REPLACE INTO asset_media
                 (sha256, width, height, duration_s, fps, frames, thumbnail)
               VALUES (?, ?, ?, ?, ?, ?, ?)""",
            [sha256, *(facts.get(k) for k in _MEDIA_FACTS)],
        )

    # --- playlists as published ---------------------------------------------

    def playlists(self) -> list[Playlist]:
        return [_playlist(r) for r in self.db.rows(f"{_PLAYLISTS} ORDER BY id")]

    def playlist(self, playlist_id: str) -> Playlist | None:
        r = self.db.one(f"{_PLAYLISTS} WHERE id = ?", [playlist_id])
        return None if r is None else _playlist(r)

    def put_playlist(self, p: Playlist) -> None:
        with self.db.transaction():  # the playlist and its mode together
            self.db.write(
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
                    to_json(p.name),
                    p.priority,
                    int(p.fallback),
                    opt_to_json(p.schedule),
                    to_json(p.items),
                    p.updated_at,
                    to_json(p.groups),
                ],
            )
            if p.bilingual == "sequential":
                self.db.write("DELETE FROM playlist_bilingual WHERE playlist_id = ?", [p.id])
            else:
                self.db.write(
                    "INSERT OR REPLACE INTO playlist_bilingual (playlist_id, mode) VALUES (?, ?)",
                    [p.id, p.bilingual],
                )

    # --- playlist drafts and published revisions ----------------------------

    def drafts(self) -> list[Playlist]:
        return [_draft(r) for r in self.db.rows("SELECT * FROM playlist_drafts ORDER BY id")]

    def draft(self, playlist_id: str) -> Playlist | None:
        r = self.db.one("SELECT * FROM playlist_drafts WHERE id = ?", [playlist_id])
        return None if r is None else _draft(r)

    def put_draft(self, p: Playlist, user: str) -> None:
        self.db.write(
            """INSERT INTO playlist_drafts (id, site_id, body, updated_at, updated_by)
               VALUES (?, ?, ?, ?, ?)
               ON CONFLICT (id) DO UPDATE SET site_id = excluded.site_id, body = excluded.body,
                 updated_at = excluded.updated_at, updated_by = excluded.updated_by""",
            [p.id, p.site_id, to_json(p.content()), p.updated_at, user],
        )

    def add_revision(self, p: Playlist, published_at: str, user: str, note: str) -> int:
        """Record published content; the new revision number (1, 2, ... per playlist)."""
        with self.db.transaction():
            row = self.db.execute(
                "SELECT coalesce(max(revision), 0) + 1 FROM playlist_revisions"
                " WHERE playlist_id = ?",
                [p.id],
            ).fetchone()
            revision = int(row[0])
            self.db.execute(
                """INSERT INTO playlist_revisions
                     (playlist_id, revision, body, published_at, published_by, note)
                   VALUES (?, ?, ?, ?, ?, ?)""",
                [p.id, revision, to_json(p.content()), published_at, user, note],
            )
            return revision

    def set_revision_version(self, playlist_id: str, revision: int, version: int | None) -> None:
        self.db.write(
            "UPDATE playlist_revisions SET version = ? WHERE playlist_id = ? AND revision = ?",
            [version, playlist_id, revision],
        )

    def revisions(self, playlist_id: str) -> list[Revision]:
        rows = self.db.rows(
            "SELECT * FROM playlist_revisions WHERE playlist_id = ? ORDER BY revision",
            [playlist_id],
        )
        return [Revision(**{**r, "body": json.loads(r["body"])}) for r in rows]

    # --- kiosk pages ---------------------------------------------------------

    def pages(self) -> list[Page]:
        rows = self.db.rows("SELECT * FROM pages ORDER BY site_id, position, id")
        return [Page(**{**r, "variants": json.loads(r["variants"])}) for r in rows]

    def put_page(self, page: Mapping[str, Any], now: str) -> None:
        self.db.write(
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
                to_json(page["variants"]),
                now,
            ],
        )

    def delete_page(self, page_id: str) -> int:
        return self.db.write("DELETE FROM pages WHERE id = ?", [page_id])
