"""Heartbeat ingest: heartbeats/s the server stores ÷ heartbeats/s a bare paho subscriber
receives from the same Mosquitto in the same run. Aim: ≥ 0.5.

N simulated devices (each its own paho client and account, loopback) publish
heartbeats as fast as they can for a few seconds; the server's ``FleetLink``
(the ingest ``content-server serve`` runs) decodes, checks and writes them in
batches to SQLite, while a bare subscriber only counts them.
"""

from __future__ import annotations

import os
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt

from content_server import broker as broker_files
from content_server.broker import SERVER_USER
from content_server.datadir import initialise
from content_server.enrollment import Credentials, enrol
from content_server.ingest import FleetLink
from content_server.models import Site
from content_server.settings import Settings
from content_server.state import ServerState
from content_server.store import Store
from signage_core import topics
from tests.support.mosquitto import Broker

DEVICES = int(os.environ.get("BENCH_DEVICES", "40"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "4"))
PASSWORD = "bench-server-secret"


def _beat(seq: int) -> bytes:
    body: dict[str, Any] = {
        "seq": seq, "ts": "2026-11-26T05:00:00Z", "uptime_s": seq, "interval_s": 30,
        "app": {"name": "bench", "version": "0"}, "manifest_version": 7,
        "now_playing": {"playlist": "adot-welcome", "item": "welcome", "language": "lo"},
        "cache": {"bytes": 123456789, "files": 42, "missing": 0},
        "disk_free_bytes": 987654321,
        "sync": {"state": "idle", "last_ok": "2026-11-26T04:59:00Z", "last_error": None},
        "clock_skew_s": 0,
    }  # fmt: skip
    return topics.encode(body)


class Counter:
    def __init__(self, port: int) -> None:
        self.n = 0
        self.first = self.last = 0.0
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="bench-bare")
        self.client.username_pw_set(SERVER_USER, PASSWORD)
        self.client.on_connect = lambda c, *a: c.subscribe(topics.heartbeat_topic("+"), 0)
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()

    def _on_message(self, *args: Any) -> None:
        now = time.monotonic()
        self.first = self.first or now
        self.last = now
        self.n += 1


def _publisher(port: int, device_id: str, password: str, stop: threading.Event) -> None:
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=device_id)
    client.username_pw_set(device_id, password)
    client.max_queued_messages_set(200)
    client.connect("127.0.0.1", port)
    client.loop_start()
    seq = 0
    topic = topics.heartbeat_topic(device_id)
    while not stop.is_set():
        seq += 1
        if client.publish(topic, _beat(seq), qos=0).rc == mqtt.MQTT_ERR_QUEUE_SIZE:
            time.sleep(0.002)
    client.loop_stop()
    client.disconnect()


def main() -> int:
    root = Path(tempfile.mkdtemp(prefix="bench-heartbeats-"))
    settings = Settings(data_dir=root / "server")
    now = datetime.now(UTC)
    initialise(settings, "admin", "bench admin password", now)
    store = Store.open(settings.db_path)
    creds = {f"bench-{i:03d}": Credentials.new() for i in range(DEVICES)}
    store.put_site(Site("hue", None, {"vi": "Huế"}, ["vi", "lo"], None), "2026-01-01T00:00:00Z")
    for device_id, c in creds.items():
        enrol(store, device_id, "hue", c, now, replace=False, user="bench", address="")
    accounts = broker_files.device_accounts(store)
    store.close()
    broker = Broker.start(devices=accounts, server_password=PASSWORD)
    state = ServerState.open(settings, lambda: datetime.now(UTC))
    link = FleetLink(state, url=broker.server_url, password=PASSWORD)
    try:
        link.start()
        assert link.wait_connected(10)
        bare = Counter(broker.server_port)
        time.sleep(0.5)
        stop = threading.Event()
        threads = [
            threading.Thread(target=_publisher, args=(broker.port, d, c.mqtt_password, stop))
            for d, c in creds.items()
        ]
        started = time.monotonic()
        stored_at: list[tuple[float, int]] = []
        for t in threads:
            t.start()
        while time.monotonic() - started < SECONDS:
            stored_at.append((time.monotonic(), link.stats["heartbeats_stored"]))
            time.sleep(0.05)
        stop.set()
        for t in threads:
            t.join()
        sent_done = time.monotonic()
        while time.monotonic() - sent_done < 5:  # let the ingest drain its queue
            stored_at.append((time.monotonic(), link.stats["heartbeats_stored"]))
            if stored_at[-1][1] >= bare.n and time.monotonic() - bare.last > 0.3:
                break
            time.sleep(0.05)
        final = stored_at[-1][1]
        done_at = next(t for t, n in stored_at if n == final)
        first_at = next((t for t, n in stored_at if n > 0), started)
        bare_rate = bare.n / max(bare.last - bare.first, 1e-6)
        stored_rate = final / max(done_at - first_at, 1e-6)
        print(f"devices: {DEVICES}, publishing for {SECONDS:.0f} s on loopback")
        print(f"bare paho subscriber: {bare.n} heartbeats, {bare_rate:,.0f}/s")
        print(f"server ingest stored: {final} heartbeats, {stored_rate:,.0f}/s")
        print(f"dropped: {dict((k, v) for k, v in link.stats.items() if k.startswith('drop'))}")
        ratio = stored_rate / bare_rate
        print(f"ratio stored/bare: {ratio:.2f} (aim >= 0.5)")
        bare.client.loop_stop()
        bare.client.disconnect()
        return 0 if ratio >= 0.5 else 1
    finally:
        link.stop()
        state.close()
        broker.stop()


if __name__ == "__main__":
    raise SystemExit(main())
