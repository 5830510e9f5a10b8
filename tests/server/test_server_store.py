"""The store: migrations, WAL, all-or-nothing writes, versions never handed out twice."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from content_server.models import Site
from content_server.store import MIGRATIONS, Store


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store.open(tmp_path / "content.db")
    yield s  # type: ignore[misc]
    s.close()


def test_opening_again_applies_no_migration_twice(tmp_path: Path) -> None:
    Store.open(tmp_path / "c.db").close()
    again = Store.open(tmp_path / "c.db")
    again.close()
    conn = sqlite3.connect(tmp_path / "c.db")
    try:
        names = [r[0] for r in conn.execute("SELECT name FROM _sqlite_migrations ORDER BY rowid")]
        journal = conn.execute("PRAGMA journal_mode").fetchone()[0]
    finally:
        conn.close()
    assert names == [m.name for m in MIGRATIONS._migrations]
    assert journal == "wal"


def test_a_failed_transaction_stores_nothing(store: Store) -> None:
    before = store.dump()
    with pytest.raises(RuntimeError), store.transaction():
        store.put_site(Site("hue", None, {"vi": "Huế"}, None, None), "2026-11-26T05:00:00Z")
        store.audit("2026-11-26T05:00:00Z", "t", "test", "", "")
        raise RuntimeError("half way")
    assert store.dump() == before


def test_versions_grow_and_are_never_reused(store: Store) -> None:
    first = store.new_version("2026-11-26T05:00:00Z", "t", "one")
    second = store.new_version("2026-11-26T05:00:01Z", "t", "two")
    assert second > first
    with store.transaction():
        store.db.execute("DELETE FROM publishes WHERE version = ?", [second])
    assert store.new_version("2026-11-26T05:00:02Z", "t", "three") > second


def test_events_of_a_batch_are_stored_together(store: Store) -> None:
    good = {"id": "a", "kind": "play", "ts": "2026-11-26T05:00:00Z"}
    bad = {"id": "b", "kind": "play"}  # no ts: the insert fails half way
    with pytest.raises(KeyError):
        store.add_events("d", [good, bad], "2026-11-26T05:00:00Z")
    assert store.events("d") == []


def test_migrations_are_defined_in_the_order_they_are_applied() -> None:
    names = [m.name for m in MIGRATIONS._migrations]
    assert names == sorted(names), "a new migration goes at the end, with a higher number"


def _schema(path: Path) -> list[str]:
    conn = sqlite3.connect(path)
    try:
        return sorted(r[0] for r in conn.execute("SELECT sql FROM sqlite_master") if r[0])
    finally:
        conn.close()


def test_a_data_folder_migrated_in_the_old_order_opens_unchanged(tmp_path: Path) -> None:
    # Until the store became a package, m201 was registered (so applied) before m102.
    from sqlite_utils import Database

    old_order = ["m001_initial", "m101_accounts_assets_drafts_pages"]
    old_order += ["m201_fleet_health_alerts", "m102_device_groups"]
    by_name = {m.name: m for m in MIGRATIONS._migrations}
    db = Database(tmp_path / "old.db")
    MIGRATIONS.ensure_migrations_table(db)
    for name in old_order:
        with db.atomic():
            by_name[name].fn(db)
            MIGRATIONS._record_applied(db, name)
    db.close()
    conn = sqlite3.connect(tmp_path / "old.db")
    before = "\n".join(conn.iterdump())  # with _sqlite_migrations: a rerun would show
    conn.close()
    old = Store.open(tmp_path / "old.db")
    try:
        after = old.dump()
    finally:
        old.close()
    # Nothing of the old folder ran again or changed; only later migrations were added.
    assert set(before.splitlines()) <= set(after.splitlines())
    conn = sqlite3.connect(tmp_path / "old.db")
    applied = [r[0] for r in conn.execute("SELECT name FROM _sqlite_migrations")]
    conn.close()
    assert sorted(applied) == sorted(m.name for m in MIGRATIONS._migrations)
    Store.open(tmp_path / "fresh.db").close()
    assert _schema(tmp_path / "old.db") == _schema(tmp_path / "fresh.db")
