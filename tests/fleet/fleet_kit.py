"""A small fleet for the MQTT tests: a data folder with the Huế site tree, enrolled
devices, a real Mosquitto configured from the server's accounts, and the real
content server app listening on a loopback port (uvicorn in a thread), with its
MQTT ingest connected. Devices run in-process (``Runtime``) or as processes.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests
import uvicorn

from content_server import broker as broker_files
from content_server.app import create_app
from content_server.datadir import initialise
from content_server.enrollment import Credentials, enrol
from content_server.ingest import FleetLink
from content_server.keys import load_signing_key
from content_server.models import Site
from content_server.publishing import publish
from content_server.settings import Settings
from content_server.store import Store
from device_runtime.settings import DeviceSettings, settings_from_mapping
from tests.support.mosquitto import Broker
from tests.support.waiting import free_port, wait_port

ROOT = Path(__file__).resolve().parents[2]
ADMIN_PASSWORD = "correct horse battery"
SERVER_MQTT_PASSWORD = "server-mqtt-secret"
SITES = [
    Site("hue", None, {"vi": "Huế", "lo": "ເຫວ້"}, ["vi", "lo", "en"], None),
    Site("adot", "hue", {"vi": "A Đớt", "lo": "ອາເດີດ"}, ["vi", "lo"], None),
    Site("adot-hall", "adot", {"vi": "A Đớt – Sảnh", "lo": "ອາເດີດ – ຫ້ອງໂຖງ"}, None, None),
    Site("hongvan", "hue", {"vi": "Hồng Vân", "lo": "ຮົ່ງວັນ"}, ["vi", "lo"], None),
]
DEVICES = {
    "adot-hall-1": "adot-hall",
    "adot-hall-2": "adot-hall",
    "adot-hall-3": "adot-hall",
    "adot-hall-4": "adot-hall",
    "adot-gate-1": "adot",
    "hongvan-1": "hongvan",
    "hongvan-9": "hongvan",
}


@dataclass
class Fleet:
    root: Path
    settings: Settings
    broker: Broker
    credentials: dict[str, Credentials]
    server: uvicorn.Server | None = None
    thread: threading.Thread | None = None
    app: Any = None
    admin: dict[str, str] = field(default_factory=dict)
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.settings.port}"

    @property
    def link(self) -> FleetLink:
        link: FleetLink = self.app.state.fleet
        return link

    def api(self, method: str, path: str, **kw: Any) -> requests.Response:
        kw.setdefault("headers", self.admin)
        return requests.request(method, f"{self.url}/api/v1{path}", timeout=10, **kw)

    def health(self, device_id: str) -> dict[str, Any]:
        r = self.api("GET", f"/devices/{device_id}")
        assert r.status_code == 200, r.text
        return dict(r.json()["health"])

    def device_settings(self, device_id: str, **extra: Any) -> DeviceSettings:
        c = self.credentials[device_id]
        data = {
            "device_id": device_id,
            "token": c.token,
            "server_url": self.url,
            "trusted_keys": [load_signing_key(self.settings.signing_key_path).public.spec()],
            "mqtt_url": self.broker.url,
            "mqtt_password": c.mqtt_password,
            "data_dir": str(self.root / "devices" / device_id),
            "heartbeat_interval_s": 0.5,
            "poll_interval_s": 3600,
            "request_timeout_s": 5,
            **extra,
        }
        return settings_from_mapping(data, device_id)

    def device_config(self, device_id: str, **extra: Any) -> Path:
        s = self.device_settings(device_id, **extra)
        lines = [
            f'device_id = "{s.device_id}"',
            f'token = "{s.token}"',
            f'server_url = "{s.server_url}"',
            f'trusted_keys = ["{s.trusted_keys[0].spec()}"]',
            f'mqtt_url = "{s.mqtt_url}"',
            f'mqtt_password = "{s.mqtt_password}"',
            f'data_dir = "{s.data_dir}"',
            f"heartbeat_interval_s = {s.heartbeat_interval_s}",
            f"poll_interval_s = {s.poll_interval_s}",
            f"request_timeout_s = {s.request_timeout_s}",
            f"mqtt_keepalive_s = {s.mqtt_keepalive_s}",
        ]
        path = self.root / f"{device_id}.toml"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path

    def device_process(self, device_id: str, **extra: Any) -> subprocess.Popen[bytes]:
        config = self.device_config(device_id, **extra)
        log = (self.root / f"{device_id}.log").open("ab")
        proc = subprocess.Popen(
            [sys.executable, "-m", "device_runtime", "--config", str(config)],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdout=log,
            stderr=log,
        )
        log.close()
        self.processes.append(proc)
        return proc

    def publish_all(self, reason: str) -> int | None:
        """Sign new manifests as another process would (`content-server publish`)."""
        store = Store.open(self.settings.db_path)
        try:
            key = load_signing_key(self.settings.signing_key_path)
            result = publish(
                store, [key], datetime.now(UTC), timedelta(days=30),
                user="test", address="local", reason=reason,
            )  # fmt: skip
        finally:
            store.close()
        return result.version

    def stop(self) -> None:
        for proc in self.processes:
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGCONT)
                proc.kill()
            proc.wait(5)
        if self.server is not None:
            self.server.should_exit = True
        if self.thread is not None:
            self.thread.join(10)
        self.broker.stop()


def start_fleet(root: Path) -> Fleet:
    root.mkdir(parents=True, exist_ok=True)
    port = free_port()
    settings = Settings(
        data_dir=root / "server",
        port=port,
        reload_interval_s=0.2,
        heartbeat_interval_s=0.5,
        heartbeats_per_minute=600,  # devices here beat every 0.5 s
    )
    now = datetime.now(UTC)
    initialise(settings, "admin", ADMIN_PASSWORD, now)
    store = Store.open(settings.db_path)
    credentials = {}
    try:
        for site in SITES:
            store.put_site(site, "2026-01-01T00:00:00Z")
        for device_id, site_id in DEVICES.items():
            credentials[device_id] = Credentials.new()
            enrol(
                store, device_id, site_id, credentials[device_id], now,
                replace=False, user="test", address="local",
            )  # fmt: skip
        key = load_signing_key(settings.signing_key_path)
        publish(store, [key], now, timedelta(days=30), user="test", address="", reason="start")
        accounts = broker_files.device_accounts(store)
    finally:
        store.close()
    broker = Broker.start(devices=accounts, server_password=SERVER_MQTT_PASSWORD)
    settings = Settings(
        **settings.model_dump(exclude={"mqtt_url", "mqtt_password"}),
        mqtt_url=broker.server_url,
        mqtt_password=SERVER_MQTT_PASSWORD,
    )
    fleet = Fleet(root, settings, broker, credentials)
    try:
        fleet.app = create_app(settings)
        config = uvicorn.Config(fleet.app, host="127.0.0.1", port=port, log_level="warning")
        fleet.server = uvicorn.Server(config)
        fleet.thread = threading.Thread(target=fleet.server.run, daemon=True)
        fleet.thread.start()
        wait_port(port)
        assert fleet.link.wait_connected(10), "the ingest did not connect to Mosquitto"
        r = requests.post(
            f"{fleet.url}/api/v1/auth/token",
            data={"username": "admin", "password": ADMIN_PASSWORD},
            timeout=10,
        )
        r.raise_for_status()
        fleet.admin = {"Authorization": f"Bearer {r.json()['access_token']}"}
    except BaseException:
        fleet.stop()
        raise
    return fleet
