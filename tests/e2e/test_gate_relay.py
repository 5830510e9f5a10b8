"""A gate relay on real nginx and a second real Mosquitto, between real devices and the
city: the screens of the gate A Đớt use the relay as ``server_url`` and ``mqtt_url``.

The relay reaches the city server through a counting TCP forwarder (the gate's uplink),
so the tests see which asset requests and how many bytes crossed it. Everything is set
up with the commands an operator runs: ``add-device`` with the relay's URLs,
``relay-config``, ``mqtt-config``, ``nginx -c``, ``mosquitto -c``.
"""

from __future__ import annotations

import hashlib
import shutil
import sys
import tomllib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from signage_core import topics
from tests.support.mosquitto import MOSQUITTO, readable_dir
from tests.support.mqtt_watch import Watcher
from tests.support.stack import Stack, admin_headers, command
from tests.support.uplink import SeenRequest, Uplink
from tests.support.waiting import free_port, wait_port, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.live]

GATE = "adot"
FIRST, SECOND, THIRD = "adot-hall-1", "adot-post-1", "adot-hall-2"
GATE_DEVICES = {FIRST: "adot-hall", SECOND: "adot-post", THIRD: "adot-hall"}
ELSEWHERE = "hongvan-hall-1"
SLICE = 16 * 1024  # small, so the imported images span several slices
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


class Relay:
    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.port = free_port()
        self.mqtt_port = free_port()
        self.dir = readable_dir("gate-relay-")  # nginx's workers and Mosquitto read it
        self.uplink: Uplink | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def enrol(self, device_id: str, site: str) -> Path:
        config = self.stack.root / "devices" / f"{device_id}.toml"
        config.parent.mkdir(parents=True, exist_ok=True)
        self.stack.run(
            "add-device", "--data-dir", str(self.stack.data_dir), "--site", site,
            "--device-id", device_id, "--server-url", self.url,
            "--mqtt-url", f"mqtt://127.0.0.1:{self.mqtt_port}", "--config-out", str(config),
            "--device-data-dir", str(self.stack.root / "devices" / device_id),
        )  # fmt: skip
        with config.open("a", encoding="utf-8") as f:
            f.write("heartbeat_interval_s = 2\npoll_interval_s = 5\n")
        return config

    def configure(self) -> str:
        assert self.uplink is not None
        return self.stack.run(
            "relay-config", "--data-dir", str(self.stack.data_dir), "--site", GATE,
            "--upstream", self.uplink.url, "--upstream-mqtt", self.stack.mqtt_url,
            "--port", str(self.port), "--mqtt-port", str(self.mqtt_port),
            "--out", str(self.dir), "--listen", "127.0.0.1", "--slice-size", "16k",
        ).stdout  # fmt: skip

    def start(self) -> None:
        self.stack.start_device(
            "relay-nginx", [NGINX, "-c", str(self.dir / "nginx.conf"), "-g", "daemon off;"]
        )
        self.stack.start_device(
            "relay-mosquitto", [MOSQUITTO, "-c", str(self.dir / "mosquitto.conf")]
        )
        wait_port(self.port)
        wait_port(self.mqtt_port)

    def cache_files(self) -> list[Path]:
        return [p for p in (self.dir / "nginx" / "cache" / "assets").rglob("*") if p.is_file()]


@pytest.fixture(scope="module")
def gate(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Relay]:
    stack = Stack(tmp_path_factory.mktemp("relay-stack"))
    relay = Relay(stack)
    try:
        stack.init()
        for device_id, site in GATE_DEVICES.items():
            relay.enrol(device_id, site)
        stack.add_device(ELSEWHERE, "hongvan-hall")
        relay.uplink = Uplink.start(stack.server_port)
        out = relay.configure()
        assert "3 device(s) of the gate" in out and ELSEWHERE not in out, out
        assert "new bridge account relay-adot" in out, out
        stack.start_broker()  # mqtt-config now also writes the bridge account relay-adot
        stack.start_server()
        relay.start()
        yield relay
    finally:
        stack.stop()
        if relay.uplink is not None:
            relay.uplink.stop()
        shutil.rmtree(relay.dir, ignore_errors=True)


def token(stack: Stack, device_id: str) -> str:
    for line in (stack.root / "devices" / f"{device_id}.toml").read_text().splitlines():
        if line.startswith("token = "):
            return line.split("=", 1)[1].strip().strip('"')
    raise AssertionError(f"no token in {device_id}'s config")


def manifest_assets(stack: Stack, device_id: str) -> dict[str, int]:
    r = requests.get(
        f"{stack.server_url}/api/v1/devices/{device_id}/manifest",
        headers={"Authorization": f"Bearer {token(stack, device_id)}"},
        timeout=5,
    )
    assert r.status_code == 200, r.text
    assets = r.json()["signed"]["assets"]
    return {sha: int(a["size"]) for sha, a in assets.items()}


def manifest_bytes(stack: Stack, device_id: str) -> int:
    r = requests.get(
        f"{stack.server_url}/api/v1/devices/{device_id}/manifest",
        headers={"Authorization": f"Bearer {token(stack, device_id)}"},
        timeout=5,
    )
    return len(r.content)


def cached(stack: Stack, device_id: str) -> set[str]:
    cache = stack.root / "devices" / device_id / "cache"
    return {p.name for p in cache.iterdir() if p.is_file()} if cache.exists() else set()


def start_device(stack: Stack, device_id: str) -> None:
    if device_id in stack.processes:  # started by an earlier test of this module
        return
    config = stack.root / "devices" / f"{device_id}.toml"
    stack.start_device(device_id, [sys.executable, "-m", "device_runtime", "--config", str(config)])


def asset_requests(seen: list[SeenRequest]) -> list[SeenRequest]:
    return [r for r in seen if r.path.startswith("/api/v1/assets/")]


def test_a_device_at_the_gate_syncs_reports_and_hears_the_city_through_the_relay(
    gate: Relay,
) -> None:
    stack, uplink = gate.stack, gate.uplink
    assert uplink is not None
    wanted = manifest_assets(stack, FIRST)
    assert wanted and max(wanted.values()) > SLICE, "the gate's images should span slices"
    start_device(stack, FIRST)

    # Manifest and assets came through the relay, each asset fetched in slices.
    wait_until(lambda: cached(stack, FIRST) == set(wanted), 40, "the first device's cache")
    for sha in wanted:
        data = (stack.root / "devices" / FIRST / "cache" / sha).read_bytes()
        assert hashlib.sha256(data).hexdigest() == sha
    seen = uplink.requests()
    assert any(r.path == f"/api/v1/devices/{FIRST}/manifest" for r in seen)
    ranges = {r.headers.get("range") for r in asset_requests(seen)}
    assert f"bytes=0-{SLICE - 1}" in ranges and f"bytes={SLICE}-{2 * SLICE - 1}" in ranges
    assert uplink.down_bytes >= sum(wanted.values())

    # Its heartbeat reaches the city server's ingest through the bridge.
    headers = admin_headers(stack)

    def heartbeat() -> dict[str, Any] | None:
        r = requests.get(f"{stack.server_url}/api/v1/devices/{FIRST}", headers=headers, timeout=5)
        assert r.status_code == 200, r.text
        beat: dict[str, Any] | None = r.json()["health"]["heartbeat"]
        return beat if beat and beat.get("manifest_version") else None

    beat = wait_until(heartbeat, 30, "the first device's heartbeat at the city")
    assert beat["cache"]["missing"] == 0

    # An alert posted at the city for the gate comes down the bridge to the device.
    expires = datetime.now(UTC) + timedelta(minutes=10)
    r = requests.post(
        f"{stack.server_url}/api/v1/alerts",
        json={
            "site_id": GATE,
            "severity": "emergency",
            "expires_at": expires.isoformat(),
            "texts": {
                "vi": {"title": "Tạm dừng thông quan", "body": "Xin chờ hướng dẫn."},
                "lo": {"title": "ໂຈະການຜ່ານແດນຊົ່ວຄາວ", "body": "ກະລຸນາລໍຖ້າ."},
                "en": {"title": "Crossing suspended", "body": "Please wait for instructions."},
            },
        },
        headers=headers,
        timeout=5,
    )
    assert r.status_code == 201, r.text
    alert_id = r.json()["id"]
    wait_until(
        lambda: f"active alert {alert_id}" in stack.log(FIRST) and "via mqtt" in stack.log(FIRST),
        20,
        "the alert on the device",
    )

    # The gate's broker keeps it retained: a screen connecting later gets it at once.
    config = tomllib.loads((stack.root / "devices" / f"{THIRD}.toml").read_text())
    later = Watcher(gate.mqtt_port, THIRD, config["mqtt_password"], topics.alert_topic(GATE))
    try:
        later.wait_for(lambda t, d: True, 10)
        assert later.messages[0][2], "the alert at the gate broker is not retained"
        assert alert_id.encode() in later.messages[0][1]
    finally:
        later.close()

    # A command comes down too: the headless device answers `screenshot` over HTTP,
    # through the relay.
    r = command(stack, headers, FIRST, "screenshot", ttl_s=60)
    assert r.status_code == 202, r.text
    wait_until(lambda: "screenshot: uploaded" in stack.log(FIRST), 20, "the screenshot")


def test_a_second_device_gets_the_same_assets_from_the_relay_cache_not_the_uplink(
    gate: Relay,
) -> None:
    stack, uplink = gate.stack, gate.uplink
    assert uplink is not None
    first = manifest_assets(stack, FIRST)
    start_device(stack, FIRST)
    wait_until(lambda: cached(stack, FIRST) == set(first), 40, "the first device's cache")
    # Only the second device talks through the relay while the uplink is measured: the
    # first one's next poll could still carry no ETag (a 200 with its whole manifest).
    stack.kill(FIRST)
    wanted = manifest_assets(stack, SECOND)
    shared = set(wanted) & set(first)
    assert shared, "the hall and the post of one gate share the gate's images"
    before_requests, before_bytes = len(uplink.requests()), uplink.down_bytes

    start_device(stack, SECOND)
    wait_until(lambda: cached(stack, SECOND) == set(wanted), 40, "the second device's cache")

    after = asset_requests(uplink.requests()[before_requests:])
    fetched = [r for r in after if r.headers.get("range") != "bytes=0-0"]
    # Only the token check (one byte) went up for the shared assets, never their slices.
    assert not [r for r in fetched if r.path.rsplit("/", 1)[1] in shared], fetched
    probes = [r for r in after if r.headers.get("range") == "bytes=0-0"]
    assert len(probes) <= 2, probes  # one per token per minute
    # Bytes over the uplink: the manifest, the token check and the post's own assets; a
    # second copy of the shared images would be far more than the slack allowed.
    own = sum(size for sha, size in wanted.items() if sha not in shared)
    slack = 8_000
    assert sum(wanted[s] for s in shared) > 4 * slack
    down = uplink.down_bytes - before_bytes
    assert down < manifest_bytes(stack, SECOND) + own + slack, [
        (r.method, r.path, r.headers.get("range")) for r in uplink.requests()[before_requests:]
    ]

    # Range and If-Range from the relay's cache, as a device resuming a download sends them.
    big = max(shared, key=lambda s: wanted[s])
    whole = (stack.root / "devices" / SECOND / "cache" / big).read_bytes()
    auth = {"Authorization": f"Bearer {token(stack, SECOND)}"}
    r = requests.get(
        f"{gate.url}/api/v1/assets/{big}",
        headers={**auth, "Range": "bytes=20000-", "If-Range": f'"{big}"'},
        timeout=5,
    )
    assert r.status_code == 206, r.text
    assert r.headers["Content-Range"] == f"bytes 20000-{len(whole) - 1}/{len(whole)}"
    assert r.content == whole[20000:]
    r = requests.get(
        f"{gate.url}/api/v1/assets/{big}",
        headers={**auth, "Range": "bytes=20000-", "If-Range": '"another"'},
        timeout=5,
    )
    assert r.status_code == 200 and r.content == whole
    r = requests.get(
        f"{gate.url}/api/v1/assets/{big}", headers={**auth, "If-None-Match": f'"{big}"'}, timeout=5
    )
    assert r.status_code == 304

    # No cached byte for a request without a valid device token.
    for bad in ({}, {"Authorization": "Bearer not-a-device-token"}):
        r = requests.get(f"{gate.url}/api/v1/assets/{big}", headers=bad, timeout=5)
        assert r.status_code == 401, (bad, r.status_code)
        assert whole[:64] not in r.content
        assert r.headers["Content-Type"] == "application/problem+json"
    fetched = [
        r
        for r in asset_requests(uplink.requests()[before_requests:])
        if r.headers.get("range") != "bytes=0-0"
    ]
    assert not [r for r in fetched if r.path.rsplit("/", 1)[1] in shared], fetched

    # Manifests pass through with their ETag; the admin API is not the relay's business.
    url = f"{gate.url}/api/v1/devices/{SECOND}/manifest"
    r = requests.get(url, headers=auth, timeout=5)
    assert (
        r.status_code == 200
        and r.content
        == requests.get(
            f"{stack.server_url}/api/v1/devices/{SECOND}/manifest", headers=auth, timeout=5
        ).content
    )
    r = requests.get(url, headers={**auth, "If-None-Match": r.headers["ETag"]}, timeout=5)
    assert r.status_code == 304
    # An asset the city does not have: its 404, the token check's answer fresh and cached.
    elsewhere = {"Authorization": f"Bearer {token(stack, ELSEWHERE)}"}
    for _ in range(2):
        r = requests.get(f"{gate.url}/api/v1/assets/{'0' * 64}", headers=elsewhere, timeout=5)
        assert r.status_code == 404, r.text
    r = requests.get(f"{gate.url}/api/v1/playlists", headers=admin_headers(stack), timeout=5)
    assert r.status_code == 404 and "gate relay" in r.json()["detail"]

    # The uplink drops: what the relay holds still goes to a token the city accepted in
    # the last minute; a token it never saw, and manifests, get a clear 503.
    uplink.cut()
    try:
        r = requests.get(f"{gate.url}/api/v1/assets/{big}", headers=auth, timeout=10)
        assert r.status_code == 200 and r.content == whole
        unseen = {"Authorization": f"Bearer {token(stack, THIRD)}"}
        r = requests.get(f"{gate.url}/api/v1/assets/{big}", headers=unseen, timeout=10)
        assert r.status_code == 503 and whole[:64] not in r.content
        assert "cannot reach the city" in r.json()["detail"]
        r = requests.get(f"{gate.url}/api/v1/devices/{SECOND}/manifest", headers=auth, timeout=10)
        assert r.status_code == 503 and r.headers["Retry-After"] == "60"
    finally:
        uplink.restore()


def test_tampered_bytes_in_the_relay_cache_are_refused_by_the_device(gate: Relay) -> None:
    """Whoever holds the relay can change its cached bytes, not what a screen shows."""
    stack = gate.stack
    wanted = manifest_assets(stack, THIRD)
    first = manifest_assets(stack, FIRST)
    start_device(stack, FIRST)
    wait_until(lambda: cached(stack, FIRST) == set(first), 40, "the first device's cache")
    victim = max(set(wanted) & set(first), key=lambda s: wanted[s])
    tampered = 0
    for path in gate.cache_files():
        raw = path.read_bytes()
        if f"KEY: /api/v1/assets/{victim}".encode() not in raw:
            continue
        body = raw.index(b"\r\n\r\n") + 4  # the cached HTTP head ends here
        path.write_bytes(raw[:body] + bytes(b ^ 0xFF for b in raw[body:]))
        tampered += 1
    assert tampered >= 2, "the victim asset should sit in the cache in several slices"
    r = requests.get(
        f"{gate.url}/api/v1/assets/{victim}",
        headers={"Authorization": f"Bearer {token(stack, THIRD)}"},
        timeout=5,
    )
    assert r.status_code == 200 and hashlib.sha256(r.content).hexdigest() != victim

    start_device(stack, THIRD)
    others = set(wanted) - {victim}
    wait_until(lambda: others <= cached(stack, THIRD), 40, "the third device's other assets")
    wait_until(
        lambda: f"asset {victim[:12]}: the bytes received have another hash" in stack.log(THIRD),
        30,
        "the device to refuse the tampered asset",
    )
    assert victim not in cached(stack, THIRD)
    assert "is now playing" not in stack.log(THIRD), "a manifest with a bad asset must not play"
