"""``make load`` in small: 20 simulated devices for 10 s against a real server and Mosquitto
(``bench/load.py``). Its last line has the documented format, no request failed, every
heartbeat sent was stored and every proof-of-play record is stored exactly once."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from scripts.loopback.stack import ROOT

pytestmark = pytest.mark.live

LINE = re.compile(
    r"^load: devices=(\d+) seconds=(\d+) requests=(\d+) failed=(\d+) p99_ms=(\d+\.\d) "
    r"heartbeats=(\d+)/(\d+) records=(\d+)/(\d+)$"
)


def test_twenty_devices_for_ten_seconds_lose_nothing() -> None:
    env = {**os.environ, "LOAD_DEVICES": "20", "LOAD_SECONDS": "10",
           "LOAD_POLL_S": "3", "LOAD_HEARTBEAT_S": "2"}  # fmt: skip
    run = subprocess.run(
        [sys.executable, "-m", "bench.load"], cwd=ROOT, env=env,
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    lines = run.stdout.strip().splitlines()
    assert lines, run.stderr[-3000:]
    m = LINE.match(lines[-1])
    assert m, f"last line {lines[-1]!r} is not the load line\n{run.stdout}\n{run.stderr[-3000:]}"
    devices, seconds, requests, failed, _, beats, beats_sent, records, records_sent = (
        int(float(g)) for g in m.groups()
    )
    assert (devices, seconds) == (20, 10)
    assert failed == 0, run.stdout
    # Every device polled at least after the publish, fetched the asset, posted records.
    assert requests >= 3 * devices, run.stdout
    assert beats_sent >= devices and beats == beats_sent, run.stdout
    assert records_sent >= devices and records == records_sent, run.stdout
    assert "new asset: 20/20 devices" in run.stdout
    assert run.returncode == 0, run.stdout
