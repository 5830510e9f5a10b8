"""Mosquitto stopped for minutes and restarted under load (``make faults``).

``FAULTS_DEVICES`` (default 200) simulated screens (``bench/load.py``) run against a
real server and Mosquitto. After 10 s the broker is stopped; 5 s later an editor
publishes for the whole city, so the ``sync`` commands have no broker to go through;
``FAULTS_BROKER_DOWN_S`` (default 120) after the stop the broker is started again with
the same configuration, and the screens go on until every one has the new image and
the server has stored a heartbeat from every one sent after the restart (the server's own
link must come back too: its backoff reaches 30 s); then the run ends (at most 5 minutes
after the restart).

The checker, over what the server recorded:

- every proof-of-play record arrived once (ids in the server's database = ids sent),
  and no HTTP request failed (manifests, assets and records do not need the broker);
- the publish reached every screen (it downloaded the new image, bytes checked against
  the sha256) within 5 minutes of the broker coming back;
- every screen logged in to the broker again and the server stored a heartbeat from
  every screen sent after the restart (the server's own MQTT link came back too).
"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import time
from datetime import UTC, datetime
from typing import Any

from content_server.settings import Settings
from scripts.loopback.stack import Stack
from signage_core.timefmt import format_time

from . import load
from .load import Fleet
from .server_kill import HEAL_WITHIN_S, finish_when

DEVICES = int(os.environ.get("FAULTS_DEVICES", "200"))
DOWN_S = float(os.environ.get("FAULTS_BROKER_DOWN_S", "120"))
PRE_S = 10.0  # the screens at work before the broker stops


class Outage:
    def __init__(self) -> None:
        self.healed_at = 0.0  # monotonic
        self.healed_wall = ""  # as the server writes times

    async def __call__(self, fleet: Fleet, stack: Stack, image: bytes, seconds: float) -> None:
        await asyncio.sleep(PRE_S)
        stack.kill("mosquitto", signal.SIGTERM)
        print("fault: broker stopped", flush=True)
        await asyncio.sleep(5)
        await fleet.publish(stack, image)  # its sync commands have nowhere to go
        await asyncio.sleep(max(0.0, DOWN_S - 5 - (time.monotonic() - fleet.published_at)))
        self.healed_wall = format_time(datetime.now(UTC))
        try:
            await asyncio.to_thread(stack.start_broker)
        except TimeoutError:
            print(f"the broker did not come back; its log:\n{stack.log('mosquitto')[-3000:]}")
            raise
        self.healed_at = time.monotonic()
        print(f"fault: broker started again after {DOWN_S:.0f} s", flush=True)
        new = fleet.new_asset

        async def caught_up() -> bool:
            if not all(new in d.assets for d in fleet.devices):
                return False
            beating = await asyncio.to_thread(beating_after, stack, self.healed_wall)
            return beating == len(fleet.devices)

        await finish_when(fleet, caught_up, HEAL_WITHIN_S + 10)
        print(f"fault: every screen caught up {time.monotonic() - self.healed_at:.0f} s "
              f"after the restart", flush=True)  # fmt: skip


def beating_after(stack: Stack, since: str) -> int:
    """Devices with a heartbeat the server stored after ``since``."""
    db = Settings(data_dir=stack.data_dir).db_path
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        row = con.execute(
            "SELECT count(DISTINCT device_id) FROM heartbeats"
            " WHERE device_id LIKE 'load-%' AND received_at > ?",
            [since],
        ).fetchone()
    finally:
        con.close()
    return int(row[0])


def main() -> int:
    # At most; the run ends once every screen caught up after the restart (``finish_when``).
    seconds = PRE_S + DOWN_S + HEAL_WITHIN_S + 20
    stack, devices = load.start_stack(DEVICES, "signage-fault-broker-")
    outage = Outage()
    try:
        fleet, mqtt_fleet = asyncio.run(load.drive(stack, devices, seconds, outage))
        beats, records, extra = load.read_back(stack, devices)
        sent_records = sum(len(d.sent_records) for d in devices)
        sent_beats = sum(d.heartbeats_sent for d in devices)
        new = fleet.new_asset or ""
        late = [d.got_at[new] - outage.healed_at for d in devices if new in d.got_at]
        beating = beating_after(stack, outage.healed_wall)
        problems: list[str] = []

        def check(ok: Any, what: str) -> None:
            print(f"{'ok  ' if ok else 'FAIL'} {what}")
            if not ok:
                problems.append(what)

        check(fleet.stats.failed == 0, f"HTTP requests failed: {fleet.stats.failed} "
              f"{fleet.stats.errors or ''}")  # fmt: skip
        check(records == sent_records and not extra,
              f"records stored once: {records}/{sent_records}, unknown: {extra}")  # fmt: skip
        check(len(late) == len(devices) and max(late, default=0) <= HEAL_WITHIN_S,
              f"new image on {len(late)}/{len(devices)} screens, the last "
              f"{max(late, default=0):+.1f} s from the broker's restart")  # fmt: skip
        check(fleet.mqtt_connected_at_end == len(devices),
              f"screens logged in again: {fleet.mqtt_connected_at_end}/{len(devices)} "
              f"({mqtt_fleet.disconnects} disconnects seen)")  # fmt: skip
        check(
            beating == len(devices),
            f"screens with a heartbeat stored after the restart: {beating}/{len(devices)}",
        )
        print(f"heartbeats stored/sent (QoS 0; those sent into the dying broker are lost): "
              f"{beats}/{sent_beats}")  # fmt: skip
        return load.verdict(
            "faults_broker_restart", f"devices={len(devices)} down_s={DOWN_S:.0f}", problems
        )
    finally:
        load.stop(stack)
