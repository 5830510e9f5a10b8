"""The real ``HttpFetcher`` against a loopback server that cuts, fails, stalls and lies.

Whatever the server does, the cache ends with exactly the manifest's files,
each named by its hash, and the bytes spent stay close to the bytes needed.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from device_runtime.cache import file_sha256
from device_runtime.fetcher import (
    CHUNK_BYTES,
    AssetStream,
    EventsResponse,
    HttpFetcher,
    ManifestResponse,
)
from device_runtime.syncer import Syncer
from tests.support.fault_server import Faults, FaultServer, real_syncer, sha

pytestmark = pytest.mark.live


def assets(seed: int, sizes: list[int]) -> list[bytes]:
    rng = random.Random(seed)
    return [rng.randbytes(n) for n in sizes]


SIZES = [3_000, 9_000, 20_000, 40_000, 64_000, 100_000, 150_000, 220_000, 300_000, 700_000]


@pytest.fixture
def server() -> Iterator[FaultServer]:
    with FaultServer() as s:
        yield s


def device(root: Path, server: FaultServer, **kw: Any) -> Syncer:
    return real_syncer(root, server, timeout_s=1.0, retry_base_s=0.01, retry_cap_s=0.05, **kw)


def sync_until_playing(syncer: Syncer, version: int, passes: int = 80) -> int:
    """Run passes until ``version`` plays and nothing is left; return how many it took."""
    for n in range(1, passes + 1):
        status = syncer.run_once()
        current = syncer.current
        if current and current.manifest.version == version and status.state == "idle":
            return n
    raise AssertionError(f"version {version} not playing after {passes} passes: {status}")


def assert_cache_is_exactly(syncer: Syncer, signed: dict[str, Any]) -> None:
    cache = syncer.cache
    assert cache.hashes() == set(signed["assets"])
    for h in cache.hashes():
        assert file_sha256(cache.path(h)) == h
    assert not list(cache.tmp.iterdir())  # no part file left behind


def test_cuts_errors_and_stalls_cost_at_most_ten_percent_more_bytes(
    tmp_path: Path, server: FaultServer
) -> None:
    server.faults = Faults(error=0.2, cut=0.35, stall=0.2, seed=7)
    datas = assets(1, SIZES)
    signed = server.publish(1, *datas)
    syncer = device(tmp_path, server)

    sync_until_playing(syncer, 1)

    assert_cache_is_exactly(syncer, signed)
    f = server.stats.faults
    assert f["cut"] >= 3 and f["error"] >= 1 and f["stall"] >= 1  # the faults did happen
    assert server.stats.ranges  # cut downloads were resumed, not restarted
    total = sum(len(d) for d in datas)
    assert server.stats.total_asset_bytes <= 1.1 * total
    status = syncer.status
    assert (status.files_done, status.bytes_done) == (status.files_total, status.bytes_total)


class CountingFetcher:
    """Wraps a fetcher and counts the asset bytes the device actually read."""

    def __init__(self, inner: HttpFetcher) -> None:
        self.inner = inner
        self.read = 0

    def get_manifest(self, etag: str | None) -> ManifestResponse:
        return self.inner.get_manifest(etag)

    def fetch_asset(self, sha256: str, offset: int = 0, if_range: str | None = None) -> AssetStream:
        stream = self.inner.fetch_asset(sha256, offset, if_range)
        chunks = stream.chunks

        def counted() -> Iterator[bytes]:
            for chunk in chunks:
                self.read += len(chunk)
                yield chunk

        stream.chunks = counted()
        return stream

    def post_events(self, batch: Sequence[Mapping[str, Any]]) -> EventsResponse:
        return self.inner.post_events(batch)


def test_a_download_running_over_its_declared_size_is_aborted_there(
    tmp_path: Path, server: FaultServer
) -> None:
    server.faults = Faults(oversize=1.0)  # every answer: the asset, then 64 MB more
    server.oversize_bytes = 64 * 1024 * 1024
    (data,) = assets(2, [200_000])
    signed = server.publish(1, data)
    syncer = device(tmp_path, server)
    assert isinstance(syncer.fetcher, HttpFetcher)
    counting = syncer.fetcher = CountingFetcher(syncer.fetcher)

    sync_until_playing(syncer, 1, passes=1)

    assert_cache_is_exactly(syncer, signed)  # the declared bytes were the asset
    # The device stopped reading at the declared size (plus the chunk in hand) and hung up;
    # the server pushed no more than what the loopback socket buffers hold.
    assert counting.read <= len(data) + CHUNK_BYTES
    assert server.stats.total_asset_bytes < len(data) + 16 * 1024 * 1024


def test_wrong_bytes_are_never_stored_and_fetched_again(
    tmp_path: Path, server: FaultServer
) -> None:
    server.faults = Faults(wrong=0.4, oversize=0.3, seed=3)
    datas = assets(3, SIZES[:6])
    signed = server.publish(1, *datas)
    syncer = device(tmp_path, server)

    sync_until_playing(syncer, 1)

    assert_cache_is_exactly(syncer, signed)
    assert server.stats.faults["wrong"] >= 1


def test_every_fault_at_once_still_ends_with_the_right_cache(
    tmp_path: Path, server: FaultServer
) -> None:
    server.faults = Faults(error=0.1, cut=0.2, stall=0.1, oversize=0.1, wrong=0.1, seed=11)
    first = assets(4, SIZES)
    server.publish(1, *first)
    syncer = device(tmp_path, server)
    sync_until_playing(syncer, 1)

    second = [*first[2:], *assets(5, [50_000, 400_000])]  # a playlist change
    signed = server.publish(2, *second)
    sync_until_playing(syncer, 2)
    syncer.run_once()  # the assets of version 1 go once version 2 plays

    assert_cache_is_exactly(syncer, signed)
    assert sorted(syncer.cache.hashes()) == sorted(sha(d) for d in second)


def test_a_failing_asset_does_not_block_the_others(tmp_path: Path, server: FaultServer) -> None:
    datas = assets(6, [1_000, 5_000, 9_000])
    server.publish(1, *datas)
    broken = sha(datas[0])
    del server.blobs[broken]  # the smallest, fetched first, answers 404
    syncer = device(tmp_path, server)

    status = syncer.run_once()

    assert syncer.current is None and status.state == "error" and status.files_failed == 1
    assert syncer.cache.hashes() == {sha(datas[1]), sha(datas[2])}
    assert server.stats.asset_requests[broken] == 0  # a 404 is not retried within the pass
    server.blobs[broken] = datas[0]
    assert sync_until_playing(syncer, 1) == 1  # the next poll retries it
