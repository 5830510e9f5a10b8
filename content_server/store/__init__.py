"""The database: every SQL statement of the content server, and the schema's migrations.

A write that spans several tables runs inside ``with store.transaction():``,
so nothing is ever half stored. Times are stored as ``signage_core.timefmt``
strings (UTC, ``Z``), which sort as text; JSON columns come back decoded as the
records of ``content_server.models``. What the rows mean is left to the
callers; this package only stores.

Where things are::

    migrations.py   MIGRATIONS: the schema, one function per change, in the order applied
    connection.py   Connection: the one SQLite connection, its lock and transactions
    accounts.py     sites, devices, users and sign-in tokens, the audit log   } mixed into
    content.py      assets, playlists, drafts and revisions, kiosk pages      } Store
    delivery.py     manifest versions and envelopes out, device records in    }
    fleet.py        FleetStore: device health, heartbeats, alerts, screenshots
    groups.py       GroupStore: device groups
    relays.py       RelayStore: gate relays' bridge accounts
    layouts.py      LayoutStore: screen layouts per site, ticker notices

A new query goes into the module of its concern, a new table into a new
migration at the end of ``migrations.py``. Only ``connection.py`` touches the
sqlite-utils database; the others call its public ``rows``/``one``/``write``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .accounts import AccountsSql
from .connection import Connection
from .content import ContentSql
from .delivery import DeliverySql
from .fleet import FleetStore
from .groups import GroupStore
from .layouts import LayoutStore
from .migrations import MIGRATIONS
from .relays import RelayStore

__all__ = [
    "MIGRATIONS",
    "Connection",
    "FleetStore",
    "GroupStore",
    "LayoutStore",
    "RelayStore",
    "Store",
]


class Store(AccountsSql, ContentSql, DeliverySql):
    """The content server's database. Open with ``Store.open(path)``; close when done."""

    def __init__(self, db: Connection) -> None:
        self.db = db

    @classmethod
    def open(cls, path: Path) -> Store:
        """Open (or create) the database and apply the migrations it has not had."""
        return cls(Connection.open(path))

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Everything inside commits together or not at all (nested: a savepoint)."""
        with self.db.transaction():
            yield

    def data_version(self) -> int:
        """Changes when another connection (another process) commits; cheap to ask."""
        return self.db.data_version()

    def dump(self) -> str:
        """The whole database as SQL text (tests compare it before and after)."""
        return self.db.dump()
