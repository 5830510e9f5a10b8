"""SIGKILL a real device process at random moments and check what it left on disk.

``kill_loop(work, iterations, seed)`` runs ``tests.support.kill_child`` against a
``FaultServer`` (cuts, 500s, stalls, a slow link), publishes a new playlist
every few rounds, and kills the child at a random moment each round. After
every kill it checks that:

- every file in ``cache/`` is named by the sha256 of its bytes (nothing else
  but the ``tmp/`` folder of partial downloads);
- the last good manifest, once there is one, parses and verifies;
- the next start plays within ``PLAY_WITHIN_S`` seconds of the process start
  (every few rounds with the server unreachable).

At the end the device runs undisturbed until its cache holds exactly the
newest manifest's files. Used by ``tests/device/test_kill_loop.py`` and
``bench/faults_kill_loop.py``.
"""

from __future__ import annotations

import json
import os
import random
import re
import select
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from device_runtime.cache import file_sha256
from device_runtime.state import TrustState
from tests.support.fault_server import DEVICE, TOKEN, Faults, FaultServer, sha
from tests.support.waiting import free_port

ROOT = Path(__file__).resolve().parents[2]
PLAY_WITHIN_S = 3.0
_SHA = re.compile(r"^[0-9a-f]{64}$")


def write_config(path: Path, server_url: str, server: FaultServer, data_dir: Path) -> Path:
    path.write_text(
        f'device_id = "{DEVICE}"\n'
        f'token = "{TOKEN}"\n'
        f'server_url = "{server_url}"\n'
        f'trusted_keys = ["{server.key.public.spec()}"]\n'
        'mqtt_url = "mqtt://127.0.0.1:9"\n'
        'mqtt_password = "unused"\n'
        f'data_dir = "{data_dir}"\n'
        "poll_interval_s = 0.2\n"
        "request_timeout_s = 1.0\n"
        "download_attempts = 1\n",
        encoding="utf-8",
    )
    return path


class Child:
    """One device process; its JSON lines are read without blocking past a deadline."""

    def __init__(self, config: Path, records: int = 0) -> None:
        self.started = time.monotonic()
        args = [sys.executable, "-m", "tests.support.kill_child", str(config)]
        if records:
            args.append(str(records))
        self.proc = subprocess.Popen(
            args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
        )
        self._buf = b""

    def line(self, deadline: float) -> dict[str, Any] | None:
        """The next JSON line printed before ``deadline`` (monotonic), or None."""
        out: IO[bytes] | None = self.proc.stdout
        assert out is not None
        while b"\n" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            ready, _, _ = select.select([out], [], [], left)
            if not ready:
                return None
            chunk = os.read(out.fileno(), 65536)
            if not chunk:
                return None
            self._buf += chunk
        raw, self._buf = self._buf.split(b"\n", 1)
        value: dict[str, Any] = json.loads(raw)
        return value

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait(10)
        if self.proc.stdout:
            self.proc.stdout.close()


def check_disk(data_dir: Path, server: FaultServer, must_hold: bool) -> int | None:
    """Assert the on-disk invariants; return the version of the stored manifest."""
    cache = data_dir / "cache"
    if cache.exists():
        for entry in cache.iterdir():
            if entry.name == "tmp":
                continue
            assert _SHA.match(entry.name), f"stray file in the cache: {entry.name}"
            assert file_sha256(entry) == entry.name, f"{entry.name}: bytes differ from the name"
    state = TrustState(data_dir / "state", DEVICE, {server.key.keyid: server.key.public})
    loaded = state.load(datetime.now(UTC))
    assert not loaded.problems, loaded.problems
    if must_hold:
        assert loaded.manifest is not None, "the last good manifest is gone"
    return loaded.manifest.version if loaded.manifest else None


@dataclass
class Report:
    rounds: int = 0
    kills_before_playing: int = 0
    offline_starts: int = 0
    slowest_start_s: float = 0.0
    versions_published: int = 0
    final_version: int | None = None
    asset_bytes: int = 0
    needed_bytes: int = 0  # every distinct asset published, once
    resumed: int = 0
    faults: dict[str, int] = field(default_factory=dict)


def kill_loop(
    work: Path,
    iterations: int,
    seed: int = 0,
    max_alive_s: float = 1.0,
    say: Callable[[str], None] = lambda s: None,
) -> Report:
    rng = random.Random(seed)
    data_dir = work / "device"
    faults = Faults(error=0.05, cut=0.1, stall=0.05, seed=seed)
    report = Report()
    with FaultServer(faults=faults, rate=1_000_000) as server:  # 8 Mbit/s: kills land mid-file
        live = write_config(work / "live.toml", server.url, server, data_dir)
        dead = write_config(work / "dead.toml", f"http://127.0.0.1:{free_port()}", server, data_dir)
        pool = [rng.randbytes(rng.randrange(20_000, 600_000)) for _ in range(6)]
        version = 1
        server.publish(version, *pool)
        report.versions_published = 1
        published = {sha(d): len(d) for d in pool}
        held = False
        last_start_s = 0.5  # how long the last start took, to aim kills at the start-up
        for n in range(iterations):
            if n and n % 8 == 0:  # a playlist change: one asset replaced
                pool[rng.randrange(len(pool))] = rng.randbytes(rng.randrange(20_000, 600_000))
                version += 1
                server.publish(version, *pool)
                report.versions_published += 1
                published.update({sha(d): len(d) for d in pool})
            offline = held and n % 5 == 4
            child = Child(dead if offline else live)
            if offline:
                report.offline_starts += 1
                first = child.line(child.started + PLAY_WITHIN_S)
                assert first is not None, "no network: nothing played within 3 s of start"
                took = time.monotonic() - child.started
                assert first["playing"] is not None and took < PLAY_WITHIN_S
                report.slowest_start_s = max(report.slowest_start_s, took)
                time.sleep(rng.uniform(0, 0.3))
            elif rng.random() < 0.3:  # while it starts: before it plays anything
                kill_at = child.started + rng.uniform(0.05, max(0.1, last_start_s))
                first = child.line(kill_at)
                if first is None:
                    report.kills_before_playing += 1
                time.sleep(max(0.0, kill_at - time.monotonic()))
            else:  # while it syncs: downloading, verifying, switching, collecting
                first = child.line(child.started + 10 * PLAY_WITHIN_S)
                assert first is not None, "the device did not start"
                took = time.monotonic() - child.started
                last_start_s = took
                if held:
                    assert first["playing"] is not None, "the last good manifest did not play"
                    assert took < PLAY_WITHIN_S, f"played {took:.2f} s after start"
                    report.slowest_start_s = max(report.slowest_start_s, took)
                time.sleep(rng.uniform(0.0, max_alive_s))
            child.kill()
            stored = check_disk(data_dir, server, must_hold=held)
            held = held or stored is not None
            report.rounds += 1
            if n % 10 == 0:
                say(f"round {n}: holding version {stored}, published {version}")
        # Undisturbed at last: the device must end with exactly the newest manifest's files.
        with server.no_faults():
            child = Child(live)
            wanted = {sha(d) for d in pool}
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                names = {p.name for p in (data_dir / "cache").iterdir() if p.name != "tmp"}
                if names == wanted and check_disk(data_dir, server, True) == version:
                    break
                time.sleep(0.2)
            child.kill()
        assert check_disk(data_dir, server, True) == version
        names = {p.name for p in (data_dir / "cache").iterdir() if p.name != "tmp"}
        assert names == wanted, "the cache does not hold exactly the newest manifest's files"
        report.final_version = version
        report.needed_bytes = sum(published.values())
        report.asset_bytes = server.stats.total_asset_bytes
        report.resumed = len(server.stats.ranges)
        report.faults = dict(server.stats.faults)
    return report
