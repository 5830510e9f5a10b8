"""An in-memory content server that implements the device's ``Fetcher`` Protocol.

Like python-tuf's ``RepositorySimulator``: it signs manifests with a test key,
serves assets from memory, honours ``If-None-Match`` and ``Range``/``If-Range``,
takes event batches, and can misbehave on purpose (serve wrong or too many
bytes, go offline) so the tests can play the attacks and failures a border
post sees.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from device_runtime.errors import DownloadError
from device_runtime.fetcher import AssetStream, EventsResponse, ManifestResponse
from device_runtime.settings import DeviceSettings
from signage_core.manifest import SCHEMA
from signage_core.signing import SigningKey, sign_envelope
from signage_core.timefmt import format_time
from tests.support.clock import latest_utc

# 12:00 in Huế, today or yesterday: the runtime under test reads the real clock.
NOW = latest_utc(5)
DEVICE = "adot-hall-1"


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def make_signed(
    *,
    device_id: str = DEVICE,
    version: int = 1,
    assets: Mapping[str, bytes] = {},
    issued_at: datetime = NOW - timedelta(hours=1),
    expires_at: datetime = NOW + timedelta(days=30),
    title: str = "Welcome to A Đớt border gate",
) -> dict[str, Any]:
    """A valid ``signed`` body: one text item plus one image item per asset."""
    items: list[dict[str, Any]] = [
        {
            "id": "welcome",
            "kind": "text",
            "duration_s": 10,
            "variants": {"vi": {"title": title, "body": "Xin chào"}, "lo": {"title": "ສະບາຍດີ"}},
        }
    ]
    for i, h in enumerate(sorted(sha(d) for d in assets.values())):
        items.append(
            {"id": f"img-{i}", "kind": "image", "duration_s": 8, "variants": {"vi": {"asset": h}}}
        )
    return {
        "schema": SCHEMA,
        "device_id": device_id,
        "site_id": "adot",
        "version": version,
        "issued_at": format_time(issued_at),
        "expires_at": format_time(expires_at),
        "timezone": "Asia/Ho_Chi_Minh",
        "languages": ["vi", "lo"],
        "playlists": [{"id": "welcome", "priority": 10, "schedule": None, "items": items}],
        "pages": [],
        "alerts": [],
        "assets": {sha(d): {"size": len(d), "media_type": "image/png"} for d in assets.values()},
    }


@dataclass
class FakeServer:
    device_id: str = DEVICE
    key: SigningKey = field(default_factory=SigningKey.generate)
    date: datetime | None = NOW
    offline: bool = False
    chunk: int = 1000
    blobs: dict[str, bytes] = field(default_factory=dict)  # sha -> bytes the server sends
    body: bytes | None = None  # the manifest response body
    etag: str | None = None
    events: dict[str, dict[str, Any]] = field(default_factory=dict)
    log: list[tuple[Any, ...]] = field(default_factory=list)
    sent_bytes: dict[str, int] = field(default_factory=dict)  # by the last fetch
    total_sent: dict[str, int] = field(default_factory=dict)  # by every fetch
    events_status: int = 200

    # -- publishing -------------------------------------------------------------------------

    def add(self, data: bytes) -> str:
        self.blobs[sha(data)] = data
        return sha(data)

    def publish(self, signed: dict[str, Any], keys: list[SigningKey] | None = None) -> bytes:
        envelope = sign_envelope(signed, keys if keys is not None else [self.key])
        return self.serve(envelope, etag=f'"{signed["version"]}"')

    def serve(self, envelope: Any, etag: str | None = None) -> bytes:
        body = json.dumps(envelope, ensure_ascii=False).encode("utf-8")
        self.body, self.etag = body, etag
        return body

    def publish_assets(self, version: int, *datas: bytes, **kw: Any) -> dict[str, Any]:
        assets = {str(i): d for i, d in enumerate(datas)}
        for d in datas:
            self.add(d)
        signed = make_signed(device_id=self.device_id, version=version, assets=assets, **kw)
        self.publish(signed)
        return signed

    # -- the Fetcher Protocol ----------------------------------------------------------------

    def get_manifest(self, etag: str | None) -> ManifestResponse:
        if self.offline:
            self.log.append(("manifest", etag, None))
            raise DownloadError("fake: the server cannot be reached")
        if self.body is None:
            self.log.append(("manifest", etag, 404))
            raise DownloadError("fake: no manifest published", 404)
        if etag is not None and etag == self.etag:
            self.log.append(("manifest", etag, 304))
            return ManifestResponse(304, b"", self.etag, self.date)
        self.log.append(("manifest", etag, 200))
        return ManifestResponse(200, self.body, self.etag, self.date)

    def fetch_asset(self, sha256: str, offset: int = 0, if_range: str | None = None) -> AssetStream:
        self.log.append(("asset", sha256, offset))
        if self.offline:
            raise DownloadError("fake: the server cannot be reached")
        if sha256 not in self.blobs:
            raise DownloadError(f"fake: asset {sha256[:12]} not found", 404)
        data = self.blobs[sha256]
        start = offset if offset and if_range == f'"{sha256}"' and offset < len(data) else 0
        self.sent_bytes[sha256] = 0

        def chunks() -> Iterator[bytes]:
            for i in range(start, len(data), self.chunk):
                piece = data[i : i + self.chunk]
                self.sent_bytes[sha256] += len(piece)
                self.total_sent[sha256] = self.total_sent.get(sha256, 0) + len(piece)
                yield piece

        return AssetStream(206 if start else 200, start, len(data) - start, self.date, chunks())

    def post_events(self, batch: Sequence[Mapping[str, Any]]) -> EventsResponse:
        if self.offline:
            raise DownloadError("fake: the server cannot be reached")
        self.log.append(("events", len(batch)))
        if self.events_status >= 300:
            raise DownloadError("fake: refused", self.events_status)
        for event in batch:
            self.events[str(event["id"])] = dict(event)
        return EventsResponse(self.events_status, {"accepted": len(batch)})

    # -- inspecting --------------------------------------------------------------------------

    def asset_fetches(self) -> list[str]:
        return [entry[1] for entry in self.log if entry[0] == "asset"]

    def manifest_statuses(self) -> list[int | None]:
        return [entry[2] for entry in self.log if entry[0] == "manifest"]


def device_settings(data_dir: Path, server: FakeServer, **overrides: Any) -> DeviceSettings:
    values: dict[str, Any] = {
        "device_id": server.device_id,
        "token": "device-token",
        "server_url": "http://127.0.0.1:9",
        "trusted_keys": (server.key.public,),
        "mqtt_url": "mqtt://127.0.0.1:9",
        "mqtt_password": "device-secret",
        "data_dir": data_dir,
    }
    values.update(overrides)
    return DeviceSettings(**values)
