"""A device that floods its heartbeat topic (a stolen MQTT password) through a real
Mosquitto: the server keeps at most its allowance, drops and counts the rest, and
hears the other devices as before."""

from __future__ import annotations

import time

from signage_core import topics
from tests.fleet.fleet_kit import Fleet
from tests.fleet.test_fleet_health import beat, device_client, send
from tests.support.mqtt_watch import close_client
from tests.support.waiting import wait_until

FLOOD = 500


def _stats(fleet: Fleet) -> dict[str, int]:
    r = fleet.api("GET", "/fleet/ingest")
    assert r.status_code == 200, r.text
    return dict(r.json())


def test_a_heartbeat_flood_is_dropped_beyond_the_devices_allowance_and_counted(
    fleet: Fleet,
) -> None:
    settings = fleet.settings  # 600 a minute (10 a second) after a burst of 20
    before = _stats(fleet)
    flooder = device_client(fleet, "adot-gate-1")
    try:
        started = time.monotonic()
        infos = [
            flooder.publish(topics.heartbeat_topic("adot-gate-1"), beat(n), qos=1)
            for n in range(FLOOD)
        ]
        for info in infos:
            info.wait_for_publish(10)
        wait_until(
            lambda: _stats(fleet).get("received", 0) - before.get("received", 0) >= FLOOD,
            30,
            "the flood at the server",
            step=0.1,
        )
        took = time.monotonic() - started
    finally:
        close_client(flooder)

    # Another device is heard as before.
    calm = device_client(fleet, "hongvan-1")
    try:
        send(calm, topics.heartbeat_topic("hongvan-1"), beat(7))
        wait_until(
            lambda: (fleet.health("hongvan-1")["heartbeat"] or {}).get("seq") == 7, 10, "calm"
        )
    finally:
        close_client(calm)

    after = _stats(fleet)
    dropped = after.get("dropped_rate_limited", 0) - before.get("dropped_rate_limited", 0)
    stored = after.get("heartbeats_stored", 0) - before.get("heartbeats_stored", 0) - 1
    allowance = settings.heartbeat_burst + settings.heartbeats_per_minute / 60 * took + 1
    assert stored + dropped == FLOOD  # each one either kept or dropped and counted
    assert stored <= allowance, (stored, allowance)
    assert dropped >= FLOOD - allowance
