"""Sync benchmarks (``python -m bench sync``): three ratios, each with its target.

- bytes downloaded to apply a playlist change ÷ bytes of the assets that changed (1.00);
- sync time over a 1 Mbit/s link ÷ (bytes ÷ bandwidth) (≤ 1.1);
- cache verification speed ÷ ``sha256sum`` speed on the same files (≥ 0.8).

The server is ``tests.support.fault_server`` on loopback, without faults; the
device side is the real ``Syncer`` with the real ``HttpFetcher``.
"""

from __future__ import annotations

import hashlib
import os
import random
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from device_runtime.cache import AssetCache
from device_runtime.syncer import Syncer
from tests.support.fault_server import FaultServer, real_syncer

LINK_BPS = 1_000_000  # bits per second of the throttled link


def _sync(syncer: Syncer, version: int) -> None:
    for _ in range(5):
        syncer.run_once()
        if syncer.current and syncer.current.manifest.version == version:
            return
    raise RuntimeError(f"version {version} did not arrive: {syncer.status}")


def playlist_change(work: Path) -> float:
    rng = random.Random(1)
    pool = [rng.randbytes(rng.randrange(200_000, 1_000_000)) for _ in range(8)]
    with FaultServer() as server:
        syncer = real_syncer(work / "change", server)
        server.publish(1, *pool)
        _sync(syncer, 1)
        before = server.stats.total_asset_bytes
        changed = [rng.randbytes(300_000), rng.randbytes(700_000), rng.randbytes(50_000)]
        server.publish(2, *pool[2:], *changed)  # two replaced, one added, two kept
        _sync(syncer, 2)
        spent = server.stats.total_asset_bytes - before
    need = sum(len(d) for d in changed)
    print(f"playlist change: {spent} bytes downloaded for {need} bytes changed")
    return spent / need


def throttled_link(work: Path) -> float:
    data = random.Random(2).randbytes(400_000)
    with FaultServer(rate=LINK_BPS / 8) as server:
        syncer = real_syncer(work / "slow", server)
        server.publish(1, data)
        started = time.monotonic()
        _sync(syncer, 1)
        took = time.monotonic() - started
    ideal = len(data) * 8 / LINK_BPS
    print(f"1 Mbit/s link: {len(data)} bytes in {took:.2f} s (ideal {ideal:.2f} s)")
    return took / ideal


def verification_speed(work: Path) -> float:
    cache = AssetCache(work / "verify")
    for _ in range(24):
        data = os.urandom(8 * 1024 * 1024)
        cache.path(hashlib.sha256(data).hexdigest()).write_bytes(data)
    files = sorted(str(p) for p in cache.root.iterdir() if p.name != "tmp")
    subprocess.run(["cat", *files], stdout=subprocess.DEVNULL, check=True)  # warm the page cache
    ours = theirs = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        removed = cache.verify_all()
        ours = min(ours, time.perf_counter() - started)
        assert not removed
        started = time.perf_counter()
        subprocess.run(["sha256sum", *files], stdout=subprocess.DEVNULL, check=True)
        theirs = min(theirs, time.perf_counter() - started)
    mb = 24 * 8
    print(f"verification: {mb / ours:.0f} MB/s; sha256sum: {mb / theirs:.0f} MB/s")
    return theirs / ours


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="bench-sync-"))
    try:
        results = [
            ("bytes for a playlist change / bytes changed", playlist_change(work), "== 1.00"),
            ("sync time at 1 Mbit/s / (bytes / bandwidth)", throttled_link(work), "<= 1.1"),
            ("verification speed / sha256sum speed", verification_speed(work), ">= 0.8"),
        ]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    ok = True
    for name, ratio, target in results:
        good = {
            "== 1.00": round(ratio, 2) == 1.0,
            "<= 1.1": ratio <= 1.1,
            ">= 0.8": ratio >= 0.8,
        }[target]
        ok &= good
        print(f"{name}: {ratio:.2f} (target {target}) {'ok' if good else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
