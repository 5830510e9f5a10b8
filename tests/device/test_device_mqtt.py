"""The MQTT link against a real Mosquitto: status, heartbeats, commands, last will."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from content_server.broker import SERVER_USER
from device_runtime import Runtime
from device_runtime.commands import CommandHandler, SeenCommands
from device_runtime.mqtt_link import MqttLink
from device_runtime.state import SessionCounter
from signage_core import topics
from signage_core.canonical import canonical_json
from signage_core.command import Command, command_body
from signage_core.signing import SigningKey, sign_envelope
from tests.conftest import TEST_DEVICE
from tests.device.fake_signage_server import FakeServer, device_settings
from tests.support.mosquitto import Broker
from tests.support.waiting import free_port, wait_until

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
        self.publish_raw(topic, topics.encode(payload))

    def publish_raw(self, topic: str, payload: bytes) -> None:
        self.client.publish(topic, payload, qos=1).wait_for_publish(5)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def signed_command(
    cmd: str,
    key: SigningKey,
    *,
    device_id: str = DEVICE,
    issued: datetime | None = None,
    ttl: timedelta = timedelta(minutes=5),
    window_s: int | None = None,
) -> bytes:
    """A command as the server signs it (``content_server.commands``); a ``sync`` carries
    ``window_s`` 0 unless told (as one sent by hand: obeyed at once)."""
    issued = issued or datetime.now(UTC).replace(microsecond=0)
    if cmd == "sync" and window_s is None:
        window_s = 0
    signed = command_body(cmd, f"c-{uuid.uuid4().hex[:16]}", device_id, issued, ttl, window_s)
    return canonical_json(sign_envelope(signed, [key]))


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
        watcher.publish_raw(topics.cmd_topic(DEVICE), signed_command("sync", server.key))
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


def test_only_signed_fresh_new_commands_for_this_device_are_obeyed(tmp_path: Path) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    server = FakeServer(device_id=DEVICE)
    settings = device_settings(tmp_path, server)
    woken: list[str] = []

    def handler() -> CommandHandler:  # a fresh one on the same data folder: a reboot
        return CommandHandler(
            settings, sync_now=lambda: woken.append("sync"), trusted_now=lambda: now
        )

    commands = handler()
    link = MqttLink(
        settings,
        sessions=SessionCounter(tmp_path),
        heartbeat=dict,
        on_command=lambda env: commands(env),
        clock=lambda: now,
    )

    def deliver(payload: bytes, retain: bool = False) -> None:
        msg = mqtt.MQTTMessage(topic=topics.cmd_topic(DEVICE).encode())
        msg.payload, msg.retain = payload, retain
        link._on_message(link.client, None, msg)

    good = signed_command("sync", server.key, issued=now)
    deliver(good)
    assert woken == ["sync"]
    refusals = [
        (b'{"cmd": "sync", "id": "1", "expires_at": "2099-01-01T00:00:00Z"}', "malformed"),
        (signed_command("sync", SigningKey.generate(), issued=now), "unknown_key"),
        (signed_command("sync", server.key, issued=now - timedelta(hours=1)), "expired"),
        (signed_command("sync", server.key, issued=now, device_id="hongvan-1"), "wrong_device"),
        (signed_command("sync", server.key, issued=now, ttl=timedelta(days=30)), "malformed"),
        (good, "replayed"),
        (b"not json", None),
    ]
    for payload, reason in refusals:
        deliver(payload)
        if reason is not None:
            assert commands.last_refusal is not None and commands.last_refusal.startswith(reason)
    forged = json.loads(good)
    forged["signed"]["cmd"] = "restart"  # the signature no longer matches
    deliver(json.dumps(forged).encode())
    assert commands.last_refusal is not None and commands.last_refusal.startswith("bad_signature")
    deliver(signed_command("sync", server.key, issued=now), retain=True)  # a retained leftover
    assert woken == ["sync"] and commands.refused == 7

    commands = handler()  # rebooted: the id obeyed before is still remembered
    deliver(good)
    assert woken == ["sync"] and commands.last_refusal.startswith("replayed")


def test_the_seen_command_ids_stay_bounded(tmp_path: Path) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    seen = SeenCommands(tmp_path / "commands.json")
    old = Command("c-old", "sync", DEVICE, now - timedelta(hours=2), now - timedelta(hours=1))
    seen.ids[old.id] = old.expires_at

    def command(i: int) -> Command:
        return Command(f"c-{i}", "sync", DEVICE, now, now + timedelta(minutes=5, seconds=i))

    # A flood already remembered (each add writes the whole file: a thousand adds take
    # seconds), then five more through add(): over the bound, the shortest-lived go.
    for i in range(SeenCommands.MAX_IDS):
        seen.ids[f"c-{i}"] = command(i).expires_at
    for i in range(SeenCommands.MAX_IDS, SeenCommands.MAX_IDS + 5):
        seen.add(command(i), now)
    again = SeenCommands(tmp_path / "commands.json")
    assert len(again.ids) == SeenCommands.MAX_IDS and "c-old" not in again
    assert f"c-{SeenCommands.MAX_IDS + 4}" in again and "c-0" not in again


def test_the_real_device_refuses_an_unsigned_command_and_a_replay(
    tmp_path: Path, broker: Broker, watcher: Watcher
) -> None:
    """Over real Mosquitto, published with the broker's server account as an attacker
    holding only that password would: unsigned is refused, signed works, a replay not."""
    server = FakeServer(device_id=DEVICE)
    server.publish_assets(1, b"PNG " * 100)
    settings = device_settings(
        tmp_path, server, mqtt_url=broker.url, mqtt_password=TEST_DEVICE.password,
        heartbeat_interval_s=0.5, poll_interval_s=3600,
    )  # fmt: skip
    restarts = threading.Event()

    def boot() -> Runtime:
        rt = Runtime(settings, fetcher=server)
        rt.commands.add_restart_listener(restarts.set)
        rt.start()
        assert rt.link is not None and rt.link.wait_connected(10)
        # The first beat of this link comes after its subscription to cmd, on one connection.
        watcher.wait(topics.heartbeat_topic(DEVICE), seq=1)
        return rt

    rt = boot()
    try:
        cmd = topics.cmd_topic(DEVICE)
        watcher.publish(
            cmd, {"cmd": "restart", "id": "c-evil", "expires_at": "2099-01-01T00:00:00Z"}
        )
        wait_until(lambda: rt.commands.refused == 1)
        assert rt.commands.last_refusal.startswith("malformed") and not restarts.is_set()

        server.publish_assets(2, b"PNG " * 100, b"JPEG " * 50)
        sync = signed_command("sync", server.key)
        watcher.publish_raw(cmd, sync)
        watcher.wait(topics.heartbeat_topic(DEVICE), manifest_version=2)  # hour-long poll

        restart = signed_command("restart", server.key)
        watcher.publish_raw(cmd, restart)
        assert restarts.wait(10) and rt.commands.restart_requested.is_set()
    finally:
        rt.stop()

    restarts.clear()
    rt = boot()  # what systemd starts after the exit
    try:
        watcher.publish_raw(cmd, restart)  # replayed by someone who recorded it
        watcher.publish_raw(cmd, sync)
        wait_until(lambda: rt.commands.refused == 2)
        assert rt.commands.last_refusal.startswith("replayed") and not restarts.is_set()
    finally:
        rt.stop()
