"""SIGKILL the real device process, again and again: nothing half-written survives.

The kill loop itself is ``tests/support/kill_loop.py`` (``make faults`` runs it
longer through ``bench/faults_kill_loop.py``). The record tests kill the device
between queueing a record and sending it, and between the server storing a
batch and the device hearing so: every record still reaches the server, and is
stored there once.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.fault_server import FaultServer, sha
from tests.support.kill_loop import Child, check_disk, kill_loop, write_config
from tests.support.waiting import wait_until

pytestmark = pytest.mark.live

KILLS = 50


def wait_for(check: Callable[[], Any], timeout: float = 20.0) -> Any:
    return wait_until(check, timeout, "the condition")


def test_sigkill_at_random_moments_leaves_a_device_that_plays(tmp_path: Path) -> None:
    report = kill_loop(tmp_path, KILLS, seed=2026)

    assert report.rounds == KILLS
    assert report.offline_starts >= 5 and report.slowest_start_s < 3.0
    assert report.versions_published >= 5 and report.final_version == report.versions_published
    assert report.resumed >= 1  # downloads cut by a kill went on from the bytes on disk


@pytest.fixture
def server() -> Iterator[FaultServer]:
    with FaultServer(rate=2_000_000) as s:
        yield s


def test_a_download_resumes_after_the_process_is_killed(
    tmp_path: Path, server: FaultServer
) -> None:
    server.rate = 500_000  # 500 kB/s: the 1.5 MB asset takes 3 s, time to kill it mid-way
    data = bytes(range(256)) * 6000
    server.publish(1, data)
    config = write_config(tmp_path / "device.toml", server.url, server, tmp_path / "d")
    part = tmp_path / "d" / "cache" / "tmp" / f"{sha(data)}.part"

    child = Child(config)
    wait_for(lambda: part.exists() and part.stat().st_size > 300_000)
    child.kill()
    kept = part.stat().st_size
    assert kept < len(data)

    child = Child(config)
    # The manifest is stored as last good only after its assets are in the cache:
    # waiting for the asset alone could kill the child between the two.
    wait_for(lambda: (tmp_path / "d" / "state" / "manifest.json").exists())
    child.kill()

    assert check_disk(tmp_path / "d", server, must_hold=True) == 1
    starts = [start for digest, start in server.stats.ranges if digest == sha(data)]
    assert starts and starts[0] >= kept - 64 * 1024  # went on from what was on disk
    assert server.stats.total_asset_bytes <= 1.1 * len(data)


def pending(data_dir: Path) -> int:
    db = sqlite3.connect(data_dir / "state" / "records.sqlite")
    try:
        return int(db.execute("SELECT count(*) FROM records").fetchone()[0])
    finally:
        db.close()


def test_records_queued_then_killed_before_upload_arrive_once(
    tmp_path: Path, server: FaultServer
) -> None:
    server.publish(1)
    server.event_faults = ["refuse"] * 10_000  # no batch gets through
    config = write_config(tmp_path / "device.toml", server.url, server, tmp_path / "d")

    child = Child(config, records=20)
    queued = wait_for(lambda: child.line(time.monotonic() + 10) or None)
    if "queued" not in queued:
        queued = child.line(time.monotonic() + 10)
    assert queued is not None
    ids = queued["queued"]
    child.kill()  # queued durably, never uploaded
    assert not server.events and pending(tmp_path / "d") == 20

    server.event_faults = []
    child = Child(config)
    wait_for(lambda: set(server.events) == set(ids))
    wait_for(lambda: pending(tmp_path / "d") == 0)
    child.kill()

    assert len(ids) == len(set(ids)) == 20
    assert all(server.stats.events_received[i] == 1 for i in ids)


def test_records_stored_but_not_acknowledged_are_sent_again_and_kept_once(
    tmp_path: Path, server: FaultServer
) -> None:
    server.publish(1)
    # The server stores every batch, then answers later than the device waits (1 s).
    server.event_faults = ["delay"] * 10_000
    server.event_delay_s = 5
    config = write_config(tmp_path / "device.toml", server.url, server, tmp_path / "d")

    child = Child(config, records=20)
    wait_for(lambda: len(server.events) == 20)
    child.kill()  # between the server storing and the device hearing so
    assert pending(tmp_path / "d") == 20  # nothing was deleted without an acknowledgement

    server.event_faults = ["drop"]  # and once more: stored, the answer lost on the way
    child = Child(config)
    wait_for(lambda: pending(tmp_path / "d") == 0)
    child.kill()

    ids = set(server.events)
    assert len(ids) == 20  # each stored once (INSERT OR IGNORE on the uuid)
    assert all(server.stats.events_received[i] >= 3 for i in ids)  # sent again and again
