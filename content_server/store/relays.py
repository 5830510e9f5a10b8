"""Gate relays: the MQTT account each relay's bridge uses on the city broker."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..models import Relay

if TYPE_CHECKING:
    from . import Store


class RelayStore:
    """The SQL of gate relays (``content_server.relay``), over a ``Store``'s connection."""

    def __init__(self, store: Store) -> None:
        self.db = store.db

    def relays(self) -> list[Relay]:
        return [Relay(**r) for r in self.db.rows("SELECT * FROM relays ORDER BY site_id")]

    def relay(self, site_id: str) -> Relay | None:
        r = self.db.one("SELECT * FROM relays WHERE site_id = ?", [site_id])
        return None if r is None else Relay(**r)

    def put_relay(self, site_id: str, username: str, password_hash: str, now: str) -> None:
        self.db.write(
            """INSERT INTO relays (site_id, username, password_hash, updated_at)
               VALUES (?, ?, ?, ?)
               ON CONFLICT (site_id) DO UPDATE SET username = excluded.username,
                 password_hash = excluded.password_hash, updated_at = excluded.updated_at""",
            [site_id, username, password_hash, now],
        )
