"""The sync planner: what to fetch, what to keep, what may go."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from signage_core.manifest import SCHEMA, Manifest, parse_manifest
from signage_core.sync import plan

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
