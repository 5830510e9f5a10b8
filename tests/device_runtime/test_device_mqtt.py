"""The MQTT link against a real Mosquitto: status, heartbeats, commands, last will."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from fake_signage_server import FakeServer, device_settings
from paho.mqtt.enums import CallbackAPIVersion

from content_server.broker import SERVER_USER
from device_runtime import Runtime
from device_runtime.mqtt_link import MqttLink
from device_runtime.state import SessionCounter
from signage_core import topics
from tests.conftest import TEST_DEVICE
from tests.support.mosquitto import Broker, free_port

DEVICE = TEST_DEVICE.device_id
ROOT = Path(__file__).resolve().parents[2]


class Watcher:
    """The server's side: a paho client on the server account that collects messages."""

    def __init__(self, broker: Broker, *topic_filters: str) -> None:
        self.messages: queue.Queue[tuple[str, dict[str, Any], bool]] = queue.Queue()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"watch-{time.time()}")
        self.client.username_pw_set(SERVER_USER, broker.server_password)
        self.filters = topic_filters
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", broker.server_port, keepalive=10)
        self.client.loop_start()

    def _on_connect(self, client: mqtt.Client, *args: Any) -> None:
        for f in self.filters:
            client.subscribe(f, qos=1)

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        self.messages.put((msg.topic, topics.decode(msg.payload), bool(msg.retain)))

    def wait(
        self,
        topic: str,
        timeout: float = 10.0,
        where: Callable[[dict[str, Any]], bool] = lambda p: True,
        **match: Any,
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                t, payload, _ = self.messages.get(timeout=left)
            except queue.Empty:
                break
            if t == topic and all(payload.get(k) == v for k, v in match.items()) and where(payload):
                return payload
        raise AssertionError(f"no message on {topic} matching {match} within {timeout}s")

    def publish(self, topic: str, payload: dict[str, Any]) -> None:
        self.client.publish(topic, topics.encode(payload), qos=1).wait_for_publish(5)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def watcher(broker: Broker) -> Iterator[Watcher]:
    w = Watcher(broker, topics.status_topic(DEVICE), topics.heartbeat_topic(DEVICE))
    yield w
    w.close()


def test_link_says_online_beats_obeys_sync_and_says_offline(
    tmp_path: Path, broker: Broker, watcher: Watcher
) -> None:
    server = FakeServer(device_id=DEVICE)
    server.publish_assets(1, b"PNG " * 100)
    settings = device_settings(
        tmp_path,
        server,
        mqtt_url=broker.url,
        mqtt_password=TEST_DEVICE.password,
        heartbeat_interval_s=0.5,
        poll_interval_s=3600,
    )
    rt = Runtime(settings, app_name="signage-player", app_version="0.1.0", fetcher=server)
    try:
        rt.start()
        online = watcher.wait(topics.status_topic(DEVICE), state="online")
        assert topics.check_status(online)["session"] == 1

        beat = watcher.wait(topics.heartbeat_topic(DEVICE), manifest_version=1)
        fields = set(topics.check_heartbeat(beat))
        assert fields == set(topics.HEARTBEAT_FIELDS) | set(topics.HEARTBEAT_OPTIONAL)
        assert beat["interval_s"] == 0.5 and beat["alerts"]["refused"] == 0
        assert beat["app"] == {"name": "signage-player", "version": "0.1.0"}
        assert beat["sync"]["state"] == "idle" and beat["cache"]["files"] == 1
        seq = beat["seq"]
        assert watcher.wait(topics.heartbeat_topic(DEVICE))["seq"] > seq

        server.publish_assets(2, b"PNG " * 100, b"JPEG " * 50)
        watcher.publish(topics.cmd_topic(DEVICE), {"cmd": "sync", "id": "c1"})
        watcher.wait(topics.heartbeat_topic(DEVICE), manifest_version=2)  # hour-long poll
    finally:
        rt.stop()

    offline = watcher.wait(topics.status_topic(DEVICE), state="offline")
    assert offline["session"] == 1
    late = Watcher(broker, topics.status_topic(DEVICE))  # what a server starting now sees
    try:
        _, retained_payload, retained = late.messages.get(timeout=5)
        assert retained and retained_payload["state"] == "offline"
    finally:
        late.close()


def _config(tmp_path: Path, broker: Broker, server: FakeServer) -> Path:
    path = tmp_path / "device.toml"
    path.write_text(
        "\n".join(
            [
                f'device_id = "{DEVICE}"',
                'token = "device-token"',
                f'server_url = "http://127.0.0.1:{free_port()}"',  # unreachable
                f'trusted_keys = ["{server.key.public.spec()}"]',
                f'mqtt_url = "{broker.url}"',
                f'mqtt_password = "{TEST_DEVICE.password}"',
                'data_dir = "data"',
                "heartbeat_interval_s = 1",
                "request_timeout_s = 2",
                "mqtt_keepalive_s = 2",
                "",
            ]
        ),
        encoding="utf-8",
    )
    return path


def _device_process(config: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "device_runtime", "--config", str(config)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def test_killed_device_turns_offline_and_a_restart_is_a_new_session(
    tmp_path: Path, broker: Broker, watcher: Watcher
) -> None:
    config = _config(tmp_path, broker, FakeServer(device_id=DEVICE))

    # A clean stop (SIGTERM) says offline itself and exits 0.
    proc = _device_process(config)
    try:
        first = watcher.wait(topics.status_topic(DEVICE), state="online")
        watcher.wait(topics.heartbeat_topic(DEVICE))
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
    finally:
        proc.kill()
        stderr = proc.stderr.read().decode() if proc.stderr else ""
    assert watcher.wait(topics.status_topic(DEVICE), state="offline")["session"] == first["session"]
    assert "heartbeat" in stderr and "cannot be reached" in stderr

    # SIGKILL: no goodbye; the broker publishes the will.
    proc = _device_process(config)
    try:
        second = watcher.wait(topics.status_topic(DEVICE), state="online")
        assert second["session"] == first["session"] + 1
        # The HTTP server is down, MQTT is not: the heartbeat says so.
        beat = watcher.wait(
            topics.heartbeat_topic(DEVICE), where=lambda p: p["sync"]["state"] != "syncing"
        )
        assert (
            beat["sync"]["state"] == "offline" and "cannot be reached" in beat["sync"]["last_error"]
        )
        proc.send_signal(signal.SIGKILL)
        proc.wait(5)
        will = watcher.wait(topics.status_topic(DEVICE), timeout=8, state="offline")
        assert will["session"] == second["session"]
    finally:
        proc.kill()
        proc.wait()
        if proc.stderr:
            proc.stderr.close()


def test_a_device_with_a_wrong_password_keeps_playing(tmp_path: Path, broker: Broker) -> None:
    server = FakeServer(device_id=DEVICE)
    server.publish_assets(1, b"PNG " * 10)
    settings = device_settings(
        tmp_path, server, mqtt_url=broker.url, mqtt_password="wrong", poll_interval_s=3600
    )
    rt = Runtime(settings, fetcher=server)
    try:
        rt.start()
        deadline = time.monotonic() + 5
        while rt.current is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert rt.current is not None and rt.current.manifest.version == 1
        assert rt.link is not None and not rt.link.wait_connected(1.0)
    finally:
        rt.stop()


def test_commands_only_wake_and_stale_ones_are_ignored(tmp_path: Path) -> None:
    now = datetime(2026, 11, 26, 5, 0, tzinfo=UTC)
    woken: list[dict[str, Any]] = []
    settings = device_settings(tmp_path, FakeServer(device_id=DEVICE))
    link = MqttLink(
        settings,
        sessions=SessionCounter(tmp_path),
        heartbeat=dict,
        on_command=woken.append,
        clock=lambda: now,
    )

    def deliver(payload: bytes, retain: bool = False) -> None:
        msg = mqtt.MQTTMessage(topic=topics.cmd_topic(DEVICE).encode())
        msg.payload, msg.retain = payload, retain
        link._on_message(link.client, None, msg)

    deliver(b'{"cmd": "sync", "id": "1", "expires_at": "2026-11-26T05:01:00Z"}')
    deliver(b'{"cmd": "sync", "id": "2", "expires_at": "2026-11-26T04:59:00Z"}')  # stale
    deliver(b'{"cmd": "sync", "id": "3"}', retain=True)  # a retained leftover
    deliver(b"not json")
    deliver(b'{"cmd": "sync", "id": "4", "expires_at": "tomorrow"}')

    assert [c["id"] for c in woken] == ["1"]
