"""Screen layouts per site and the ticker's notices (``signage_core.layout``)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from ..models import SiteLayout, TickerNotice
from .connection import Row, to_json

if TYPE_CHECKING:
    from . import Store


def _layout(r: Row) -> SiteLayout:
    return SiteLayout(
        site_id=r["site_id"],
        orientation=r["orientation"],
        header=bool(r["header"]),
        ticker=bool(r["ticker"]),
        title=json.loads(r["title"]),
        updated_at=r["updated_at"],
    )


def _notice(r: Row) -> TickerNotice:
    return TickerNotice(**{**r, "texts": json.loads(r["texts"])})


class LayoutStore:
    """The SQL of layouts and ticker notices, over a ``Store``'s connection."""

    def __init__(self, store: Store) -> None:
        self.db = store.db

    def layouts(self) -> dict[str, SiteLayout]:
        return {r["site_id"]: _layout(r) for r in self.db.rows("SELECT * FROM layouts")}

    def put_layout(self, layout: SiteLayout) -> None:
        self.db.write(
            """INSERT INTO layouts (site_id, orientation, header, ticker, title, updated_at)
               VALUES (?, ?, ?, ?, ?, ?)
               ON CONFLICT (site_id) DO UPDATE SET orientation = excluded.orientation,
                 header = excluded.header, ticker = excluded.ticker, title = excluded.title,
                 updated_at = excluded.updated_at""",
            [
                layout.site_id,
                layout.orientation,
                int(layout.header),
                int(layout.ticker),
                to_json(layout.title),
                layout.updated_at,
            ],
        )

    def delete_layout(self, site_id: str) -> int:
        return self.db.write("DELETE FROM layouts WHERE site_id = ?", [site_id])

    def notices(self) -> list[TickerNotice]:
        rows = self.db.rows("SELECT * FROM ticker_notices ORDER BY site_id, position, id")
        return [_notice(r) for r in rows]

    def notice(self, notice_id: str) -> TickerNotice | None:
        r = self.db.one("SELECT * FROM ticker_notices WHERE id = ?", [notice_id])
        return None if r is None else _notice(r)

    def put_notice(self, notice: TickerNotice) -> None:
        self.db.write(
            """INSERT INTO ticker_notices (id, site_id, position, texts, until, updated_at)
               VALUES (?, ?, ?, ?, ?, ?)
               ON CONFLICT (id) DO UPDATE SET site_id = excluded.site_id,
                 position = excluded.position, texts = excluded.texts,
                 until = excluded.until, updated_at = excluded.updated_at""",
            [
                notice.id,
                notice.site_id,
                notice.position,
                to_json(notice.texts),
                notice.until,
                notice.updated_at,
            ],
        )

    def delete_notice(self, notice_id: str) -> int:
        return self.db.write("DELETE FROM ticker_notices WHERE id = ?", [notice_id])
