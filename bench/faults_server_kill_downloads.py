"""The content server SIGKILLed while screens download an asset, and restarted (``make faults``).

``FAULTS_DEVICES`` (default 100) simulated screens (``bench/load.py``, taking manifests
as ``device_runtime`` does: ``bench/server_kill.py``) run against a real server and
Mosquitto; they poll every ``FAULTS_POLL_S`` (default 20) s. After 5 s an editor
publishes a city-wide playlist with a new image of
``FAULTS_ASSET_KB`` (default 16384) KiB; the server's ``sync`` sends every screen after
it within a second (the server runs with ``CONTENT_SERVER_SYNC_RATE_PER_S`` at
``FAULTS_SYNC_RATE_PER_S``, default 100 screens a second: screens on real links take
seconds over such a file, so many are part-way at once; the simulated ones on loopback
take a fraction of a second, and at the server's default 20 a second few would be), and
as soon as a tenth of the screens have part of the asset the server is killed with
SIGKILL (if that many never are at once: a second after the first one began, at a moment
some are part-way). It is started again
``FAULTS_DOWN_S`` (default 5) s later; the screens go on until every one holds the new
version (at most 5 minutes), and the run ends.

The checker: as for the publish run (no manifest refused, no version gone back, the
acknowledged version on every screen within 5 minutes of the restart, records once),
and: the kill cut downloads part-way (else the run proves nothing and fails); every
screen ends with every asset of the manifest it holds downloaded whole and matching its
sha256. A screen switches to a manifest only once it holds all its assets whole (it keeps
the last good one until then): that is the simulator's rule, copied from
``device_runtime``; the real runtime's cache under kills is checked by
``faults_kill_loop``.
"""

from __future__ import annotations

import asyncio
import os
import time

from scripts.loopback.stack import Stack

from . import load, server_kill
from .load import Fleet
from .server_kill import Acked, CheckedFleet, Editor

ASSET_KB = int(os.environ.get("FAULTS_ASSET_KB", "16384"))
DOWN_S = float(os.environ.get("FAULTS_DOWN_S", "5"))
MIDWAY = max(1, server_kill.DEVICES // 10)  # kill once this many screens are part-way
SYNC_RATE = os.environ.get("FAULTS_SYNC_RATE_PER_S", "100")
RATE_SETTING = "CONTENT_SERVER_SYNC_RATE_PER_S"


class KillDuringDownloads:
    def __init__(self) -> None:
        self.acked: list[Acked] = []
        self.inflight_at_kill = 0
        self.midway_at_kill = 0

    async def __call__(self, fleet: Fleet, stack: Stack, _image: bytes, seconds: float) -> None:
        assert isinstance(fleet, CheckedFleet)
        image = await asyncio.to_thread(load.new_image, ASSET_KB)
        await asyncio.sleep(5)
        editor = Editor(stack)
        await asyncio.to_thread(editor.login)
        playlist = await asyncio.to_thread(editor.prepare, image, "kill-downloads-notice")
        version = await asyncio.to_thread(editor.publish, playlist)
        assert version is not None, "the publish got no answer (the server is up here)"
        print(f"publish: version {version} with a {len(image) // 1024} KiB image", flush=True)
        deadline = time.monotonic() + 30
        first = 0.0  # when a screen first had part of the asset
        while time.monotonic() < deadline:
            part_way = fleet.midway()
            first = first or (time.monotonic() if part_way else 0.0)
            if part_way >= MIDWAY or (part_way and time.monotonic() - first > 1.0):
                break
            await asyncio.sleep(0.005)
        self.inflight_at_kill = fleet.inflight
        self.midway_at_kill = fleet.midway()
        t0 = time.monotonic()
        server_kill.kill_server(stack)
        print(f"fault: server killed with {self.inflight_at_kill} downloads under way, "
              f"{self.midway_at_kill} part-way through the asset", flush=True)  # fmt: skip
        await asyncio.sleep(DOWN_S)
        healed = await server_kill.restart(stack)
        print(f"fault: server back in {healed - t0:.1f} s", flush=True)
        self.acked.append(Acked(version, healed))

        async def caught_up() -> bool:
            return server_kill.holding(fleet, fleet.devices, version)

        await server_kill.finish_when(fleet, caught_up, server_kill.HEAL_WITHIN_S + 10)


def main() -> int:
    saved = os.environ.get(RATE_SETTING)
    os.environ[RATE_SETTING] = SYNC_RATE  # the server, and its restart, start with it
    try:
        return _run()
    finally:
        if saved is None:
            del os.environ[RATE_SETTING]
        else:
            os.environ[RATE_SETTING] = saved


def _run() -> int:
    # At most; the run ends once every screen holds the new version (``finish_when``).
    seconds = 5 + 60 + DOWN_S + server_kill.HEAL_WITHIN_S + 20
    stack, devices = load.start_stack(server_kill.DEVICES, "signage-fault-kill-downloads-")
    scenario = KillDuringDownloads()
    try:
        fleet = asyncio.run(server_kill.drive_checked(stack, devices, seconds, scenario))
        records = server_kill.records_of(stack, devices)
        problems = server_kill.check(fleet, devices, scenario.acked, records)

        def ok(cond: bool, what: str) -> None:
            print(f"{'ok  ' if cond else 'FAIL'} {what}")
            if not cond:
                problems.append(what)

        ok(fleet.cut_midway > 0,
           f"downloads cut part-way through the asset by the kill: {fleet.cut_midway} "
           f"(under way at the kill: {scenario.inflight_at_kill}, part-way: "
           f"{scenario.midway_at_kill})")  # fmt: skip
        # d.assets holds only downloads whose bytes matched their sha256 (warm-up aside).
        whole = [d for d in devices if fleet.held_assets[d.id] <= d.assets]
        ok(len(whole) == len(devices),
           f"screens whose held manifest's assets are all whole (sha256 checked): "
           f"{len(whole)}/{len(devices)}")  # fmt: skip
        print(f"requests that found no server (expected while it was down): {fleet.down_errors}")
        return load.verdict(
            "faults_server_kill_downloads", f"devices={len(devices)} asset_kb={ASSET_KB}", problems
        )
    finally:
        load.stop(stack)
