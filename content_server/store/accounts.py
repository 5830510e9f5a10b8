"""Sites, devices, guards' accounts and their sign-in tokens, and the audit log."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ..models import AuditRecord, Device, Site, User
from .connection import Connection, Row, from_json, opt_to_json, to_json


def _site(r: Row) -> Site:
    return Site(
        id=r["id"],
        parent_id=r["parent_id"],
        name=json.loads(r["name"]),
        languages=from_json(r["languages"]),
        required_languages=from_json(r["required_languages"]),
        manifest_ttl_days=r["manifest_ttl_days"],
    )


def _device(r: Row) -> Device:
    return Device(
        id=r["id"],
        site_id=r["site_id"],
        token_hash=r["token_hash"],
        mqtt_password_hash=r["mqtt_password_hash"],
        created_at=r["created_at"],
        revoked=bool(r["revoked"]),
    )


def _user(r: Row) -> User:
    return User(r["username"], r["password_hash"], r["role"], r["site_id"], bool(r["disabled"]))


def _audit(r: Row) -> AuditRecord:
    return AuditRecord(**{**r, "detail": json.loads(r["detail"])})


class AccountsSql:
    """Part of ``Store``: who and where."""

    db: Connection

    # --- sites -------------------------------------------------------------

    def sites(self) -> dict[str, Site]:
        return {r["id"]: _site(r) for r in self.db.rows("SELECT * FROM sites ORDER BY id")}

    def put_site(self, site: Site, now: str) -> None:
        self.db.write(
            """INSERT INTO sites (id, parent_id, name, languages, required_languages, updated_at)
               VALUES (?, ?, ?, ?, ?, ?)
               ON CONFLICT (id) DO UPDATE SET parent_id = excluded.parent_id,
                 name = excluded.name, languages = excluded.languages,
                 required_languages = excluded.required_languages,
                 updated_at = excluded.updated_at""",
            [
                site.id,
                site.parent_id,
                to_json(site.name),
                opt_to_json(site.languages),
                opt_to_json(site.required_languages),
                now,
            ],
        )

    def set_site_ttl(self, site_id: str, days: int | None) -> None:
        self.db.write("UPDATE sites SET manifest_ttl_days = ? WHERE id = ?", [days, site_id])

    # --- devices -----------------------------------------------------------

    def devices(self, include_revoked: bool = False) -> list[Device]:
        where = "" if include_revoked else "WHERE revoked = 0"
        return [_device(r) for r in self.db.rows(f"SELECT * FROM devices {where} ORDER BY id")]

    def device(self, device_id: str) -> Device | None:
        r = self.db.one("SELECT * FROM devices WHERE id = ?", [device_id])
        return None if r is None else _device(r)

    def put_device(self, device: Device) -> None:
        """Insert a device, or replace its site and credentials (re-enrolment)."""
        self.db.write(
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

    def set_device_name(self, device_id: str, name: str) -> None:
        """What people call the device (given when it is enrolled over the API)."""
        self.db.write(
            """INSERT INTO device_names (device_id, name) VALUES (?, ?)
               ON CONFLICT (device_id) DO UPDATE SET name = excluded.name""",
            [device_id, name],
        )

    def device_names(self) -> dict[str, str]:
        return {r["device_id"]: r["name"] for r in self.db.rows("SELECT * FROM device_names")}

    def set_device_revoked(self, device_id: str, revoked: bool = True) -> int:
        return self.db.write(
            "UPDATE devices SET revoked = ? WHERE id = ?", [int(revoked), device_id]
        )

    def device_tokens(self) -> dict[str, str]:
        """``{token hash: device id}`` of every device that is not revoked."""
        rows = self.db.rows("SELECT token_hash, id FROM devices WHERE revoked = 0")
        return {r["token_hash"]: r["id"] for r in rows}

    # --- users and their sign-in tokens ------------------------------------

    def device_for_token(self, token_hash: str) -> str | None:
        """The id of the device (not revoked) with this token hash, if any."""
        r = self.db.one("SELECT id FROM devices WHERE token_hash = ? AND revoked = 0", [token_hash])
        return None if r is None else str(r["id"])

    def user(self, username: str) -> User | None:
        r = self.db.one("SELECT * FROM users WHERE username = ?", [username])
        return None if r is None else _user(r)

    def users(self) -> list[User]:
        return [_user(r) for r in self.db.rows("SELECT * FROM users ORDER BY username")]

    def add_user(self, user: User, now: str) -> None:
        self.db.write(
            "INSERT INTO users (username, password_hash, role, site_id, created_at)"
            " VALUES (?, ?, ?, ?, ?)",
            [user.username, user.password_hash, user.role, user.site_id, now],
        )

    def set_user_disabled(self, username: str, disabled: bool) -> None:
        with self.db.transaction():
            self.db.execute(
                "UPDATE users SET disabled = ? WHERE username = ?", [int(disabled), username]
            )
            if disabled:
                self.db.execute("DELETE FROM user_tokens WHERE username = ?", [username])

    def set_password_hash(self, username: str, password_hash: str) -> None:
        """Change a password; every sign-in token of the user stops working."""
        with self.db.transaction():
            self.db.execute(
                "UPDATE users SET password_hash = ? WHERE username = ?", [password_hash, username]
            )
            self.db.execute("DELETE FROM user_tokens WHERE username = ?", [username])

    def add_user_token(
        self, token_hash: str, username: str, issued_at: str, expires_at: str
    ) -> None:
        with self.db.transaction():
            self.db.execute("DELETE FROM user_tokens WHERE expires_at <= ?", [issued_at])
            self.db.execute(
                "INSERT INTO user_tokens (token_hash, username, issued_at, expires_at)"
                " VALUES (?, ?, ?, ?)",
                [token_hash, username, issued_at, expires_at],
            )

    def upgrade_password_hash(self, username: str, old_hash: str, new_hash: str) -> None:
        """Replace a hash of an older kind after a successful sign-in; tokens stay valid,
        and a password changed in the meantime is left alone."""
        self.db.write(
            "UPDATE users SET password_hash = ? WHERE username = ? AND password_hash = ?",
            [new_hash, username, old_hash],
        )

    def revoke_user_token(self, token_hash: str) -> int:
        """Sign-out: the token stops working at once (its row is gone)."""
        return self.db.write("DELETE FROM user_tokens WHERE token_hash = ?", [token_hash])

    def user_by_token(self, token_hash: str, now: str) -> User | None:
        r = self.db.one(
            """SELECT u.* FROM user_tokens t JOIN users u ON u.username = t.username
               WHERE t.token_hash = ? AND t.expires_at > ? AND u.disabled = 0""",
            [token_hash, now],
        )
        return None if r is None else _user(r)

    # --- the audit log (write-once: a trigger refuses UPDATE and DELETE) ----

    def audit(
        self,
        ts: str,
        user: str,
        action: str,
        target: str,
        address: str,
        detail: Mapping[str, Any] | None = None,
    ) -> None:
        self.db.write(
            "INSERT INTO audit (ts, user, action, target, address, detail)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            [ts, user, action, target, address, to_json(dict(detail or {}))],
        )

    def audit_log(self) -> list[AuditRecord]:
        """The whole log, oldest first."""
        return [_audit(r) for r in self.db.rows("SELECT * FROM audit ORDER BY id")]

    def audit_entries(
        self, *, user: str | None = None, action: str | None = None, limit: int, offset: int
    ) -> list[AuditRecord]:
        """A page of the log, newest first, of one user or action if given."""
        rows = self.db.rows(
            """SELECT * FROM audit
               WHERE (? IS NULL OR user = ?) AND (? IS NULL OR action = ?)
               ORDER BY id DESC LIMIT ? OFFSET ?""",
            [user, user, action, action, limit, offset],
        )
        return [_audit(r) for r in rows]

    def audit_subjects(self) -> dict[str, str | None]:
        """What an audit row's target may name (``"user x"``, ``"playlist x"``, ``"device x"``…),
        mapped to the site it belongs to (None: every site, like an unscoped user)."""
        rows = self.db.rows(
            """SELECT 'user ' || username AS subject, site_id FROM users
               UNION ALL SELECT 'site ' || id, id FROM sites
               UNION ALL SELECT 'device ' || id, site_id FROM devices
               UNION ALL SELECT 'playlist ' || id, site_id FROM playlists
               UNION ALL SELECT 'playlist ' || id, site_id FROM playlist_drafts
               UNION ALL SELECT 'page ' || id, site_id FROM pages
               UNION ALL SELECT 'group ' || id, site_id FROM device_groups
               UNION ALL SELECT 'alert ' || id, site_id FROM alerts"""
        )
        return {r["subject"]: r["site_id"] for r in rows}
