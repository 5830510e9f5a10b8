"""What the broker lets a device do, checked by what the other side receives: a device
cannot write another's topics nor read what is not for it; a screen below a gate reads
the gate's alerts; anonymous clients and revoked devices are refused."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from typing import Any

import paho.mqtt.client as mqtt

from content_server.broker import SERVER_USER
from signage_core import topics
from tests.fleet.fleet_kit import SERVER_MQTT_PASSWORD, Fleet
from tests.support.mqtt_watch import close_client
from tests.support.waiting import wait_until

ROOT_TOPIC = f"{topics.PREFIX}/#"


class Client:
    """A paho client that records what it receives and how its connection went."""

    def __init__(self, fleet: Fleet, user: str | None, password: str | None, cid: str) -> None:
        self.received: list[tuple[str, bytes]] = []
        self.connack: Any = None
        self.granted: list[Any] = []
        self._done = threading.Event()
        self._subscribed = threading.Event()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=cid)
        if user is not None:
            self.client.username_pw_set(user, password)
        self.client.on_connect = self._on_connect
        self.client.on_message = lambda c, u, m: self.received.append((m.topic, bytes(m.payload)))
        self.client.on_subscribe = self._on_subscribe
        # The server's account has its own loopback listener; devices use the other one.
        port = fleet.broker.server_port if user == SERVER_USER else fleet.broker.port
        self.client.connect("127.0.0.1", port, keepalive=30)
        self.client.loop_start()
        assert self._done.wait(5), "no CONNACK"

    def _on_connect(self, c: Any, u: Any, flags: Any, rc: Any, props: Any) -> None:
        self.connack = rc
        self._done.set()

    def _on_subscribe(self, c: Any, u: Any, mid: Any, codes: Any, props: Any) -> None:
        self.granted = list(codes)
        self._subscribed.set()

    @property
    def accepted(self) -> bool:
        return not self.connack.is_failure

    def subscribe(self, *filters: str) -> list[Any]:
        self._subscribed.clear()
        self.client.subscribe([(f, 1) for f in filters])
        assert self._subscribed.wait(5)
        return self.granted

    def publish(self, topic: str, payload: bytes, retain: bool = False) -> None:
        self.client.publish(topic, payload, qos=1, retain=retain).wait_for_publish(5)

    def topics_received(self) -> set[str]:
        return {t for t, _ in self.received}

    def close(self) -> None:
        close_client(self.client)


def device(fleet: Fleet, device_id: str, cid: str | None = None) -> Client:
    return Client(fleet, device_id, fleet.credentials[device_id].mqtt_password, cid or device_id)


def test_a_device_cannot_write_another_devices_topics(fleet: Fleet) -> None:
    server = Client(fleet, SERVER_USER, SERVER_MQTT_PASSWORD, "acl-server")
    intruder = device(fleet, "hongvan-9", "acl-intruder")
    try:
        server.subscribe(ROOT_TOPIC)
        for kind in ("status", "heartbeat"):
            intruder.publish(f"{topics.PREFIX}/devices/adot-hall-1/{kind}", b'{"forged": 1}')
        intruder.publish(topics.cmd_topic("adot-hall-1"), b'{"cmd": "restart"}')
        intruder.publish(topics.alert_topic("adot"), b'{"forged": 1}')
        intruder.publish(topics.heartbeat_topic("hongvan-9"), b'{"mine": 1}')  # allowed
        deadline = time.monotonic() + 3
        while topics.heartbeat_topic("hongvan-9") not in server.topics_received():
            assert time.monotonic() < deadline, "the device's own heartbeat never arrived"
            time.sleep(0.02)
        # Forged messages, had they passed, would have come before the device's own one.
        forged = [(t, p) for t, p in server.received if b"forged" in p or b"restart" in p]
        assert forged == []
    finally:
        server.close()
        intruder.close()


def test_a_device_subscribing_to_everything_reads_only_its_own(fleet: Fleet) -> None:
    snoop = device(fleet, "hongvan-9", "acl-snoop")
    server = Client(fleet, SERVER_USER, SERVER_MQTT_PASSWORD, "acl-server-2")
    try:
        snoop.subscribe(ROOT_TOPIC, "#")
        snoop.subscribe(topics.cmd_topic("hongvan-9"))
        server.publish(topics.cmd_topic("adot-hall-1"), b'{"cmd": "sync", "id": "x"}')
        server.publish(topics.alert_topic("adot"), b"{}")
        server.publish(topics.heartbeat_topic("adot-hall-1"), b"{}")
        server.publish(topics.cmd_topic("hongvan-9"), b'{"cmd": "sync", "id": "mine"}')
        deadline = time.monotonic() + 3
        while topics.cmd_topic("hongvan-9") not in snoop.topics_received():
            assert time.monotonic() < deadline, "its own command never arrived"
            time.sleep(0.02)
        # Anything it should not read was published before its own command.
        assert snoop.topics_received() <= {
            topics.cmd_topic("hongvan-9"),
            topics.alert_topic("hongvan"),
            topics.alert_topic("hue"),
        }
    finally:
        snoop.close()
        server.close()


def test_a_screen_below_a_gate_reads_the_gates_alerts_and_not_another_gates(
    fleet: Fleet,
) -> None:
    server = Client(fleet, SERVER_USER, SERVER_MQTT_PASSWORD, "acl-server-3")
    hall = device(fleet, "adot-hall-2", "acl-hall")
    try:
        for site in ("adot", "hue", "hongvan"):
            server.publish(topics.alert_topic(site), f'{{"site": "{site}"}}'.encode(), True)
        # Another gate's first: its retained alert, were it readable, would come before
        # the retained alerts of the device's own chain that the next subscription brings.
        hall.subscribe(topics.alert_topic("hongvan"))
        hall.subscribe(
            topics.alert_topic("adot-hall"), topics.alert_topic("adot"), topics.alert_topic("hue")
        )
        deadline = time.monotonic() + 3
        want = {topics.alert_topic("adot"), topics.alert_topic("hue")}
        while not want <= hall.topics_received():
            assert time.monotonic() < deadline, f"got only {hall.topics_received()}"
            time.sleep(0.02)
        assert topics.alert_topic("hongvan") not in hall.topics_received()
    finally:
        for site in ("adot", "hue", "hongvan"):
            server.publish(topics.alert_topic(site), b"", True)
        server.close()
        hall.close()


def test_anonymous_and_wrong_password_clients_are_refused(fleet: Fleet) -> None:
    anonymous = Client(fleet, None, None, "acl-anon")
    wrong = Client(fleet, "adot-hall-1", "not-the-password", "acl-wrong")
    try:
        assert not anonymous.accepted
        assert not wrong.accepted
    finally:
        anonymous.close()
        wrong.close()


def test_a_revoked_device_is_refused_by_the_broker_and_the_server(fleet: Fleet) -> None:
    before = device(fleet, "adot-hall-4", "acl-revoked-before")
    assert before.accepted
    before.close()
    password_file = fleet.root / "server-mqtt-password"
    password_file.write_text(SERVER_MQTT_PASSWORD)
    assert fleet.broker.process is not None
    result = subprocess.run(
        [sys.executable, "-m", "content_server", "revoke-device", "adot-hall-4",
         "--data-dir", str(fleet.settings.data_dir), "--mqtt-dir", str(fleet.broker.folder),
         "--server-password-file", str(password_file),
         "--reload-pid", str(fleet.broker.process.pid)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "revoked" in result.stdout and "reload" in result.stdout

    def refused() -> bool:  # Mosquitto re-reads its files on SIGHUP, soon
        after = device(fleet, "adot-hall-4", "acl-revoked-after")
        after.close()
        return not after.accepted

    wait_until(refused, 10, "the broker to refuse the revoked device")
    # Other devices and the server are untouched.
    still = device(fleet, "adot-hall-2", "acl-still")
    still.close()
    assert still.accepted and fleet.link.connected
    # Its HTTP token stopped working too (the server notices the change within a second).
    token = {"Authorization": f"Bearer {fleet.credentials['adot-hall-4'].token}"}
    deadline = time.monotonic() + 3
    while True:
        r = fleet.api("GET", "/devices/adot-hall-4/manifest", headers=token)
        if r.status_code == 401:
            break
        assert time.monotonic() < deadline, r.status_code
        time.sleep(0.1)
    listed = fleet.api("GET", "/devices/adot-hall-4").json()
    assert listed["revoked"] and listed["health"]["state"] == "offline"


class Watched(Client):
    """A client that also counts how often the broker dropped it."""

    def __init__(self, fleet: Fleet, user: str, cid: str) -> None:
        self.drops = 0
        super().__init__(fleet, user, fleet.credentials[user].mqtt_password, cid)
        self.client.on_disconnect = self._on_disconnect

    def _on_disconnect(self, c: Any, u: Any, flags: Any, rc: Any, props: Any) -> None:
        self.drops += 1


def test_a_device_cannot_knock_another_off_the_broker_with_its_client_id(fleet: Fleet) -> None:
    server = Client(fleet, SERVER_USER, SERVER_MQTT_PASSWORD, "acl-server-4")
    victim = Watched(fleet, "adot-hall-2", "adot-hall-2")
    try:
        server.subscribe(topics.heartbeat_topic("adot-hall-2"))
        # Device hongvan-1, with its own good password, claims adot-hall-2's client id.
        attacker = Watched(fleet, "hongvan-1", "adot-hall-2")
        try:
            assert attacker.accepted
            # A round trip through the broker after the attacker's CONNACK: had the broker
            # closed the victim's connection, paho would have seen it before the PUBACK.
            victim.publish(topics.heartbeat_topic("adot-hall-2"), b'{"still": "here"}')
            deadline = time.monotonic() + 5
            while topics.heartbeat_topic("adot-hall-2") not in server.topics_received():
                assert time.monotonic() < deadline, "the victim's heartbeat never arrived"
                time.sleep(0.02)
            assert victim.drops == 0 and victim.client.is_connected()
            assert attacker.drops == 0
        finally:
            attacker.close()
    finally:
        victim.close()
        server.close()
