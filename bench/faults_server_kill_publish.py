"""The content server SIGKILLed during a publish and restarted (``make faults``).

``FAULTS_DEVICES`` (default 100) simulated screens (``bench/load.py``, taking manifests
as ``device_runtime`` does: ``bench/server_kill.py``) run against a real server and
Mosquitto; they poll every ``FAULTS_POLL_S`` (default 20) s. ``FAULTS_KILLS`` times
(default 3), 1 s after the round before (so each kill finds screens still fetching the
version before: polls, downloads and record posts cut): an editor uploads a new image
and saves a city-wide playlist, asks the server to publish it, and the server is killed
with SIGKILL 0-``FAULTS_KILL_WINDOW_MS`` ms after the request went out (round n of k: at
random in the n-th k-th of that window): before, during or just after the signing and
the answer. By default the window is 1.5 times what one publish without a fault took,
measured first (that publish is checked like the others). It is started again
``FAULTS_DOWN_S`` (default 5) s later on the same data. If the editor got no answer, she
publishes again after the restart (what a person does), so every round ends with an
acknowledged version. The screens then go on until every one holds the last
acknowledged version (at most 5 minutes), and the run ends.

The checker: no screen refused a manifest (every one it was served verified with the
server's key, named it, and was not older than the one it held) or went back a version;
every acknowledged version reached every screen within 5 minutes of the restart; every
proof-of-play record is stored once (a batch whose answer the kill swallowed is sent
again and must not be stored twice).
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from typing import Any

from scripts.loopback.stack import Stack

from . import load, server_kill
from .load import Fleet
from .server_kill import Acked, CheckedFleet, Editor

KILLS = int(os.environ.get("FAULTS_KILLS", "3"))
WINDOW_MS = float(os.environ.get("FAULTS_KILL_WINDOW_MS", "0"))  # 0: 1.5x a publish
DOWN_S = float(os.environ.get("FAULTS_DOWN_S", "5"))
GAP_S = 1.0


class KillDuringPublish:
    def __init__(self) -> None:
        self.acked: list[Acked] = []
        self.rounds: list[str] = []

    async def __call__(self, fleet: Fleet, stack: Stack, image: bytes, seconds: float) -> None:
        assert isinstance(fleet, CheckedFleet)
        window_s = WINDOW_MS / 1000
        if not window_s:  # how long a publish takes here, without a fault
            await asyncio.sleep(GAP_S)
            editor = Editor(stack)
            await asyncio.to_thread(editor.login)
            playlist = await asyncio.to_thread(editor.prepare, image, "kill-notice-0")
            t0 = time.monotonic()
            version = await asyncio.to_thread(editor.publish, playlist)
            took = time.monotonic() - t0
            assert version is not None
            self.acked.append(Acked(version, time.monotonic()))
            window_s = 1.5 * took
            print(
                f"publish without a fault: version {version} answered in "
                f"{took * 1000:.0f} ms; kills spread over {window_s * 1000:.0f} ms",
                flush=True,
            )
        for n in range(KILLS):
            await asyncio.sleep(GAP_S)
            editor = Editor(stack)
            await asyncio.to_thread(editor.login)
            body = await asyncio.to_thread(load.new_image, load.ASSET_KB)
            playlist = await asyncio.to_thread(editor.prepare, body, f"kill-notice-{n + 1}")
            publish = asyncio.create_task(asyncio.to_thread(editor.publish, playlist))
            delay = (n + random.random()) / KILLS * window_s  # early to late
            await asyncio.sleep(delay)
            t0 = time.monotonic()
            found_down = fleet.down_errors
            await asyncio.to_thread(server_kill.kill_server, stack)
            version = await publish
            await asyncio.sleep(max(0.0, DOWN_S - (time.monotonic() - t0)))
            healed = await server_kill.restart(stack)
            retried = version is None
            if retried:
                editor = Editor(stack)
                await asyncio.to_thread(editor.login)
                version = await asyncio.to_thread(editor.publish, playlist)
            assert version is not None
            self.acked.append(Acked(version, healed))
            line = (
                f"round {n + 1}: killed {delay * 1000:.0f} ms into the publish; "
                f"{'no answer, published again after the restart' if retried else 'answered'}"
                f" as version {version}; server back in {healed - t0:.1f} s; "
                f"{fleet.down_errors - found_down} requests of the screens found it down"
            )
            self.rounds.append(line)
            print(f"fault: {line}", flush=True)
        last = self.acked[-1].version

        async def caught_up() -> bool:
            return server_kill.holding(fleet, fleet.devices, last)

        await server_kill.finish_when(fleet, caught_up, server_kill.HEAL_WITHIN_S + 10)


def main() -> int:
    # At most: rounds of a minute each, then the 5 minutes the screens have to catch up.
    # The run ends as soon as they have (``server_kill.finish_when``).
    seconds = (KILLS + 1) * (GAP_S + DOWN_S + 60) + server_kill.HEAL_WITHIN_S + 20
    stack, devices = load.start_stack(server_kill.DEVICES, "signage-fault-kill-publish-")
    scenario = KillDuringPublish()
    try:
        fleet = asyncio.run(server_kill.drive_checked(stack, devices, seconds, scenario))
        records = server_kill.records_of(stack, devices)
        problems: list[Any] = []
        if len(scenario.rounds) < KILLS:
            problems.append(f"only {len(scenario.rounds)}/{KILLS} rounds ran")
            print(f"FAIL only {len(scenario.rounds)}/{KILLS} rounds ran")
        problems += server_kill.check(fleet, devices, scenario.acked, records)
        print(f"requests that found no server (expected while it was down): "
              f"{fleet.down_errors}, downloads cut part-way: {fleet.cut_midway}")  # fmt: skip
        return load.verdict(
            "faults_server_kill_publish", f"devices={len(devices)} kills={KILLS}", problems
        )
    finally:
        load.stop(stack)
