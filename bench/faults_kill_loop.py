"""The long kill loop (``make faults``): SIGKILL the device 300 times at random moments
(``FAULTS_KILL_LOOP_ROUNDS``).

The same checks as ``tests/device/test_kill_loop.py`` (50 kills there),
with other seeds: after every kill the cache holds only files named by their
hash, the last good manifest verifies, and the device plays within 3 s of
start, also with the server unreachable.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

from tests.support.kill_loop import kill_loop

ROUNDS = int(os.environ.get("FAULTS_KILL_LOOP_ROUNDS", "300"))


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="faults-kill-"))
    started = time.monotonic()
    try:
        report = kill_loop(work, ROUNDS, seed=int(time.time()), say=print)
    except AssertionError as e:
        print(f"kill loop FAILED: {e} (files kept in {work})")
        return 1
    shutil.rmtree(work, ignore_errors=True)
    print(
        f"{report.rounds} kills in {time.monotonic() - started:.0f} s; "
        f"{report.kills_before_playing} before the device played; "
        f"{report.offline_starts} offline starts, slowest start {report.slowest_start_s:.2f} s; "
        f"{report.versions_published} versions, ended on {report.final_version}; "
        f"{report.resumed} resumed downloads; faults {report.faults}; "
        f"{report.asset_bytes} bytes sent for {report.needed_bytes} needed "
        f"({report.asset_bytes / max(report.needed_bytes, 1):.2f}x)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
