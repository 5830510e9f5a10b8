"""Uptime from real heartbeats: the MQTT ingest credits each heartbeat to the device's
per-day total (which outlives the pruned heartbeat history), and the report shows it."""

from __future__ import annotations

from datetime import UTC, datetime

from content_server.uptime import ZONE
from signage_core import topics
from tests.fleet.fleet_kit import Fleet
from tests.fleet.test_fleet_health import beat, device_client, send
from tests.support.mqtt_watch import close_client
from tests.support.waiting import wait_until


def online_s(fleet: Fleet, device_id: str, day: str) -> int:
    r = fleet.api("GET", "/reports/uptime", params={"since": day, "until": day})
    assert r.status_code == 200, r.text
    return next(u["online_s"] for u in r.json() if u["device_id"] == device_id)


def test_heartbeats_add_up_to_uptime_in_the_report(fleet: Fleet) -> None:
    device = "hongvan-1"
    day = datetime.now(UTC).astimezone(ZONE).date().isoformat()
    before = online_s(fleet, device, day)
    client = device_client(fleet, device)
    try:
        # interval 2 s: ten heartbeats 0.2 s apart count as their gaps plus one interval
        for seq in range(10):
            send(client, topics.heartbeat_topic(device), beat(seq, interval_s=2.0))
            wait_until(
                lambda s=seq: (fleet.health(device)["heartbeat"] or {}).get("seq") == s,
                10,
                f"beat {seq}",
            )
        wait_until(lambda: online_s(fleet, device, day) > before, 10, "uptime counted")
        gained = online_s(fleet, device, day) - before
        assert 2 <= gained <= 2 + 10 * 6, gained  # one interval, then the real gaps (≤ 3 × 2 s)
    finally:
        close_client(client)
    rows = fleet.api(
        "GET", "/reports/uptime", params={"since": day, "until": day, "device_id": device}
    ).json()
    assert [u["device_id"] for u in rows] == [device] and rows[0]["days"] == {
        day: rows[0]["online_s"]
    }
