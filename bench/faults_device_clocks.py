"""Device clocks a year back and a year ahead (``make faults``).

Three real ``python -m device_runtime`` processes (headless) against a real server and
Mosquitto (``scripts/loopback/stack.py``), enrolled with ``add-device``: one with a true
clock, one run under ``faketime -f -365d`` and one under ``faketime -f +365d``
(libfaketime, ``FAKETIME_DONT_FAKE_MONOTONIC=1`` so timeouts and sleeps keep working;
``FAULTS_CLOCK_DAYS`` changes the offset). Their poll interval is
``FAULTS_CLOCK_POLL_S`` (default 10) s, heartbeats every 5 s.

First the run checks that the fake clock reached each device: the ``ts`` of the heartbeats
the server stored from it must be about the offset away from the server's clock (else the
run fails: it would prove nothing). Then an editor publishes a new image for the whole
city, and every second the run reads each device's held manifest
(``state/manifest.json``) and cache, for ``FAULTS_CLOCK_SECONDS`` (default 90) s at most:
it stops once every device has the new version and two poll intervals have passed.

The checker: every device's held manifest always verifies with the server's key, names
the device, and its version never goes down; the acknowledged version reaches every
device (held manifest, and the new image in its cache whole, sha256 checked) within 5
minutes of the publish. (Headless ``device_runtime`` writes no proof-of-play records; the
Kivy player does, so records are checked by the load-based runs, not here.)

The device a year ahead must also say so: its newest stored heartbeat carries
``clock_suspect: true`` (the two others ``false``), and the ``sync`` command the publish
sends it is obeyed, not refused as expired (its log says ``commands: sync (...)
accepted``).

Before the trust rule for a clock far ahead (``signage_core.trust.trusted_time``), the
device a year ahead never held a manifest (``manifest refused (expired)``) and this run
failed; see ``docs/benchmarks.md``.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import sys
import tempfile
import time
import tomllib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from content_server.keys import load_signing_keys
from content_server.settings import Settings
from scripts.loopback.stack import Stack
from signage_core.errors import SignageError
from signage_core.timefmt import parse_time
from signage_core.trust import TrustContext, accept_manifest

from . import load
from .server_kill import HEAL_WITHIN_S, Editor, went_back

DAYS = float(os.environ.get("FAULTS_CLOCK_DAYS", "365"))
POLL_S = float(os.environ.get("FAULTS_CLOCK_POLL_S", "10"))
SECONDS = float(os.environ.get("FAULTS_CLOCK_SECONDS", "90"))
DEVICES = {"clock-true": 0.0, "clock-back": -DAYS, "clock-ahead": DAYS}


def device_dir(stack: Stack, device_id: str) -> Path:
    config = tomllib.loads((stack.root / "devices" / f"{device_id}.toml").read_text())
    return Path(str(config["data_dir"]))


def held_manifest(stack: Stack, device_id: str) -> Any:
    path = device_dir(stack, device_id) / "state" / "manifest.json"
    return json.loads(path.read_bytes()) if path.exists() else None


def cached_whole(stack: Stack, device_id: str, sha: str) -> bool:
    path = device_dir(stack, device_id) / "cache" / sha
    return path.exists() and hashlib.sha256(path.read_bytes()).hexdigest() == sha


def db_rows(stack: Stack, sql: str, args: list[Any]) -> list[Any]:
    db = Settings(data_dir=stack.data_dir).db_path
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()


def start_devices(stack: Stack) -> None:
    for device_id, days in DEVICES.items():
        config = stack.root / "devices" / f"{device_id}.toml"
        text = config.read_text()
        config.write_text(f"poll_interval_s = {POLL_S}\nheartbeat_interval_s = 5\n{text}")
        argv = [sys.executable, "-m", "device_runtime", "--config", str(config)]
        env = {}
        if days:
            argv = ["faketime", "-f", f"{days:+g}d", *argv]
            env = {"FAKETIME_DONT_FAKE_MONOTONIC": "1"}
        stack.start_device(device_id, argv, env)


def clock_offsets(stack: Stack) -> dict[str, float | None]:
    """Days between each device's latest heartbeat ``ts`` and when the server got it."""
    out: dict[str, float | None] = {}
    for device_id in DEVICES:
        rows = db_rows(
            stack,
            "SELECT received_at, body FROM heartbeats WHERE device_id = ?"
            " ORDER BY received_at DESC LIMIT 1",
            [device_id],
        )
        if not rows:
            out[device_id] = None
            continue
        received, body = rows[0]
        ts = parse_time(json.loads(body)["ts"])
        out[device_id] = (ts - parse_time(received)).total_seconds() / 86400
    return out


def newest_heartbeat(stack: Stack, device_id: str) -> dict[str, Any] | None:
    rows = db_rows(
        stack,
        "SELECT body FROM heartbeats WHERE device_id = ? ORDER BY received_at DESC LIMIT 1",
        [device_id],
    )
    return json.loads(rows[0][0]) if rows else None


def main() -> int:
    root = Path(tempfile.mkdtemp(prefix="signage-fault-clocks-"))
    stack = Stack.running(root, dict.fromkeys(DEVICES, "adot-hall"))
    problems: list[str] = []

    def ok(cond: bool, what: str) -> None:
        print(f"{'ok  ' if cond else 'FAIL'} {what}", flush=True)
        if not cond:
            problems.append(what)

    try:
        stack.run("publish", "--data-dir", str(stack.data_dir))
        keys = {k.keyid: k.public for k in load_signing_keys(Settings(data_dir=stack.data_dir))}
        start_devices(stack)
        deadline = time.monotonic() + 60
        offsets = clock_offsets(stack)
        while None in offsets.values() and time.monotonic() < deadline:
            time.sleep(1)
            offsets = clock_offsets(stack)
        for device_id, days in DEVICES.items():
            got = offsets[device_id]
            stamped = "none" if got is None else f"{got:+.2f} days"
            ok(
                got is not None and abs(got - days) < 1,
                f"{device_id}: its clock is {days:+g} days off: heartbeats stamped "
                f"{stamped} from the server's clock",
            )
        if problems:
            for device_id in DEVICES:
                print(f"--- {device_id} log (tail):\n{stack.log(device_id)[-2000:]}")
            return 1

        editor = Editor(stack)
        editor.login()
        image = load.new_image(200)
        playlist = editor.prepare(image, "clock-notice")
        sha = editor.last_asset
        version = editor.publish(playlist)
        published = time.monotonic()
        assert version is not None
        print(f"publish: version {version} with a new image for every device", flush=True)

        versions: dict[str, list[tuple[int, float]]] = {d: [] for d in DEVICES}
        refused: dict[str, list[str]] = {d: [] for d in DEVICES}
        reached: dict[str, float] = {}
        while time.monotonic() - published < SECONDS:
            for device_id in DEVICES:
                envelope = held_manifest(stack, device_id)
                if envelope is None:
                    refused[device_id].append("no manifest held")
                    continue
                ctx = TrustContext(device_id, keys, None, datetime.now(UTC))
                try:
                    m = accept_manifest(envelope, ctx)
                except SignageError as e:
                    refused[device_id].append(getattr(e, "reason", str(e)))
                    continue
                history = versions[device_id]
                if not history or history[-1][0] != m.version:
                    history.append((m.version, time.monotonic()))
                if (
                    device_id not in reached
                    and m.version >= version
                    and cached_whole(stack, device_id, sha)
                ):
                    reached[device_id] = time.monotonic() - published
            if len(reached) == len(DEVICES) and time.monotonic() - published > 2 * POLL_S:
                break
            time.sleep(1)

        time.sleep(6)  # one more heartbeat (every 5 s) after the last look
        for device_id, days in DEVICES.items():
            beat = newest_heartbeat(stack, device_id) or {}
            want = days > 30
            ok(beat.get("clock_suspect") is want,
               f"{device_id}: heartbeat says clock_suspect={beat.get('clock_suspect')!r} "
               f"(expected {want})")  # fmt: skip
            log = stack.log(device_id)
            obeyed = "commands: sync (" in log and "refused a command" not in log
            ok(obeyed, f"{device_id}: the publish's sync command obeyed, none refused")
        for device_id in DEVICES:
            bad = refused[device_id]
            ok(not bad, f"{device_id}: held manifest verified at every look "
               f"({len(bad)} failed: {sorted(set(bad))[:3]})")  # fmt: skip
            held = [v for v, _ in versions[device_id]]
            ok(not went_back(versions[device_id]), f"{device_id}: versions held in order {held}")
            took = reached.get(device_id)
            ok(took is not None and took <= HEAL_WITHIN_S,
               f"{device_id}: version {version} held and its new image cached whole "
               f"{'never' if took is None else f'{took:.1f} s'} after the publish")  # fmt: skip
        return load.verdict(
            "faults_device_clocks", f"devices={len(DEVICES)} days={DAYS:g}", problems
        )
    finally:
        load.stop(stack)
