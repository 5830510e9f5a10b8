"""``HttpFetcher`` against a small real HTTP server speaking the device side of the contract."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

from device_runtime.errors import DownloadError
from device_runtime.fetcher import HttpFetcher
from tests.device.fake_signage_server import FakeServer, device_settings, sha
from tests.support.waiting import free_port

pytestmark = pytest.mark.live

ASSET = bytes(range(256)) * 40
DATE = "Fri, 01 Jan 2027 00:00:00 GMT"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    seen: ClassVar[list[dict[str, Any]]] = []

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send(self, status: int, body: bytes, **headers: str) -> None:
        self.send_response_only(status)
        self.send_header("Date", DATE)
        self.send_header("Content-Length", headers.pop("length", str(len(body))))
        for k, v in headers.items():
            self.send_header(k.replace("_", "-"), v)
        self.end_headers()
        self.wfile.write(body)

    def _problem(self, status: int, detail: str) -> None:
        body = json.dumps({"title": "Forbidden", "status": status, "detail": detail}).encode()
        self._send(status, body, Content_Type="application/problem+json")

    def do_GET(self) -> None:
        self.seen.append({"path": self.path, **dict(self.headers)})
        if self.headers.get("Authorization") != "Bearer device-token":
            return self._problem(401, "unknown device token")
        if self.path == "/api/v1/devices/adot-hall-1/manifest":
            if self.headers.get("If-None-Match") == '"7"':
                return self._send(304, b"", ETag='"7"')
            return self._send(200, b'{"signed": {}}', ETag='"7"')
        if self.path.startswith("/api/v1/devices/"):
            return self._problem(403, "this token belongs to another device")
        if self.path == f"/api/v1/assets/{sha(ASSET)}":
            rng = self.headers.get("Range")
            if rng and self.headers.get("If-Range") == f'"{sha(ASSET)}"':
                start = int(rng.removeprefix("bytes=").rstrip("-"))
                crange = f"bytes {start}-{len(ASSET) - 1}/{len(ASSET)}"
                return self._send(206, ASSET[start:], Content_Range=crange)
            return self._send(200, ASSET, ETag=f'"{sha(ASSET)}"')
        if self.path == "/api/v1/assets/cut":
            self._send(200, ASSET[:1000], length=str(len(ASSET)))
            self.close_connection = True
            return None
        return self._problem(404, "no such asset")

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        body = json.loads(self.rfile.read(length))
        self.seen.append({"path": self.path, "body": body, **dict(self.headers)})
        self._send(200, json.dumps({"accepted": len(body["events"])}).encode())


@pytest.fixture
def fetcher(tmp_path: Path) -> Iterator[HttpFetcher]:
    Handler.seen = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{httpd.server_address[1]}"
    f = HttpFetcher(device_settings(tmp_path, FakeServer(), server_url=url, request_timeout_s=5))
    try:
        yield f
    finally:
        f.session.close()
        httpd.shutdown()
        httpd.server_close()


def test_manifest_with_token_etag_and_server_date(fetcher: HttpFetcher) -> None:
    r = fetcher.get_manifest(None)
    assert (r.status, r.body, r.etag) == (200, b'{"signed": {}}', '"7"')
    assert r.server_date is not None and r.server_date.isoformat() == "2027-01-01T00:00:00+00:00"
    assert Handler.seen[0]["Authorization"] == "Bearer device-token"

    assert fetcher.get_manifest('"7"').status == 304


def test_an_error_answer_is_a_download_error_with_the_servers_words(
    fetcher: HttpFetcher, tmp_path: Path
) -> None:
    fetcher.settings = device_settings(
        tmp_path, FakeServer(device_id="hongvan-2"), server_url=fetcher.settings.server_url
    )
    with pytest.raises(DownloadError, match="another device") as e:
        fetcher.get_manifest(None)
    assert e.value.status == 403 and not e.value.offline


def test_asset_whole_and_resumed_with_range(fetcher: HttpFetcher) -> None:
    with fetcher.fetch_asset(sha(ASSET)) as whole:
        assert (whole.status, whole.offset) == (200, 0)
        assert b"".join(whole.chunks) == ASSET

    with fetcher.fetch_asset(sha(ASSET), 1000, f'"{sha(ASSET)}"') as rest:
        assert (rest.status, rest.offset, rest.length) == (206, 1000, len(ASSET) - 1000)
        assert b"".join(rest.chunks) == ASSET[1000:]
    assert Handler.seen[-1]["Range"] == "bytes=1000-"


def test_a_cut_transfer_is_a_download_error(fetcher: HttpFetcher) -> None:
    with pytest.raises(DownloadError, match="cut") as e, fetcher.fetch_asset("cut") as stream:
        b"".join(stream.chunks)
    assert e.value.offline


def test_missing_asset_is_a_download_error(fetcher: HttpFetcher) -> None:
    with pytest.raises(DownloadError) as e:
        fetcher.fetch_asset("0" * 64)
    assert e.value.status == 404


def test_events_are_posted_as_a_batch(fetcher: HttpFetcher) -> None:
    r = fetcher.post_events([{"id": "a", "kind": "play", "ts": "2026-11-26T05:00:00Z"}])
    assert r.status == 200 and r.body == {"accepted": 1}
    assert Handler.seen[-1]["path"] == "/api/v1/devices/adot-hall-1/events"
    assert Handler.seen[-1]["body"]["events"][0]["id"] == "a"


def test_an_unreachable_server_is_an_offline_download_error(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    f = HttpFetcher(device_settings(tmp_path, FakeServer(), server_url=url, request_timeout_s=2))
    with pytest.raises(DownloadError, match="cannot be reached") as e:
        f.get_manifest(None)
    assert e.value.offline
    f.session.close()


def test_bandwidth_limit_slows_the_download(fetcher: HttpFetcher, tmp_path: Path) -> None:
    fetcher.settings = device_settings(
        tmp_path,
        FakeServer(),
        server_url=fetcher.settings.server_url,
        bandwidth_limit_bps=8 * 20_000,  # 20 kB/s: the 10 kB asset takes about half a second
    )
    started = time.monotonic()
    with fetcher.fetch_asset(sha(ASSET)) as stream:
        assert b"".join(stream.chunks) == ASSET
    assert 0.35 < time.monotonic() - started < 3
