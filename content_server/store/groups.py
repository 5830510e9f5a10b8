"""Device groups: a playlist that names groups goes to their members only."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..models import Group
from .connection import Row, to_json

if TYPE_CHECKING:
    from . import Store


def _group(r: Row) -> Group:
    return Group(**{**r, "members": json.loads(r["members"])})


class GroupStore:
    """The SQL of device groups, over a ``Store``'s connection."""

    def __init__(self, store: Store) -> None:
        self.db = store.db

    def groups(self) -> list[Group]:
        rows = self.db.rows("SELECT * FROM device_groups ORDER BY site_id, id")
        return [_group(r) for r in rows]

    def group(self, group_id: str) -> Group | None:
        r = self.db.one("SELECT * FROM device_groups WHERE id = ?", [group_id])
        return None if r is None else _group(r)

    def put_group(self, group: Mapping[str, Any], now: str) -> None:
        self.db.write(
            """INSERT INTO device_groups (id, site_id, name, members, updated_at)
               VALUES (?, ?, ?, ?, ?)
               ON CONFLICT (id) DO UPDATE SET site_id = excluded.site_id,
                 name = excluded.name, members = excluded.members,
                 updated_at = excluded.updated_at""",
            [group["id"], group["site_id"], group["name"], to_json(group["members"]), now],
        )

    def delete_group(self, group_id: str) -> int:
        return self.db.write("DELETE FROM device_groups WHERE id = ?", [group_id])
