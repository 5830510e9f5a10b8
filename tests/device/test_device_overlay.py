"""The ``overlay`` command and what a technician and the fleet page learn from a device:
the maintenance facts, and the videos the player skipped, in the heartbeat."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from device_runtime import Runtime
from device_runtime.netinfo import addresses
from signage_core import topics
from tests.conftest import TEST_DEVICE
from tests.device.fake_signage_server import FakeServer, device_settings
from tests.device.test_device_mqtt import DEVICE, Watcher, signed_command
from tests.support.mosquitto import Broker
from tests.support.waiting import wait_until


def test_a_signed_overlay_command_reaches_the_app_and_an_unsigned_one_does_not(
    tmp_path: Path, broker: Broker
) -> None:
    """Over real Mosquitto: the player's overlay listener is called for a signed
    ``overlay``; a forged one (unknown key) is refused and calls nothing."""
    from signage_core.signing import SigningKey

    watcher = Watcher(broker, topics.heartbeat_topic(DEVICE))
    server = FakeServer(device_id=DEVICE)
    server.publish_assets(1, b"PNG " * 100)
    settings = device_settings(
        tmp_path, server, mqtt_url=broker.url, mqtt_password=TEST_DEVICE.password,
        heartbeat_interval_s=0.5, poll_interval_s=3600,
    )  # fmt: skip
    shown = threading.Event()
    rt = Runtime(settings, fetcher=server)
    rt.commands.add_overlay_listener(shown.set)
    rt.start()
    try:
        assert rt.link is not None and rt.link.wait_connected(10)
        watcher.wait(topics.heartbeat_topic(DEVICE), seq=1)
        cmd = topics.cmd_topic(DEVICE)
        watcher.publish_raw(cmd, signed_command("overlay", SigningKey.generate()))
        wait_until(lambda: rt.commands.refused == 1)
        assert rt.commands.last_refusal.startswith("unknown_key") and not shown.is_set()
        watcher.publish_raw(cmd, signed_command("overlay", server.key))
        assert shown.wait(10)
    finally:
        rt.stop()
        watcher.close()


@pytest.mark.live  # the runtime's threads and timed waits (EINVAL under faketime)
def test_skipped_videos_are_in_the_heartbeat_and_the_maintenance_facts_name_the_device(
    tmp_path: Path,
) -> None:
    server = FakeServer(device_id=DEVICE)
    server.publish_assets(1, b"PNG " * 100)
    settings = device_settings(tmp_path, server, poll_interval_s=3600)
    rt = Runtime(settings, fetcher=server, enable_mqtt=False)
    rt.start()
    try:
        wait_until(lambda: rt.current is not None)
        assert rt.heartbeat()["skipped"] == {"videos": 0, "last": []}
        at = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)
        for i in range(7):
            rt.report_skipped(
                playlist_id="adot-welcome", item_id=f"clip-{i}", language="vi",
                asset="ab" * 32, reason="video adot-welcome/clip (vi): cannot be opened", at=at,
            )  # fmt: skip
        beat = rt.heartbeat()
        topics.check_heartbeat({"seq": 1, "ts": "2026-12-02T08:00:00Z", **beat})
        skipped = beat["skipped"]
        assert skipped["videos"] == 7
        assert [s["item"] for s in skipped["last"]] == [f"clip-{i}" for i in range(2, 7)]
        assert skipped["last"][-1]["at"] == "2026-12-02T08:00:00Z"
        info = rt.maintenance_info()
        assert info["device_id"] == DEVICE
        assert info["manifest_version"] == 1
        assert info["cache"]["files"] >= 1 and info["sync"]["last_ok"]
        assert info["addresses"] == addresses() and all(" " in a for a in info["addresses"])
    finally:
        rt.stop()
