"""A device's disk filled while it downloads, then freed (``make faults``).

One real ``python -m device_runtime`` process (headless) against a real server and
Mosquitto (``scripts/loopback/stack.py``), its whole ``data_dir`` (cache and state) on
a real filesystem of a fixed size: a tmpfs of ``size=`` mounted in a private mount
namespace of the device process alone (``unshare --map-root-user --mount``, so the
machine's own mounts are untouched and no privilege is needed beyond user
namespaces). The kernel answers a write past its size with ENOSPC, as a full SD card
does. (``ulimit -f`` would give EFBIG per file, not a full disk; a loop device needs
root; so this is the honest small disk here.) The run reaches the device's files
through ``/proc/<pid>/root``, which shows them as the device sees them.

The filesystem holds what the device plays plus twice the new image. The device
downloads at ``FAULTS_DISK_BPS`` (default 8 Mbit/s) so the run can act mid-download:

1. the device holds the published manifest, every asset whole;
2. an editor publishes a new image (``FAULTS_DISK_ASSET_KB``, default 8192) for the
   city; once the device has part of it on disk (``cache/tmp/*.part``), a filler file
   takes every free byte: the device's next write gets ENOSPC;
3. the disk stays full ``FAULTS_DISK_FULL_S`` (default 30) s, then the filler is
   deleted.

The checker: every second the held ``state/manifest.json`` verifies with the server's
key and names the device, its version never goes back, and every asset it names is in
the cache whole (the device kept showing what it had); the device said ``disk_full``
(its heartbeat at the server, and its log); after the space came back the new version
was held with its image whole (the part file resumed) within 5 minutes.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from content_server.keys import load_signing_keys
from content_server.settings import Settings
from scripts.loopback.stack import Stack
from signage_core.errors import SignageError
from signage_core.trust import TrustContext, accept_manifest

from . import load
from .faults_device_clocks import db_rows
from .server_kill import HEAL_WITHIN_S, Editor, went_back

ASSET_KB = int(os.environ.get("FAULTS_DISK_ASSET_KB", "8192"))
FULL_S = float(os.environ.get("FAULTS_DISK_FULL_S", "30"))
BPS = int(os.environ.get("FAULTS_DISK_BPS", "8000000"))
DEVICE = "disk-1"


class DeviceDisk:
    """The device's data_dir, as the device process sees it (its own mount namespace)."""

    def __init__(self, stack: Stack, data_dir: Path) -> None:
        self.stack = stack
        self.data_dir = data_dir

    @property
    def root(self) -> Path:
        pid = self.stack.processes[DEVICE].pid
        return Path(f"/proc/{pid}/root") / self.data_dir.relative_to("/")

    def free(self) -> int:
        st = os.statvfs(self.root)
        return st.f_bavail * st.f_frsize

    def held(self) -> Any:
        path = self.root / "state" / "manifest.json"
        return json.loads(path.read_bytes()) if path.exists() else None

    def whole(self, sha: str) -> bool:
        path = self.root / "cache" / sha
        if not path.exists():
            return False
        return hashlib.sha256(path.read_bytes()).hexdigest() == sha

    def parts(self) -> int:
        folder = self.root / "cache" / "tmp"
        return sum(p.stat().st_size for p in folder.glob("*.part")) if folder.exists() else 0

    def fill(self) -> int:
        """Take every free byte with a filler file; the bytes written."""
        written = 0
        chunk = b"\0" * (1 << 20)
        with open(self.root / "filler", "wb", buffering=0) as f:
            while True:
                try:
                    written += f.write(chunk if written % (1 << 20) == 0 else chunk[:4096])
                except OSError as e:
                    if e.errno != errno.ENOSPC:
                        raise
                    if len(chunk) > 4096:
                        chunk = chunk[:4096]  # the last pages, a page at a time
                        continue
                    return written

    def unfill(self) -> None:
        (self.root / "filler").unlink()


def start_device(stack: Stack, size_bytes: int) -> Path:
    config = stack.root / "devices" / f"{DEVICE}.toml"
    text = config.read_text()
    config.write_text(
        f"poll_interval_s = 10\nheartbeat_interval_s = 5\nbandwidth_limit_bps = {BPS}\n{text}"
    )
    data_dir = stack.root / "devices" / DEVICE
    data_dir.mkdir(parents=True, exist_ok=True)
    mount = f"mount -t tmpfs -o size={size_bytes},mode=0700 device-disk {data_dir}"
    run = f"exec {sys.executable} -m device_runtime --config {config}"
    argv = ["unshare", "--map-root-user", "--mount", "--propagation", "private",
            "sh", "-c", f"{mount} && {run}"]  # fmt: skip
    stack.start_device(DEVICE, argv)
    return data_dir


def newest_heartbeats(stack: Stack, since: str) -> list[dict[str, Any]]:
    rows = db_rows(
        stack,
        "SELECT body FROM heartbeats WHERE device_id = ? AND received_at >= ? ORDER BY received_at",
        [DEVICE, since],
    )
    return [json.loads(r[0]) for r in rows]


def main() -> int:
    root = Path(tempfile.mkdtemp(prefix="signage-fault-disk-"))
    stack = Stack.running(root, {DEVICE: "adot-hall"})
    problems: list[str] = []

    def ok(cond: bool, what: str) -> None:
        print(f"{'ok  ' if cond else 'FAIL'} {what}", flush=True)
        if not cond:
            problems.append(what)

    try:
        stack.run("publish", "--data-dir", str(stack.data_dir))
        keys = {k.keyid: k.public for k in load_signing_keys(Settings(data_dir=stack.data_dir))}
        image = load.new_image(ASSET_KB)
        editor = Editor(stack)
        editor.login()
        held_now = sum(int(a["size"]) for a in published_assets(stack).values())
        size = held_now + 2 * len(image) + (4 << 20)
        data_dir = start_device(stack, size)
        disk = DeviceDisk(stack, data_dir)
        time.sleep(1)
        if stack.processes[DEVICE].poll() is not None:
            print(stack.log(DEVICE)[-2000:])
            ok(False, "the device started on its own small filesystem")
            return load.verdict("faults_disk_full", "", problems)
        print(f"disk: a {size / 2**20:.1f} MiB tmpfs for the device "
              f"({held_now / 2**20:.1f} MiB to hold now, then a {len(image) / 2**20:.1f} MiB "
              f"image)", flush=True)  # fmt: skip

        versions: list[tuple[int, float]] = []
        bad: list[str] = []

        def look() -> Any:
            envelope = disk.held()
            if envelope is None:
                bad.append("no manifest held")
                return None
            ctx = TrustContext(DEVICE, keys, None, datetime.now(UTC))
            try:
                m = accept_manifest(envelope, ctx)
            except SignageError as e:
                bad.append(getattr(e, "reason", str(e)))
                return None
            if not versions or versions[-1][0] != m.version:
                versions.append((m.version, time.monotonic()))
            missing = [s for s in m.asset_hashes() if not disk.whole(s)]
            if missing:
                bad.append(f"version {m.version}: {len(missing)} asset(s) not whole")
            return m

        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            envelope = disk.held()
            if envelope is not None:
                m = accept_manifest(envelope, TrustContext(DEVICE, keys, None, datetime.now(UTC)))
                if all(disk.whole(s) for s in m.asset_hashes()):
                    break
            time.sleep(1)
        first = look()
        ok(first is not None and not bad, "the device holds the published manifest, assets whole")
        if problems:
            print(stack.log(DEVICE)[-3000:])
            return load.verdict("faults_disk_full", "", problems)
        bad.clear()

        playlist = editor.prepare(image, "disk-notice")
        sha = editor.last_asset
        started = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        version = editor.publish(playlist)
        assert version is not None
        print(f"publish: version {version} with a {len(image) / 2**20:.1f} MiB image", flush=True)
        deadline = time.monotonic() + 120
        while disk.parts() == 0 and time.monotonic() < deadline:
            look()
            time.sleep(0.05)
        part = disk.parts()
        filled = disk.fill()
        print(f"fault: disk filled ({filled / 2**20:.1f} MiB filler) with {part} bytes of the "
              f"new image on it; {disk.free()} bytes free", flush=True)  # fmt: skip
        ok(part > 0, "the disk filled while the new image was part-way down")
        full_until = time.monotonic() + FULL_S
        while time.monotonic() < full_until:
            look()
            time.sleep(1)
        disk.unfill()
        freed = time.monotonic()
        print(f"fault: disk freed after {FULL_S:.0f} s", flush=True)
        reached = None
        while time.monotonic() - freed < HEAL_WITHIN_S + 10:
            m = look()
            if m is not None and m.version >= version and disk.whole(sha):
                reached = time.monotonic() - freed
                break
            time.sleep(1)

        ok(not bad, f"held manifest verified, its assets whole, at every look "
           f"({len(bad)} failed: {sorted(set(bad))[:3]})")  # fmt: skip
        ok(not went_back(versions), f"versions held in order {[v for v, _ in versions]}")
        states = {(b.get("sync") or {}).get("state") for b in newest_heartbeats(stack, started)}
        log = stack.log(DEVICE)
        enospc = log.count("the disk is full writing")
        seen = sorted(map(str, states))
        ok("disk_full" in states, f"the device said disk_full in its heartbeat (seen: {seen})")
        ok(enospc > 0, f"a download write got ENOSPC from the filesystem ({enospc} in the log; "
           f"refused before writing: {log.count('the new content needs')})")  # fmt: skip
        took = "never" if reached is None else f"{reached:.1f} s"
        ok(reached is not None and reached <= HEAL_WITHIN_S,
           f"version {version} held, its image whole, {took} after the disk was freed")  # fmt: skip
        return load.verdict(
            "faults_disk_full",
            f"devices=1 asset_kb={ASSET_KB} full_s={FULL_S:g}",
            problems,
        )
    finally:
        load.stop(stack)


def published_assets(stack: Stack) -> dict[str, Any]:
    """The assets of the device's newest manifest, read from the server's database."""
    rows = db_rows(
        stack,
        "SELECT envelope FROM manifests WHERE device_id = ? ORDER BY version DESC LIMIT 1",
        [DEVICE],
    )
    assets: dict[str, Any] = json.loads(rows[0][0])["signed"]["assets"]
    return assets
