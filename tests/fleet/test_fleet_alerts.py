"""Signed alerts and commands end to end: the real server, a real Mosquitto and a device
runtime in this process. Posted → on the device within 2 s; a forged one → ignored and
reported; expired or cancelled → gone; a publish reaches an online device in < 5 s."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import paho.mqtt.client as mqtt
import pytest

from content_server.broker import SERVER_USER
from device_runtime import Runtime
from signage_core import topics
from signage_core.alert import SCHEMA
from signage_core.signing import SigningKey, sign_envelope
from signage_core.timefmt import format_time
from tests.fleet.fleet_kit import DEVICES, SERVER_MQTT_PASSWORD, Fleet
from tests.support.mqtt_watch import close_client
from tests.support.waiting import wait_until

DEVICE = "adot-hall-1"  # at adot-hall, below the gate adot, below hue
TEXTS = {
    "vi": {"title": "Cửa khẩu tạm đóng", "body": "Vui lòng chờ hướng dẫn của biên phòng."},
    "lo": {"title": "ດ່ານປິດຊົ່ວຄາວ", "body": "ກະລຸນາລໍຖ້າຄຳແນະນຳຈາກເຈົ້າໜ້າທີ່."},
}


@pytest.fixture(scope="module")
def device(fleet: Fleet) -> Iterator[Runtime]:
    rt = Runtime(fleet.device_settings(DEVICE))
    rt.start()
    wait_until(lambda: rt.current is not None, 15, "the first manifest")
    assert rt.link is not None and rt.link.wait_connected(10)
    yield rt
    rt.stop()


def post_alert(fleet: Fleet, site: str, seconds: float = 600, **extra: Any) -> dict[str, Any]:
    expires = datetime.now(UTC) + timedelta(seconds=seconds)
    body = {"site_id": site, "severity": "emergency", "texts": TEXTS}
    body.update(expires_at=expires.isoformat(), **extra)
    r = fleet.api("POST", "/alerts", json=body)
    assert r.status_code == 201, r.text
    return dict(r.json())


def server_client(fleet: Fleet) -> mqtt.Client:
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="forger")
    client.username_pw_set(SERVER_USER, SERVER_MQTT_PASSWORD)
    client.connect("127.0.0.1", fleet.broker.server_port, keepalive=30)
    client.loop_start()
    return client


def shown(rt: Runtime) -> list[str]:
    return [a.id for a in rt.alerts]


def test_an_alert_for_the_gate_shows_on_a_hall_screen_within_two_seconds(
    fleet: Fleet, device: Runtime
) -> None:
    posted = time.monotonic()
    alert = post_alert(fleet, "adot")
    assert alert["delivered_via_mqtt"] and alert["state"] == "active"
    wait_until(lambda: alert["id"] in shown(device), 2, "the alert on the device")
    took = time.monotonic() - posted
    assert took < 2.0
    on_screen = device.alerts[0]
    assert on_screen.texts["lo"]["title"] == "ດ່ານປິດຊົ່ວຄາວ" and on_screen.site_id == "adot"

    # Cancelled: a signed cancel takes it off.
    r = fleet.api("DELETE", f"/alerts/{alert['id']}")
    assert r.status_code == 200 and r.json()["state"] == "cancelled"
    wait_until(lambda: alert["id"] not in shown(device), 2, "the cancel on the device")


def test_an_alert_of_another_gate_does_not_show(fleet: Fleet, device: Runtime) -> None:
    other = post_alert(fleet, "hongvan")
    # The positive signal: an alert for the device's own gate, sent after the other one.
    own = post_alert(fleet, "adot-hall")
    wait_until(lambda: own["id"] in shown(device), 5, "the own gate's alert")
    assert other["id"] not in shown(device)
    for alert in (other, own):
        fleet.api("DELETE", f"/alerts/{alert['id']}")


def test_a_forged_or_unsigned_alert_is_ignored_and_reported(fleet: Fleet, device: Runtime) -> None:
    real = post_alert(fleet, "adot-hall")
    wait_until(lambda: real["id"] in shown(device), 2, "the real alert")
    refused_before = device.alert_keeper.refused
    now = datetime.now(UTC)
    forged_signed = {
        "schema": SCHEMA, "id": "a-forged", "site_id": "adot-hall", "version": 10**9,
        "issued_at": format_time(now), "expires_at": format_time(now + timedelta(hours=1)),
        "state": "active", "severity": "emergency",
        "texts": {"vi": {"title": "Giả mạo", "body": ""}},
    }  # fmt: skip
    forged = sign_envelope(forged_signed, [SigningKey.generate()])
    forged_cancel = sign_envelope(
        {**json.loads(json.dumps(forged_signed)), "id": real["id"], "state": "cancelled"},
        [SigningKey.generate()],
    )
    # Someone with the broker's server account (a stolen password) tries three things.
    client = server_client(fleet)
    try:
        topic = topics.alert_topic("adot-hall")
        for payload in (
            json.dumps(forged).encode(),
            json.dumps(forged_signed).encode(),  # unsigned
            json.dumps(forged_cancel).encode(),  # a forged cancel of the real alert
        ):
            client.publish(topic, payload, qos=1).wait_for_publish(5)
        client.publish(topic, b"", qos=1, retain=True).wait_for_publish(5)  # clear retained
    finally:
        close_client(client)
    wait_until(lambda: device.alert_keeper.refused >= refused_before + 3, 3, "3 refusals")
    assert shown(device) == [real["id"]]  # the real alert stays, nothing forged shows
    assert device.heartbeat()["alerts"]["refused"] >= refused_before + 3
    fleet.api("DELETE", f"/alerts/{real['id']}")
    wait_until(lambda: not shown(device), 2, "the real cancel")


def test_an_expired_alert_disappears_and_is_not_replayed(fleet: Fleet, device: Runtime) -> None:
    alert = post_alert(fleet, "adot", seconds=2.5)
    wait_until(lambda: alert["id"] in shown(device), 2, "the alert")
    wait_until(lambda: alert["id"] not in shown(device), 4, "the expiry")
    # The server also clears the retained copy: a device connecting now gets nothing.
    wait_until(lambda: fleet.link._cleared >= {"adot"}, 3, "the retained copy to be cleared")


def test_a_device_connecting_later_gets_the_active_alert_at_once(fleet: Fleet) -> None:
    alert = post_alert(fleet, "adot")
    try:
        # A device that was away (here: one started now, with no manifest of the alert yet).
        rt = Runtime(fleet.device_settings("adot-hall-4"))
        rt.start()
        try:
            wait_until(lambda: alert["id"] in shown(rt), 10, "the retained alert")
        finally:
            rt.stop()
    finally:
        fleet.api("DELETE", f"/alerts/{alert['id']}")


def test_alerts_ride_in_the_manifest_too(fleet: Fleet) -> None:
    alert = post_alert(fleet, "adot")
    try:
        rt = Runtime(fleet.device_settings("adot-gate-1"), enable_mqtt=False)
        rt.start()
        try:
            wait_until(lambda: rt.current is not None, 10, "a manifest")
            wait_until(lambda: alert["id"] in shown(rt), 5, "the alert from the manifest")
            assert rt.current is not None
            assert rt.current.manifest.signed["alert_sites"] == ["adot", "hue"]
        finally:
            rt.stop()
    finally:
        fleet.api("DELETE", f"/alerts/{alert['id']}")


def test_an_alert_needs_every_language_of_the_site_and_an_editor(fleet: Fleet) -> None:
    r = fleet.api(
        "POST",
        "/alerts",
        json={
            "site_id": "adot",
            "texts": {"vi": TEXTS["vi"]},
            "expires_at": format_time(datetime.now(UTC) + timedelta(hours=1)),
        },
    )
    assert r.status_code == 422 and "lo" in r.json()["detail"]
    assert fleet.api("POST", "/alerts", headers={}, json={}).status_code == 401


def test_a_publish_reaches_an_online_device_in_under_five_seconds(
    fleet: Fleet, device: Runtime
) -> None:
    assert device.current is not None
    held = device.current.manifest.version
    started = time.monotonic()
    version = fleet.publish_all("a guard changed a playlist")  # as `content-server publish`
    assert version is not None and version > held
    wait_until(
        lambda: device.current is not None and device.current.manifest.version == version,
        5,
        "the new manifest on the device (its poll is an hour)",
    )
    assert time.monotonic() - started < 5


def test_a_headless_device_answers_a_screenshot_command_that_it_has_no_screen(
    fleet: Fleet, device: Runtime
) -> None:
    r = fleet.api("POST", f"/devices/{DEVICE}/commands", json={"cmd": "screenshot"})
    assert r.status_code == 202, r.text
    assert r.json()["expires_at"] > r.json()["issued_at"]

    def answered() -> bool:
        got = fleet.api("GET", f"/devices/{DEVICE}/screenshot")
        return got.status_code == 404 and "no screen" in got.json()["detail"]

    wait_until(answered, 5, "the device's answer")
    bad = fleet.api("POST", f"/devices/{DEVICE}/commands", json={"cmd": "format-disk"})
    assert bad.status_code == 422


def test_a_restart_command_ends_the_device_process_with_its_own_code(fleet: Fleet) -> None:
    proc = fleet.device_process("hongvan-1")
    wait_until(lambda: fleet.health("hongvan-1")["state"] == "online", 20, "online")
    wait_until(lambda: fleet.health("hongvan-1")["last_heartbeat_at"], 20, "a heartbeat")
    r = fleet.api("POST", "/devices/hongvan-1/commands", json={"cmd": "restart", "ttl_s": 30})
    assert r.status_code == 202
    assert proc.wait(10) == 75


def test_the_server_signs_each_command_for_its_device(fleet: Fleet) -> None:
    from content_server.keys import load_signing_key
    from signage_core.command import accept_command

    got: list[bytes] = []
    subscribed = threading.Event()
    client = server_client(fleet)
    try:
        client.on_message = lambda c, u, m: got.append(bytes(m.payload))
        client.on_subscribe = lambda *a: subscribed.set()
        client.subscribe(topics.cmd_topic("hongvan-9"), qos=1)
        assert subscribed.wait(5)
        r = fleet.api("POST", "/devices/hongvan-9/commands", json={"cmd": "sync", "ttl_s": 60})
        assert r.status_code == 202, r.text
        wait_until(lambda: got, 5, "the command on the broker")
    finally:
        close_client(client)
    public = load_signing_key(fleet.settings.signing_key_path).public
    command = accept_command(
        json.loads(got[0]), {public.keyid: public}, "hongvan-9", datetime.now(UTC)
    )
    assert (command.cmd, command.id) == ("sync", r.json()["id"])
    assert command.window_s == 0  # one screen, asked by a person: at once


def test_the_sync_after_a_publish_asks_the_screens_to_spread_out(fleet: Fleet) -> None:
    from content_server.commands import sync_window_s
    from content_server.keys import load_signing_key
    from signage_core.command import accept_command

    got: list[bytes] = []
    subscribed = threading.Event()
    client = server_client(fleet)
    try:
        client.on_message = lambda c, u, m: got.append(bytes(m.payload))
        client.on_subscribe = lambda *a: subscribed.set()
        client.subscribe(topics.cmd_topic("hongvan-9"), qos=1)
        assert subscribed.wait(5)
        version = fleet.publish_all("a guard changed a playlist")
        assert version is not None
        wait_until(lambda: got, 10, "the sync on the broker")
    finally:
        close_client(client)
    public = load_signing_key(fleet.settings.signing_key_path).public
    command = accept_command(
        json.loads(got[0]), {public.keyid: public}, "hongvan-9", datetime.now(UTC)
    )
    expected = sync_window_s(len(DEVICES), fleet.settings.sync_window_s, 20)
    assert command.cmd == "sync" and command.window_s == expected == 1
