"""Live health at the server, from real device processes through a real Mosquitto:
a killed device turns offline within 2 s, a silent one stale then offline, a
reconnect never looks offline, and junk on the heartbeat topic is dropped and counted."""

from __future__ import annotations

import signal
import threading
import time
from typing import Any

import paho.mqtt.client as mqtt

from signage_core import topics
from tests.fleet.fleet_kit import Fleet
from tests.support.mqtt_watch import close_client
from tests.support.waiting import wait_until


def device_client(fleet: Fleet, device_id: str, will: bytes | None = None) -> mqtt.Client:
    """A bare paho client logged in as the device (for what a real device would not send)."""
    connected = threading.Event()
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=device_id)
    client.username_pw_set(device_id, fleet.credentials[device_id].mqtt_password)
    if will is not None:
        client.will_set(topics.status_topic(device_id), will, qos=1, retain=True)
    client.on_connect = lambda c, u, f, rc, p: connected.set() if not rc.is_failure else None
    client.connect("127.0.0.1", fleet.broker.port, keepalive=30)
    client.loop_start()
    assert connected.wait(5), f"{device_id} could not connect"
    return client


def send(client: mqtt.Client, topic: str, payload: bytes, retain: bool = False) -> None:
    client.publish(topic, payload, qos=1, retain=retain).wait_for_publish(5)


def beat(seq: int, **extra: Any) -> bytes:
    body: dict[str, Any] = {f: None for f in topics.HEARTBEAT_FIELDS}
    body.update(seq=seq, app={"name": "t", "version": "0"}, cache={}, sync={}, **extra)
    return topics.encode(body)


def test_a_killed_device_turns_offline_within_two_seconds(fleet: Fleet) -> None:
    proc = fleet.device_process("adot-hall-2", mqtt_keepalive_s=1)
    wait_until(lambda: fleet.health("adot-hall-2")["last_heartbeat_at"], 20, "a first heartbeat")
    assert fleet.health("adot-hall-2")["state"] == "online"
    session = fleet.health("adot-hall-2")["session"]

    proc.send_signal(signal.SIGKILL)
    proc.wait(5)
    killed = time.monotonic()
    wait_until(lambda: fleet.health("adot-hall-2")["state"] == "offline", 5, "offline")
    took = time.monotonic() - killed
    assert took < 2.0, f"offline only after {took:.2f}s"
    health = fleet.health("adot-hall-2")
    assert health["status"] == "offline" and health["session"] == session  # the last will


def test_a_silent_device_turns_stale_then_offline(fleet: Fleet) -> None:
    # A long keepalive: the broker does not notice; only the missing heartbeats tell.
    proc = fleet.device_process("adot-hall-3", mqtt_keepalive_s=60)
    wait_until(lambda: fleet.health("adot-hall-3")["state"] == "online", 20, "online")
    wait_until(lambda: fleet.health("adot-hall-3")["last_heartbeat_at"], 20, "a heartbeat")

    proc.send_signal(signal.SIGSTOP)  # the network "silently stops"
    try:
        stopped = time.monotonic()
        wait_until(lambda: fleet.health("adot-hall-3")["state"] == "stale", 5, "stale")
        stale_after = time.monotonic() - stopped
        assert 1.0 < stale_after < 2.5  # 3 heartbeat intervals of 0.5 s
        wait_until(lambda: fleet.health("adot-hall-3")["state"] == "offline", 6, "offline")
        offline_after = time.monotonic() - stopped
        assert 4.0 < offline_after < 6.5  # 10 intervals
        assert fleet.health("adot-hall-3")["status"] == "online"  # no will: it was silence

        # Back on the network: online again without a restart.
        proc.send_signal(signal.SIGCONT)
        wait_until(lambda: fleet.health("adot-hall-3")["state"] == "online", 5, "online again")
    finally:
        proc.send_signal(signal.SIGCONT)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0


def test_a_reconnect_never_shows_offline(fleet: Fleet) -> None:
    device = "hongvan-1"
    status = topics.status_topic(device)
    first = device_client(fleet, device, topics.encode(topics.status_payload("offline", 41, "x")))
    first.reconnect_delay_set(60, 60)  # taken over below: it must not take the id back
    try:
        send(first, status, topics.encode(topics.status_payload("online", 41, "x")), True)
        send(first, topics.heartbeat_topic(device), beat(1, interval_s=30))
        wait_until(lambda: fleet.health(device)["session"] == 41, 5, "session 41")

        # The same device connects again (new session) while the broker still holds the
        # old connection: Mosquitto drops the old one and sends its will, late.
        second = device_client(fleet, device)
        try:
            send(second, status, topics.encode(topics.status_payload("online", 42, "x")), True)
            seen: list[str] = []
            deadline = time.monotonic() + 1.5
            while time.monotonic() < deadline:
                seen.append(fleet.health(device)["state"])
                time.sleep(0.05)
            assert set(seen) <= {"online"}, seen
            assert fleet.health(device)["session"] == 42
            # A will from session 41 arriving at any later time changes nothing.
            ignored = fleet.link.stats["ignored_old_session"]
            send(second, status, topics.encode(topics.status_payload("offline", 41, "x")))
            wait_until(lambda: fleet.link.stats["ignored_old_session"] > ignored, 5, "the old will")
            assert fleet.health(device)["state"] == "online"
        finally:
            close_client(second)
    finally:
        first.loop_stop()


def test_malformed_and_oversized_heartbeats_are_dropped_counted_and_ingest_goes_on(
    fleet: Fleet,
) -> None:
    device = "hongvan-9"
    before = dict(fleet.api("GET", "/fleet/ingest").json())
    client = device_client(fleet, device)
    try:
        topic = topics.heartbeat_topic(device)
        send(client, topic, b"\xff\xfe not json")
        send(client, topic, b"[1, 2, 3]")
        send(client, topic, topics.encode({"seq": 1}))  # fields missing
        send(client, topic, beat(2, now_playing="x" * (topics.MAX_PAYLOAD_BYTES + 10)))
        send(client, topic, beat(3, manifest_version=7))
        wait_until(
            lambda: (fleet.health(device)["heartbeat"] or {}).get("seq") == 3, 5, "the good beat"
        )
    finally:
        close_client(client)
    after = fleet.api("GET", "/fleet/ingest").json()
    assert after["dropped_malformed"] - before.get("dropped_malformed", 0) == 3
    assert after["dropped_oversized"] - before.get("dropped_oversized", 0) == 1
    assert fleet.health(device)["heartbeat"]["manifest_version"] == 7


def test_the_fleet_listing_filters_by_site_subtree_and_state(fleet: Fleet) -> None:
    client = device_client(fleet, "adot-gate-1")
    try:
        send(client, topics.heartbeat_topic("adot-gate-1"), beat(1))
        wait_until(lambda: fleet.health("adot-gate-1")["state"] == "online", 5, "online")
        adot = fleet.api("GET", "/fleet", params={"site": "adot"}).json()
        assert {d["site_id"] for d in adot} == {"adot", "adot-hall"}
        assert "hongvan-1" not in {d["id"] for d in adot}
        online = fleet.api("GET", "/fleet", params={"site": "adot", "state": "online"}).json()
        assert "adot-gate-1" in {d["id"] for d in online}
        assert all(d["health"]["state"] == "online" for d in online)
        assert fleet.api("GET", "/fleet", params={"site": "nowhere"}).status_code == 404
        assert fleet.api("GET", "/fleet", headers={}).status_code == 401
    finally:
        close_client(client)
