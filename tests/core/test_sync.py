"""The sync planner: what to fetch, what to keep, what may go."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from signage_core.manifest import SCHEMA, Manifest, parse_manifest
from signage_core.sync import DownloadWindow, in_window, plan

HASHES = [f"{i:064x}" for i in range(12)]


def manifest(sizes: dict[str, int]) -> Manifest:
    items = [
        {"id": f"i{n}", "kind": "image", "duration_s": 5, "variants": {"vi": {"asset": h}}}
        for n, h in enumerate(sizes)
    ]
    return parse_manifest(
        {
            "schema": SCHEMA,
            "device_id": "adot-hall-1",
            "site_id": "adot",
            "version": 1,
            "issued_at": "2026-11-26T05:00:00Z",
            "expires_at": "2026-12-26T05:00:00Z",
            "timezone": "Asia/Ho_Chi_Minh",
            "languages": ["vi"],
            "playlists": [{"id": "p", "priority": 1, "items": items}],
            "assets": {h: {"size": s, "media_type": "image/png"} for h, s in sizes.items()},
        }
    )


def test_fetches_what_is_missing_smallest_first_and_deletes_the_rest() -> None:
    a, b, c, d, e = HASHES[:5]
    m = manifest({a: 300, b: 100, c: 200})

    p = plan({a, d, e}, m, keep={e})

    assert p.downloads == (b, c)
    assert p.download_bytes == 300
    assert p.keeps == {a, e}
    assert p.deletes == {d}
    assert not p.complete


def test_a_complete_cache_needs_nothing() -> None:
    a, b = HASHES[:2]
    p = plan({a, b}, manifest({a: 1, b: 2}))
    assert p.complete and p.downloads == () and p.deletes == frozenset()


@given(
    cached=st.sets(st.sampled_from(HASHES)),
    needed=st.dictionaries(st.sampled_from(HASHES), st.integers(0, 10**9)),
    keep=st.sets(st.sampled_from(HASHES)),
)
def test_never_deletes_what_the_new_or_the_playing_manifest_needs(
    cached: set[str], needed: dict[str, int], keep: set[str]
) -> None:
    m = manifest(needed)

    p = plan(cached, m, keep)

    assert not p.deletes & (set(needed) | keep)
    assert p.deletes | p.keeps == cached and not p.deletes & p.keeps
    assert set(p.downloads) == set(needed) - cached
    assert len(p.downloads) == len(set(p.downloads))
    sizes = [needed[h] for h in p.downloads]
    assert sizes == sorted(sizes)
    assert p.download_bytes == sum(sizes)


def test_large_assets_wait_for_the_download_window() -> None:
    small, big = HASHES[0], HASHES[1]
    m = manifest({small: 10, big: 10_000})

    p = plan(set(), m, defer_over=1000)

    assert p.downloads == (small,) and p.deferred == (big,)
    assert (p.download_bytes, p.deferred_bytes) == (10, 10_000)
    assert not p.complete
    assert plan({small}, m).downloads == (big,)


@pytest.mark.parametrize(
    ("window", "hhmm", "inside"),
    [
        ("22:00-05:00", "23:30", True),
        ("22:00-05:00", "04:59", True),
        ("22:00-05:00", "05:00", False),
        ("22:00-05:00", "12:00", False),
        ("01:00-03:00", "02:00", True),
        ("01:00-03:00", "03:00", False),
        ("20:00-24:00", "23:59", True),
    ],
)
def test_download_window(window: str, hhmm: str, inside: bool) -> None:
    h, m = map(int, hhmm.split(":"))
    local = datetime(2026, 11, 26, h, m, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))
    assert in_window(DownloadWindow.parse(window), local) is inside
    assert in_window(None, local)


@pytest.mark.parametrize("bad", ["22-05", "25:00-01:00", "10:00-10:00", "", "24:30-01:00"])
def test_a_bad_download_window_is_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        DownloadWindow.parse(bad)
