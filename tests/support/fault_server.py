"""A content server on real loopback HTTP that misbehaves on purpose.

It speaks the device side of the contract (signed manifest with ``ETag`` and
``Date``, assets with ``Range``/``If-Range``, event batches stored once per
uuid like the real server's ``INSERT OR IGNORE``), so the device's real
``HttpFetcher`` and ``requests`` are exercised. ``Faults`` decides, per asset
request and from a seeded random generator, to answer 500, cut the connection
at a random offset, stall for a moment, send more bytes than declared, or send
wrong bytes. ``rate`` limits the server's sending like a slow link. Event
answers can be delayed or dropped after the batch was stored.

Used by ``tests/device/test_faults.py``, the kill loops and ``bench``.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from device_runtime.cache import AssetCache
from device_runtime.fetcher import HttpFetcher
from device_runtime.settings import DeviceSettings
from device_runtime.state import TrustState
from device_runtime.syncer import Syncer
from signage_core.canonical import canonical_json
from signage_core.manifest import SCHEMA
from signage_core.signing import SigningKey, sign_envelope
from signage_core.timefmt import format_time

DEVICE = "adot-hall-1"
TOKEN = "device-token"
_ASSET = re.compile(r"^/api/v1/assets/([0-9a-f]{64})$")
_RANGE = re.compile(r"^bytes=(\d+)-$")
FAULT_KINDS = ("error", "cut", "stall", "oversize", "wrong")


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def signed_body(
    version: int,
    assets: Mapping[str, bytes],
    *,
    device_id: str = DEVICE,
    now: datetime | None = None,
    ttl: timedelta = timedelta(days=30),
    playlists: list[dict[str, Any]] | None = None,
    alerts: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A valid ``signed``: one image item per asset in one always-on playlist."""
    now = now or datetime.now(UTC).replace(microsecond=0)
    hashes = sorted(sha(d) for d in assets.values())
    items = [
        {"id": f"img-{i}", "kind": "image", "duration_s": 8, "variants": {"vi": {"asset": h}}}
        for i, h in enumerate(hashes)
    ] or [{"id": "t", "kind": "text", "duration_s": 5, "variants": {"vi": {"title": "Xin chào"}}}]
    return {
        "schema": SCHEMA,
        "device_id": device_id,
        "site_id": "adot",
        "version": version,
        "issued_at": format_time(now - timedelta(minutes=1)),
        "expires_at": format_time(now + ttl),
        "timezone": "Asia/Ho_Chi_Minh",
        "languages": ["vi", "lo"],
        "playlists": playlists
        if playlists is not None
        else [{"id": "main", "priority": 1, "schedule": None, "items": items}],
        "pages": [],
        "alerts": alerts or [],
        "assets": {sha(d): {"size": len(d), "media_type": "image/png"} for d in assets.values()},
    }


@dataclass
class Faults:
    """Per asset request: at most one fault, each kind with its probability."""

    error: float = 0.0  # answer 500
    cut: float = 0.0  # close the connection at a random offset
    stall: float = 0.0  # stop sending for ``stall_s`` at a random offset, then go on
    oversize: float = 0.0  # send the asset, then a flood, with a Content-Length to match
    wrong: float = 0.0  # flip a byte
    stall_s: tuple[float, float] = (0.1, 0.6)
    seed: int = 0
    rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    def pick(self) -> str | None:
        r = self.rng.random()
        for kind in FAULT_KINDS:
            r -= getattr(self, kind)
            if r < 0:
                return kind
        return None


@dataclass
class Stats:
    asset_bytes: Counter[str] = field(default_factory=Counter)  # body bytes sent, per asset
    asset_requests: Counter[str] = field(default_factory=Counter)
    faults: Counter[str] = field(default_factory=Counter)
    ranges: list[tuple[str, int]] = field(default_factory=list)  # (sha, start) of 206s
    manifest_requests: int = 0
    events_received: Counter[str] = field(default_factory=Counter)  # uuid -> times posted

    @property
    def total_asset_bytes(self) -> int:
        return sum(self.asset_bytes.values())


class FaultServer:
    """Start with ``with FaultServer() as server:``; ``server.url`` is its base URL."""

    def __init__(
        self,
        faults: Faults | None = None,
        rate: float | None = None,
        device_id: str = DEVICE,
        key: SigningKey | None = None,
    ) -> None:
        self.faults = faults or Faults()
        self.rate = rate  # bytes per second, or None for loopback speed
        self.device_id = device_id
        self.key = key or SigningKey.generate()
        self.blobs: dict[str, bytes] = {}
        self.manifest: bytes | None = None
        self.etag: str | None = None
        self.events: dict[str, dict[str, Any]] = {}  # stored once per uuid
        self.event_faults: list[str] = []  # consumed per POST: "drop", "delay", "refuse"
        self.event_delay_s = 2.0
        self.stats = Stats()
        self.date: datetime | None = None  # the Date header to answer (None: the real clock)
        self.lock = threading.Lock()
        self.chunk = 16 * 1024
        self.oversize_bytes = 32 * 1024 * 1024
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def start(self) -> FaultServer:
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, args=(0.05,), name="fault-server", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> FaultServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- publishing ---------------------------------------------------------------------------

    def publish(
        self, version: int, *datas: bytes, keys: list[SigningKey] | None = None, **kw: Any
    ) -> dict[str, Any]:
        with self.lock:
            for d in datas:
                self.blobs[sha(d)] = d
            signed = signed_body(version, {str(i): d for i, d in enumerate(datas)}, **kw)
            signed["device_id"] = kw.get("device_id", self.device_id)
            envelope = sign_envelope(signed, keys if keys is not None else [self.key])
            self.manifest = canonical_json(envelope)
            self.etag = f'"{version}"'
        return signed

    @contextmanager
    def no_faults(self) -> Iterator[None]:
        saved, self.faults = self.faults, Faults()
        try:
            yield
        finally:
            self.faults = saved


def _handler(server: FaultServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _head(self, status: int, length: int, **headers: str) -> None:
            self.send_response_only(status)
            date = server.date or datetime.now(UTC)
            self.send_header("Date", format_datetime(date, usegmt=True))
            self.send_header("Content-Length", str(length))
            for k, v in headers.items():
                self.send_header(k.replace("_", "-"), v)
            self.end_headers()

        def _send(self, status: int, body: bytes, **headers: str) -> None:
            self._head(status, len(body), **headers)
            self.wfile.write(body)

        def _authorised(self) -> bool:
            if self.headers.get("Authorization") == f"Bearer {TOKEN}":
                return True
            self._send(401, b'{"detail": "unknown device token"}')
            return False

        def do_GET(self) -> None:
            if not self._authorised():
                return
            if self.path == f"/api/v1/devices/{server.device_id}/manifest":
                with server.lock:
                    server.stats.manifest_requests += 1
                    body, etag = server.manifest, server.etag
                if body is None:
                    return self._send(404, b'{"detail": "no manifest published"}')
                if etag is not None and self.headers.get("If-None-Match") == etag:
                    return self._send(304, b"", ETag=etag)
                return self._send(200, body, ETag=etag or "", Content_Type="application/json")
            m = _ASSET.match(self.path)
            if not m or m.group(1) not in server.blobs:
                return self._send(404, b'{"detail": "no such asset"}')
            self._asset(m.group(1))

        def _asset(self, digest: str) -> None:
            data = server.blobs[digest]
            start = 0
            rng = _RANGE.match(self.headers.get("Range", ""))
            if rng and self.headers.get("If-Range") == f'"{digest}"':
                start = int(rng.group(1))
                if start >= len(data):
                    crange = f"bytes */{len(data)}"
                    return self._send(416, b"", Content_Range=crange)
            with server.lock:
                fault = server.faults.pick()
                server.stats.asset_requests[digest] += 1
                if fault:
                    server.stats.faults[fault] += 1
                at = server.faults.rng.randrange(start, len(data)) if len(data) > start else start
                stall = server.faults.rng.uniform(*server.faults.stall_s)
            if fault == "error":
                return self._send(500, b'{"detail": "injected failure"}')
            body = data[start:]
            if fault == "wrong" and body:
                i = at - start
                body = body[:i] + bytes([body[i] ^ 0x01]) + body[i + 1 :]
            extra = server.oversize_bytes if fault == "oversize" else 0
            headers = {"ETag": f'"{digest}"', "Content_Type": "application/octet-stream"}
            if start:
                headers["Content_Range"] = f"bytes {start}-{len(data) - 1}/{len(data)}"
                with server.lock:
                    server.stats.ranges.append((digest, start))
            self._head(206 if start else 200, len(body) + extra, **headers)
            cut_at = at - start if fault == "cut" else None
            stall_at = at - start if fault == "stall" else None
            self._stream(digest, body, extra, cut_at, stall_at, stall)

        def _stream(
            self,
            digest: str,
            body: bytes,
            extra: int,
            cut_at: int | None,
            stall_at: int | None,
            stall_s: float,
        ) -> None:
            sent, started = 0, time.monotonic()
            total = len(body) + extra
            try:
                while sent < total:
                    if cut_at is not None and sent >= cut_at:
                        self.close_connection = True
                        self.connection.shutdown(socket.SHUT_RDWR)
                        return
                    if stall_at is not None and sent >= stall_at:
                        time.sleep(stall_s)
                        stall_at = None
                    bounds = [b for b in (total, cut_at, stall_at) if b is not None and b > sent]
                    n = min(server.chunk, min(bounds) - sent)
                    piece = body[sent : sent + n]
                    piece += b"\0" * (n - len(piece))  # the flood past the declared size
                    self.wfile.write(piece)
                    sent += n
                    with server.lock:
                        server.stats.asset_bytes[digest] += n
                    if server.rate:
                        ahead = sent / server.rate - (time.monotonic() - started)
                        if ahead > 0:
                            time.sleep(ahead)
            except OSError:  # the device hung up (it aborts a download that runs over)
                self.close_connection = True

        def do_POST(self) -> None:
            if not self._authorised():
                return
            length = int(self.headers.get("Content-Length", "0"))
            raw = self.rfile.read(length)
            if self.path != f"/api/v1/devices/{server.device_id}/events":
                return self._send(404, b'{"detail": "no such device"}')
            with server.lock:
                fault = server.event_faults.pop(0) if server.event_faults else None
            if fault == "refuse":  # down before storing anything
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            events = json.loads(raw)["events"]
            with server.lock:
                for e in events:
                    server.stats.events_received[e["id"]] += 1
                    server.events.setdefault(e["id"], e)  # INSERT OR IGNORE
            if fault == "drop":  # stored, but the answer never arrives
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            if fault == "delay":
                time.sleep(server.event_delay_s)
            self._send(200, json.dumps({"accepted": len(events)}).encode())

    return Handler


def device_settings(root: Path, server: FaultServer, **kw: Any) -> DeviceSettings:
    """The settings of the device ``server`` serves, its data in ``root``, no MQTT broker;
    ``kw`` sets more fields."""
    return DeviceSettings(
        device_id=DEVICE,
        token=TOKEN,
        server_url=server.url,
        trusted_keys=(server.key.public,),
        mqtt_url="mqtt://127.0.0.1:9",
        mqtt_password="unused",
        data_dir=root,
        **kw,
    )


def real_syncer(root: Path, server: FaultServer, *, timeout_s: float = 20.0, **kw: Any) -> Syncer:
    """The real device side (HttpFetcher, cache, trust state) of ``server``, loaded from
    ``root`` like after a reboot; ``kw`` goes to ``Syncer``."""
    settings = device_settings(root, server, request_timeout_s=timeout_s)
    syncer = Syncer(
        device_id=DEVICE,
        fetcher=HttpFetcher(settings),
        cache=AssetCache(settings.cache_dir),
        trust=TrustState(settings.state_dir, DEVICE, settings.trusted_key_map),
        **kw,
    )
    syncer.load()
    return syncer
