"""The fleet at scale (``make load``): N simulated screens against a real server and broker.

``LOAD_DEVICES`` (default 1000) headless devices, each with its own account, run for
``LOAD_SECONDS`` (default 120) against a real ``content-server serve`` process and a
real Mosquitto on loopback, both set up with the operator's commands
(``scripts/loopback/stack.py``: ``init``, ``import playlists/``, ``publish``,
``mqtt-config``, ``serve``). Each device behaves like ``device_runtime`` with its
default settings, jittered as real devices are:

- every ``poll_interval_s`` (±10 %) a manifest poll with ``If-None-Match``, then its
  proof-of-play records (one per 10-s item shown, each with its own UUID) posted to
  ``/devices/{id}/events``; a batch that fails stays queued and is sent again;
- a heartbeat over MQTT every ``heartbeat_interval_s`` (QoS 0, as devices send them),
  a retained ``online`` status on connect and an ``offline`` will;
- subscribed to its command topic: the ``sync`` the server sends after a publish makes
  it poll after a random part of the window the command carries (``window_s``, else
  the device's ``sync_jitter_s``), as ``device_runtime`` does
  (``signage_core.command.sync_delay_s``), and download the assets it lacks with its token.

Half-way through, an editor uploads a new image and publishes a playlist for the whole
city (site ``hue``): every device is sent after the new asset at the same moment.

Before the run every device is enrolled in-process (``content_server.enrollment.enrol``,
what ``add-device`` calls, without a process per device), one ``content-server publish``
signs their manifests, one ``mqtt-config`` writes the broker's accounts; every device
then fetches its manifest once (a warm fleet: it holds what is published).

After the run the devices post what they still hold, and the figures are read back from
the server's database: heartbeats stored / sent, records stored (each id once) / sent.
The last line is (one line)::

    load: devices=N seconds=S requests=R failed=F p99_ms=X
          heartbeats=stored/sent records=stored/sent

``requests`` are the devices' HTTP requests in the timed run (polls, downloads, record
posts), ``failed`` those without a 2xx/304 answer (or with bytes that do not match the
asset's sha256), ``p99_ms`` the 99th percentile of manifest polls as the devices timed
them. Exit status 1 if a request failed, a record is missing, or a device did not get
the new asset. Lines before it say where the CPU went (server, broker, simulator).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import heapq
import json
import os
import random
import resource
import selectors
import shutil
import socket
import sqlite3
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
import requests

from bench.http11 import Connection, HttpError
from content_server.enrollment import Credentials, enrol
from content_server.settings import Settings
from content_server.store import Store
from device_runtime.settings import DeviceSettings
from scripts.loopback.stack import Stack
from signage_core import topics
from signage_core.command import sync_delay_s
from signage_core.timefmt import format_time

DEVICES = int(os.environ.get("LOAD_DEVICES", "1000"))
SECONDS = float(os.environ.get("LOAD_SECONDS", "120"))
ASSET_KB = int(os.environ.get("LOAD_ASSET_KB", "200"))  # the image published mid-run
MQTT_THREADS = 2
SITES = ("adot-hall", "adot-post", "hongvan-hall", "hongvan-post")
ITEM_S = 10.0  # one proof-of-play record per item shown, items of about 10 s
P99_TARGET_MS = 100.0


def _device_defaults() -> tuple[float, float, float]:
    fields = DeviceSettings.__dataclass_fields__
    return (
        float(fields["poll_interval_s"].default),
        float(fields["heartbeat_interval_s"].default),
        float(fields["sync_jitter_s"].default),
    )


POLL_S, HEARTBEAT_S, SYNC_JITTER_S = _device_defaults()
POLL_S = float(os.environ.get("LOAD_POLL_S", POLL_S))
HEARTBEAT_S = float(os.environ.get("LOAD_HEARTBEAT_S", HEARTBEAT_S))


@dataclass
class Device:
    id: str
    site: str
    creds: Credentials
    etag: str | None = None
    assets: set[str] = field(default_factory=set)
    version: int = 0
    queue: list[dict[str, Any]] = field(default_factory=list)  # records not yet accepted
    sent_records: set[str] = field(default_factory=set)
    wake: asyncio.Event | None = None
    last_record_at: float = 0.0
    heartbeats_sent: int = 0
    got_at: dict[str, float] = field(default_factory=dict)  # asset -> when (monotonic)


@dataclass
class Stats:
    requests: int = 0
    failed: int = 0
    manifest_ms: list[float] = field(default_factory=list)
    phase_ms: dict[str, list[float]] = field(default_factory=dict)  # the same, by phase
    errors: dict[str, int] = field(default_factory=dict)

    def fail(self, what: str) -> None:
        self.failed += 1
        self.errors[what] = self.errors.get(what, 0) + 1


# -- set-up -------------------------------------------------------------------------------


def enrol_fleet(stack: Stack, n: int) -> list[Device]:
    """What ``add-device`` stores, for n devices in one process; then one ``publish``."""
    store = Store.open(Settings(data_dir=stack.data_dir).db_path)
    now = datetime.now(UTC)
    devices = []
    try:
        for i in range(n):
            d = Device(f"load-{i + 1:04d}", SITES[i % len(SITES)], Credentials.new())
            enrol(store, d.id, d.site, d.creds, now, replace=False, user="load", address="local")
            devices.append(d)
    finally:
        store.close()
    stack.run("publish", "--data-dir", str(stack.data_dir))
    return devices


def new_image(kb: int) -> bytes:
    """A JPEG of noise of about ``kb`` KiB, different on every run."""
    import cv2
    import numpy as np

    side = max(16, int((kb * 1024 / 1.1) ** 0.5))
    rng = np.random.default_rng()
    pixels = rng.integers(0, 256, (side, side // 3, 3), dtype=np.uint8)
    pixels = np.repeat(pixels, 3, axis=1)  # some structure, so JPEG is not all noise
    ok, data = cv2.imencode(".jpg", pixels, [cv2.IMWRITE_JPEG_QUALITY, 90])
    assert ok
    return bytes(data)


def publish_for_everyone(api: str, password: str, image: bytes) -> tuple[str, int, float]:
    """An editor's publish for the whole city: (asset sha256, version, seconds it took).

    Runs in its own thread (an editor at a desk, not one of the devices)."""
    started = time.monotonic()
    with requests.Session() as c:
        r = c.post(f"{api}/auth/token", data={"username": "admin", "password": password})
        r.raise_for_status()
        c.headers["Authorization"] = f"Bearer {r.json()['access_token']}"
        files = {"file": ("load-notice.jpg", image, "image/jpeg")}
        r = c.post(f"{api}/assets", params={"site_id": "hue"}, files=files, timeout=120)
        r.raise_for_status()
        sha = r.json()["sha256"]
        playlist = {
            "id": f"load-notice-{sha[:8]}", "site_id": "hue", "priority": 40,
            "name": {"vi": "Thông báo", "lo": "ແຈ້ງການ"},
            "items": [{"id": "notice", "kind": "image", "duration_s": 10, "variants": {
                "vi": {"asset": sha}, "lo": {"asset": sha}}}],
        }  # fmt: skip
        r = c.post(f"{api}/playlists", json=playlist, timeout=60)
        r.raise_for_status()
        r = c.post(f"{api}/playlists/{playlist['id']}/publish", timeout=120)
        r.raise_for_status()
        return sha, int(r.json()["version"]), time.monotonic() - started


# -- MQTT: a few threads, each driving its share of paho clients with one selector ---------


def _heartbeat(d: Device, seq: int, uptime: float) -> bytes:
    now = format_time(datetime.now(UTC))
    body: dict[str, Any] = {
        "seq": seq, "ts": now, "uptime_s": int(uptime), "interval_s": int(HEARTBEAT_S),
        "app": {"name": "load-sim", "version": "0"}, "manifest_version": d.version,
        "now_playing": {"playlist": "adot-welcome", "item": "welcome", "language": "lo"},
        "cache": {"bytes": 123456789, "files": len(d.assets), "missing": 0},
        "disk_free_bytes": 987654321,
        "sync": {"state": "idle", "last_ok": now, "last_error": None},
        "clock_skew_s": 0,
    }  # fmt: skip
    return topics.encode(body)


class MqttFleet:
    """Devices' MQTT sessions: each thread owns its clients (paho is not thread-safe)."""

    def __init__(
        self, port: int, devices: list[Device], on_command: Any, port_of: Any = None
    ) -> None:
        self.port = port
        self.port_of = port_of or (lambda d: port)  # a gate's screens log in at its relay
        self.on_command = on_command
        self.stop = threading.Event()
        self.heartbeats = False  # set when the timed run starts
        self.connected = 0
        self.commands = 0
        self.disconnects = 0
        self.errors: list[str] = []
        self._lock = threading.Lock()
        self._local = threading.local()  # per thread: the clients with bytes to write
        shares = [devices[i::MQTT_THREADS] for i in range(MQTT_THREADS)]
        self.threads = [threading.Thread(target=self._run, args=(s,), daemon=True) for s in shares]
        self.started = time.monotonic()

    def start(self) -> None:
        for t in self.threads:
            t.start()

    def join(self) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(30)

    @property
    def _writers(self) -> set[mqtt.Client]:
        writers: set[mqtt.Client] = self._local.writers
        return writers

    def _client(self, d: Device) -> mqtt.Client:
        c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=d.id)
        c.username_pw_set(d.id, d.creds.mqtt_password)
        status = {"state": "offline", "session": 1}
        c.will_set(topics.status_topic(d.id), topics.encode(status), qos=1, retain=True)

        def on_connect(client: mqtt.Client, _u: Any, _f: Any, rc: Any, _p: Any) -> None:
            if rc.is_failure:
                with self._lock:
                    self.errors.append(f"{d.id}: connect refused: {rc}")
                return
            online = topics.encode({"state": "online", "session": 1})
            client.publish(topics.status_topic(d.id), online, qos=1, retain=True)
            client.subscribe(topics.cmd_topic(d.id), qos=1)
            with self._lock:
                self.connected += 1

        def on_message(_c: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
            with self._lock:
                self.commands += 1
            self.on_command(d, msg.payload)

        c.on_connect = on_connect
        c.on_message = on_message
        c.on_socket_register_write = lambda *_: self._writers.add(c)
        c.on_socket_unregister_write = lambda *_: self._writers.discard(c)
        c.on_socket_open = lambda _c, _u, sock: self._local.sel.register(
            sock, selectors.EVENT_READ, d.id
        )
        c.on_socket_close = lambda _c, _u, sock: self._closed(c, d, sock)
        return c

    def _closed(self, c: mqtt.Client, d: Device, sock: Any) -> None:
        with contextlib.suppress(KeyError, ValueError):
            self._local.sel.unregister(sock)
        self._writers.discard(c)
        if not self.stop.is_set():
            self._local.down[d.id] = time.monotonic() + random.uniform(1, 5)  # retry then
            with self._lock:
                self.connected -= 1
                self.disconnects += 1

    def _run(self, devices: list[Device]) -> None:
        self._local.writers = set()
        self._local.sel = sel = selectors.DefaultSelector()
        down: dict[str, float] = {}  # device -> when to try to reconnect (as paho would)
        self._local.down = down
        clients: dict[str, tuple[Device, mqtt.Client]] = {}
        beats: list[tuple[float, str, int]] = []  # (when, device, seq)
        for d in devices:
            c = self._client(d)
            c.connect("127.0.0.1", self.port_of(d), keepalive=60)
            clients[d.id] = (d, c)
        started = False
        next_misc = 0.0
        while not self.stop.is_set():
            now = time.monotonic()
            if self.heartbeats and not started:  # first beat jittered over one interval
                started = True
                beats = [(now + random.uniform(0, HEARTBEAT_S), i, 1) for i in clients]
                heapq.heapify(beats)
            while beats and beats[0][0] <= now:
                _, device_id, seq = heapq.heappop(beats)
                d, c = clients[device_id]
                info = c.publish(topics.heartbeat_topic(d.id), _heartbeat(d, seq, now), qos=0)
                if info.rc == mqtt.MQTT_ERR_SUCCESS:
                    d.heartbeats_sent += 1
                jitter = HEARTBEAT_S * random.uniform(0.95, 1.05)
                heapq.heappush(beats, (now + jitter, device_id, seq + 1))
            wait = min(0.2, max(0.0, beats[0][0] - time.monotonic())) if beats else 0.2
            for key, _ in sel.select(timeout=0 if self._writers else wait):
                clients[key.data][1].loop_read()
            for c in list(self._writers):
                c.loop_write()
            if now >= next_misc:
                next_misc = now + 1.0
                for device_id, (_, c) in clients.items():
                    if device_id not in down:
                        c.loop_misc()
                for device_id, when in list(down.items()):
                    if when <= now:
                        try:
                            clients[device_id][1].reconnect()
                            del down[device_id]
                        except OSError:
                            down[device_id] = now + random.uniform(1, 5)
        for _, c in clients.values():  # a clean goodbye: the will is not sent
            c.disconnect()
            c.loop_write()
        sel.close()


# -- HTTP: one asyncio task per device ----------------------------------------------------


class Fleet:
    def __init__(self, api: str, devices: list[Device]) -> None:
        url = urlsplit(api)
        self.prefix = url.path
        self.devices = devices
        self.stats = Stats()
        self.counting = False
        self.new_asset: str | None = None
        self.published_at = 0.0
        self.phase = "before the publish"
        self.loop: asyncio.AbstractEventLoop | None = None
        self.cpu_start = self.cpu_publish = self.cpu_end = (0.0, 0.0, 0.0, 0.0)
        self.lag_ms: list[float] = []
        self.mqtt_connected_at_end = 0
        self.sync_windows: list[float] = []  # the window of every sync received
        self.until = 0.0  # when the timed run ends (monotonic): set by ``drive``, see ``finish``
        host, port = url.hostname or "127.0.0.1", url.port or 80
        self.conns = {d.id: Connection(host, port, d.creds.token) for d in devices}

    async def publish(self, stack: Stack, image: bytes) -> None:
        self.cpu_publish = cpu_now(stack)
        self.published_at = time.monotonic()
        self.phase = "while the publish signs"
        sha, version, took = await asyncio.to_thread(
            publish_for_everyone, f"{stack.server_url}/api/v1", stack.admin_password, image
        )
        self.new_asset = sha
        self.phase = "after the publish (the sync window, then as before)"
        print(f"publish: version {version} with a {ASSET_KB} KiB image for every device, "
              f"answered in {took:.1f} s", flush=True)  # fmt: skip

    async def watch_lag(self) -> None:
        """How late the simulator's own loop wakes up: its share of the measured latency."""
        while True:
            started = time.perf_counter()
            await asyncio.sleep(0.01)
            self.lag_ms.append((time.perf_counter() - started - 0.01) * 1000)

    def on_command(self, d: Device, payload: bytes = b"") -> None:  # from an MQTT thread
        """A ``sync``: poll after a random part of its window, as ``device_runtime`` does
        (the command is not verified here: the simulator trusts its own server)."""
        if self.loop is None or d.wake is None:
            return
        try:
            window = json.loads(payload)["signed"].get("window_s")
        except (ValueError, KeyError, TypeError, AttributeError):
            window = None
        delay = sync_delay_s(SYNC_JITTER_S if window is None else window, random.random())
        self.sync_windows.append(SYNC_JITTER_S if window is None else float(window))
        self.loop.call_soon_threadsafe(self.loop.call_later, delay, d.wake.set)

    async def close(self) -> None:
        for c in self.conns.values():
            c.close()

    def _count(self) -> None:
        if self.counting:
            self.stats.requests += 1

    async def poll(self, d: Device) -> None:
        headers = f"If-None-Match: {d.etag}\r\n" if d.etag else ""
        started = time.perf_counter()
        try:
            r = await self.conns[d.id].request(
                "GET", f"{self.prefix}/devices/{d.id}/manifest", headers
            )
        except HttpError as e:
            self._count()
            if self.counting:
                self.stats.fail(f"manifest: {str(e)[:60]}")
            return
        ms = (time.perf_counter() - started) * 1000
        self._count()
        if self.counting:
            self.stats.manifest_ms.append(ms)
            self.stats.phase_ms.setdefault(self.phase, []).append(ms)
        if r.status == 304:
            return
        if r.status != 200:
            if self.counting:
                self.bad_status("manifest", r.status)
            return
        signed = json.loads(r.body)["signed"]
        d.etag = r.headers.get("etag")
        d.version = int(signed["version"])
        wanted = set(signed["assets"]) - d.assets
        if not self.counting:  # warm-up: the device already holds what is published
            d.assets |= wanted
            return
        for sha in sorted(wanted):
            await self.download(d, sha)

    async def download(self, d: Device, sha: str) -> None:
        digest = hashlib.sha256()
        try:
            r = await self.conns[d.id].request("GET", f"{self.prefix}/assets/{sha}", sink=digest)
        except HttpError as e:
            self._count()
            self.stats.fail(f"asset: {str(e)[:60]}")
            return
        self._count()
        if r.status != 200:
            self.stats.fail(f"asset: {r.status}")
            return
        if digest.hexdigest() != sha:
            self.stats.fail("asset: bytes do not match the sha256")
            return
        d.assets.add(sha)
        d.got_at[sha] = time.monotonic()

    def play(self, d: Device, now: float) -> None:
        """Records for the items shown since the last call (one per ~10 s item)."""
        while d.last_record_at + ITEM_S <= now:
            d.last_record_at += ITEM_S
            record = {
                "id": str(uuid.uuid4()), "kind": "play", "ts": format_time(datetime.now(UTC)),
                "playlist_id": "adot-welcome", "item_id": "welcome", "language": "vi",
                "duration_ms": int(ITEM_S * 1000), "manifest_version": d.version,
            }  # fmt: skip
            d.queue.append(record)
            d.sent_records.add(str(record["id"]))

    async def flush(self, d: Device) -> None:
        json_type = "Content-Type: application/json\r\n"
        while d.queue:
            batch = d.queue[:100]
            body = json.dumps({"events": batch}).encode()
            try:
                r = await self.conns[d.id].request(
                    "POST", f"{self.prefix}/devices/{d.id}/events", json_type, body
                )
            except HttpError as e:
                self._count()
                self.no_answer(e)
                return  # kept: sent again next time
            self._count()
            if r.status != 200:
                self.bad_status("events", r.status)
                return  # kept: sent again next time
            del d.queue[: len(batch)]

    def bad_status(self, what: str, status: int) -> None:
        """A request answered with a status it should not get: a failure here (a fault run
        may expect some, e.g. a relay's 502 while its uplink is cut)."""
        self.stats.fail(f"{what}: {status}")

    def no_answer(self, e: HttpError) -> None:
        """A batch of records got no answer: a failure here (a fault run may expect it)."""
        self.stats.fail(f"events: {str(e)[:60]}")

    def finish(self) -> None:
        """End the timed run now: a fault run's scenario calls it once it has seen what it
        waited for (every screen caught up), rather than idling to the last second."""
        self.until = time.monotonic()
        for d in self.devices:
            if d.wake is not None:
                d.wake.set()

    async def run_device(self, d: Device) -> None:
        assert d.wake is not None
        delay = random.uniform(0, POLL_S)  # devices were switched on at different times
        d.last_record_at = time.monotonic() - random.uniform(0, ITEM_S)
        while True:
            remaining = self.until - time.monotonic()
            if remaining <= 0:
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(d.wake.wait(), min(delay, remaining))
            d.wake.clear()
            if time.monotonic() >= self.until:
                return
            await self.poll(d)
            self.play(d, time.monotonic())
            await self.flush(d)
            delay = POLL_S * random.uniform(0.9, 1.1)


# -- reading back what the server stored ---------------------------------------------------


def stored_counts(db: Path, devices: list[Device]) -> tuple[int, int, int]:
    """(heartbeats stored, sent records stored, stored records nobody sent)."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        beats = con.execute("SELECT count(*) FROM heartbeats WHERE device_id LIKE 'load-%'")
        heartbeats = int(beats.fetchone()[0])
        ids = {r[0] for r in con.execute("SELECT id FROM events WHERE device_id LIKE 'load-%'")}
    finally:
        con.close()
    sent = set().union(*(d.sent_records for d in devices)) if devices else set()
    return heartbeats, len(sent & ids), len(ids - sent)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_now(stack: Stack) -> tuple[float, float, float, float]:
    """CPU seconds so far of the server, the broker and this simulator; and the wall clock."""
    running = {name: p.pid for name, p in stack.processes.items() if p.poll() is None}
    server = cpu_seconds(running["server"]) if "server" in running else 0.0
    broker = cpu_seconds(running["mosquitto"]) if "mosquitto" in running else 0.0  # fault runs
    return server, broker, time.process_time(), time.monotonic()


def pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


async def publish_half_way(fleet: Fleet, stack: Stack, image: bytes, seconds: float) -> None:
    """The default scenario: an editor publishes for the whole city half-way through."""
    await asyncio.sleep(seconds / 2)
    await fleet.publish(stack, image)


async def drive(
    stack: Stack,
    devices: list[Device],
    seconds: float,
    scenario: Any = publish_half_way,
    make_fleet: Any = Fleet,
    mqtt_port_of: Any = None,
) -> tuple[Fleet, MqttFleet]:
    api = f"{stack.server_url}/api/v1"
    fleet = make_fleet(api, devices)
    fleet.loop = asyncio.get_running_loop()
    for d in devices:
        d.wake = asyncio.Event()
    mqtt_fleet = MqttFleet(stack.mqtt_port, devices, fleet.on_command, mqtt_port_of)
    mqtt_fleet.start()
    try:
        sem = asyncio.Semaphore(50)

        async def warm(d: Device) -> None:
            async with sem:
                await fleet.poll(d)

        await asyncio.gather(*(warm(d) for d in devices))
        unwarmed = [d.id for d in devices if d.etag is None]
        if unwarmed:
            raise RuntimeError(f"{len(unwarmed)} devices got no manifest, e.g. {unwarmed[:3]}")
        deadline = time.monotonic() + 60
        while mqtt_fleet.connected < len(devices) and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        if mqtt_fleet.connected < len(devices):
            raise RuntimeError(
                f"only {mqtt_fleet.connected}/{len(devices)} devices connected to the broker: "
                f"{mqtt_fleet.errors[:3]}"
            )
        print(f"fleet: {len(devices)} devices enrolled, warm and connected", flush=True)

        image = new_image(ASSET_KB)  # made now: numpy and OpenCV take a while to load
        lag_task = asyncio.create_task(fleet.watch_lag())
        fleet.cpu_start = cpu_now(stack)
        fleet.counting = True
        mqtt_fleet.heartbeats = True
        fleet.until = time.monotonic() + seconds  # at the latest: ``finish`` may end it sooner
        tasks = [asyncio.create_task(fleet.run_device(d)) for d in devices]
        await scenario(fleet, stack, image, seconds)
        await asyncio.gather(*tasks)
        fleet.mqtt_connected_at_end = mqtt_fleet.connected
        fleet.cpu_end = cpu_now(stack)
        lag_task.cancel()
        # After the run every device records what it played and sends what it still holds
        # (as it would at its next poll).
        for d in devices:
            fleet.play(d, time.monotonic())
        await asyncio.gather(*(fleet.flush(d) for d in devices))
        fleet.counting = False
    finally:
        mqtt_fleet.join()
        await fleet.close()
    return fleet, mqtt_fleet


@contextlib.contextmanager
def pace(
    poll_s: float | None = None, item_s: float | None = None, heartbeat_s: float | None = None
) -> Iterator[None]:
    """The screens' intervals changed for one run (None: kept), restored after it: the
    fault runs share this module in one process (``python -m bench.faults``)."""
    global POLL_S, ITEM_S, HEARTBEAT_S
    saved = POLL_S, ITEM_S, HEARTBEAT_S
    POLL_S = POLL_S if poll_s is None else poll_s
    ITEM_S = ITEM_S if item_s is None else item_s
    HEARTBEAT_S = HEARTBEAT_S if heartbeat_s is None else heartbeat_s
    try:
        yield
    finally:
        POLL_S, ITEM_S, HEARTBEAT_S = saved


def steady_ports(k: int) -> list[int]:
    """k free loopback ports below the kernel's ephemeral range: while a fault run has the
    server or the broker down, no other process's ``bind(0)`` or outgoing connection can
    take its port, so it starts again where the screens look for it."""
    ephemeral = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
    top = int(ephemeral[0]) - 1
    ports: list[int] = []
    for _ in range(100 * k):
        port = random.randint(max(1024, top - 12000), top)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        if port not in ports:
            ports.append(port)
        if len(ports) == k:
            return ports
    raise RuntimeError("no free ports below the ephemeral range")


def start_stack(n: int, prefix: str) -> tuple[Stack, list[Device]]:
    """Server and broker up on loopback with n devices enrolled (stop it with ``stop``)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, max(soft, 4 * n + 256))
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))  # the children inherit it
    root = Path(tempfile.mkdtemp(prefix=prefix))
    server_port, mqtt_port, mqtt_server_port = steady_ports(3)
    stack = Stack(root, server_port=server_port, mqtt_port=mqtt_port,
                  mqtt_server_port=mqtt_server_port)  # fmt: skip
    try:
        t0 = time.monotonic()
        stack.init()
        devices = enrol_fleet(stack, n)
        stack.start_broker()
        stack.start_server()
    except BaseException:
        stop(stack)
        raise
    print(f"set-up: {n} devices enrolled, published, broker and server up "
          f"in {time.monotonic() - t0:.1f} s", flush=True)  # fmt: skip
    return stack, devices


def stop(stack: Stack) -> None:
    stack.stop()
    shutil.rmtree(stack.root, ignore_errors=True)


def read_back(stack: Stack, devices: list[Device]) -> tuple[int, int, int]:
    """``stored_counts`` once the ingest's batches stop growing (it writes every second)."""
    sent_beats = sum(d.heartbeats_sent for d in devices)
    db = Settings(data_dir=stack.data_dir).db_path
    last, stable_since = -1, time.monotonic()
    deadline = time.monotonic() + 30
    while True:
        beats, records, extra = stored_counts(db, devices)
        if beats != last:
            last, stable_since = beats, time.monotonic()
        elif beats >= sent_beats or time.monotonic() - stable_since > 3:
            break
        if time.monotonic() > deadline:
            break
        time.sleep(0.5)
    return beats, records, extra


def main() -> int:
    stack, devices = start_stack(DEVICES, "signage-load-")
    try:
        fleet, mqtt_fleet = asyncio.run(drive(stack, devices, SECONDS))
        sent_beats = sum(d.heartbeats_sent for d in devices)
        beats, records, extra = read_back(stack, devices)
        cpu0, cpu1 = fleet.cpu_start, fleet.cpu_end
        wall = cpu1[3] - cpu0[3]
        sent_records = sum(len(d.sent_records) for d in devices)
        quiet = fleet.cpu_publish
        print(
            f"cpu before the publish ({quiet[3] - cpu0[3]:.0f} s of polls, heartbeats and "
            f"records only): server {quiet[0] - cpu0[0]:.1f} s, "
            f"mosquitto {quiet[1] - cpu0[1]:.1f} s, simulator {quiet[2] - cpu0[2]:.1f} s"
        )
        new = fleet.new_asset or ""
        got = [d.got_at[new] - fleet.published_at for d in devices if new in d.got_at]
        stats = fleet.stats
        print(
            f"cpu over {wall:.0f} s: server {cpu1[0] - cpu0[0]:.1f} s, "
            f"mosquitto {cpu1[1] - cpu0[1]:.1f} s, simulator {cpu1[2] - cpu0[2]:.1f} s "
            f"(of {2 * wall:.0f} core-seconds)"
        )
        windows = sorted(set(fleet.sync_windows))
        print(
            f"new asset: {len(got)}/{len(devices)} devices, the last "
            f"{max(got, default=0):.1f} s after the publish; sync commands received: "
            f"{mqtt_fleet.commands}, spread over {windows} s"
        )
        polls = stats.manifest_ms
        print(
            f"manifest polls: {len(polls)}, p50 {pct(polls, 0.5):.1f} ms, "
            f"p99 {pct(polls, 0.99):.1f} ms (target < {P99_TARGET_MS:.0f} ms), "
            f"max {max(polls, default=0):.1f} ms"
        )
        for phase, ms in stats.phase_ms.items():
            print(
                f"  {phase}: {len(ms)} polls, p50 {pct(ms, 0.5):.1f} ms, "
                f"p99 {pct(ms, 0.99):.1f} ms, max {max(ms):.1f} ms"
            )
        lag = fleet.lag_ms
        print(
            f"simulator loop lag: p50 {pct(lag, 0.5):.1f} ms, p99 {pct(lag, 0.99):.1f} ms, "
            f"max {max(lag, default=0):.1f} ms"
        )
        if stats.errors:
            print(f"failures: {stats.errors}")
        if extra:
            print(f"records stored that no device sent: {extra}")
        print(
            f"load: devices={len(devices)} seconds={SECONDS:.0f} requests={stats.requests} "
            f"failed={stats.failed} p99_ms={pct(stats.manifest_ms, 0.99):.1f} "
            f"heartbeats={beats}/{sent_beats} records={records}/{sent_records}",
            flush=True,
        )
        ok = stats.failed == 0 and records == sent_records and not extra
        return 0 if ok and len(got) == len(devices) else 1
    finally:
        stop(stack)


if __name__ == "__main__":
    raise SystemExit(main())


def verdict(name: str, facts: str, problems: list[str]) -> int:
    """A run's last line, and its exit code: 1 when an invariant broke."""
    print(f"{name}: {facts} {'ok' if not problems else 'FAILED: ' + '; '.join(problems)}")
    return 1 if problems else 0
