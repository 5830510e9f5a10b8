"""Talking HTTP to the content server: the ``Fetcher`` Protocol and ``HttpFetcher``.

The syncer and the record queue see only the Protocol, so tests hand them an
in-memory server. ``HttpFetcher`` speaks the device side of the contract
(``docs/architecture.md``, "The server ↔ device contract") with ``requests``
and the device's Bearer token, and turns every transport failure and every error answer into
``DownloadError`` (``status`` None when no answer came: the device is offline).
It reads the server's ``Date`` header, which is not signed: the syncer only
reports the device's clock skew from it (trusted time comes from signed data).

What the bytes mean (signatures, hashes, sizes) is decided by others.
"""

from __future__ import annotations

import email.utils
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Protocol

import requests

from .errors import DownloadError
from .settings import DeviceSettings

CHUNK_BYTES = 64 * 1024
# A manifest is a few hundred kB at most; more is a broken or hostile server.
MAX_MANIFEST_BYTES = 16 * 1024 * 1024
_CONTENT_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+|\*)$")


@dataclass(frozen=True)
class ManifestResponse:
    status: int  # 200 (a manifest in ``body``) or 304 (unchanged since ``etag`` sent)
    body: bytes
    etag: str | None
    server_date: datetime | None


@dataclass
class AssetStream:
    """An asset download in progress: ``chunks`` yields bytes from ``offset`` on."""

    status: int  # 200 (whole file) or 206 (from ``offset``)
    offset: int
    length: int | None  # bytes the server announced (Content-Length), if it did
    server_date: datetime | None
    chunks: Iterator[bytes]
    close: Callable[[], None] = field(default=lambda: None)

    def __enter__(self) -> AssetStream:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


@dataclass(frozen=True)
class EventsResponse:
    status: int
    body: Any


class Fetcher(Protocol):
    def get_manifest(self, etag: str | None) -> ManifestResponse:
        """GET this device's manifest, ``If-None-Match: etag``; raise ``DownloadError``."""
        ...

    def fetch_asset(self, sha256: str, offset: int = 0, if_range: str | None = None) -> AssetStream:
        """GET an asset from ``offset`` (``Range``, ``If-Range``); raise ``DownloadError``."""
        ...

    def post_events(self, batch: Sequence[Mapping[str, Any]]) -> EventsResponse:
        """POST records; return only on a 2xx answer, else raise ``DownloadError``."""
        ...


def parse_http_date(value: str | None) -> datetime | None:
    """An HTTP ``Date`` header as an aware UTC datetime, or None if absent or unreadable."""
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _problem(response: requests.Response) -> str:
    """The human message of an error answer (RFC 9457 problem+json when the server sent one)."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        text = body.get("detail") or body.get("title")
        if isinstance(text, str) and text:
            return text
    return response.reason or "error"


class _Throttle:
    """Keeps a download under ``bits_per_second`` by sleeping between chunks."""

    def __init__(self, bits_per_second: int | None) -> None:
        self.rate = bits_per_second / 8 if bits_per_second else None
        self.started = time.monotonic()
        self.sent = 0

    @property
    def chunk_bytes(self) -> int:
        if self.rate is None:
            return CHUNK_BYTES
        return int(min(CHUNK_BYTES, max(1024, self.rate / 4)))

    def account(self, n: int) -> None:
        if self.rate is None:
            return
        self.sent += n
        ahead = self.sent / self.rate - (time.monotonic() - self.started)
        if ahead > 0:
            time.sleep(ahead)


class HttpFetcher:
    """The ``Fetcher`` for a real content server."""

    def __init__(self, settings: DeviceSettings, session: requests.Session | None = None) -> None:
        self.settings = settings
        self.session = session or requests.Session()
        self.session.headers["Authorization"] = f"Bearer {settings.token}"
        self.session.headers["User-Agent"] = f"border-signage-device/{settings.device_id}"
        self.timeout = settings.request_timeout_s

    def _url(self, path: str) -> str:
        return f"{self.settings.server_url}/api/v1/{path}"

    def _request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        url = self._url(path)
        try:
            return self.session.request(method, url, timeout=self.timeout, **kwargs)
        except requests.RequestException as e:
            raise DownloadError(f"{method} {url}: the server cannot be reached: {e}") from e

    def get_manifest(self, etag: str | None) -> ManifestResponse:
        headers = {"If-None-Match": etag} if etag else {}
        path = f"devices/{self.settings.device_id}/manifest"
        r = self._request("GET", path, headers=headers, stream=True)
        with r:
            date = parse_http_date(r.headers.get("Date"))
            if r.status_code == 304:
                return ManifestResponse(304, b"", r.headers.get("ETag", etag), date)
            if r.status_code != 200:
                raise DownloadError(
                    f"manifest: the server answered {r.status_code}: {_problem(r)}", r.status_code
                )
            body = bytearray()
            try:
                for chunk in r.iter_content(chunk_size=CHUNK_BYTES):
                    body += chunk
                    if len(body) > MAX_MANIFEST_BYTES:
                        raise DownloadError(
                            f"manifest: over {MAX_MANIFEST_BYTES} bytes; refused", r.status_code
                        )
            except (requests.RequestException, OSError) as e:
                raise DownloadError(f"manifest: the transfer was cut: {e}") from e
            return ManifestResponse(200, bytes(body), r.headers.get("ETag"), date)

    def fetch_asset(self, sha256: str, offset: int = 0, if_range: str | None = None) -> AssetStream:
        headers = {"Accept-Encoding": "identity"}
        if offset > 0:
            headers["Range"] = f"bytes={offset}-"
            if if_range:
                headers["If-Range"] = if_range
        r = self._request("GET", f"assets/{sha256}", headers=headers, stream=True)
        date = parse_http_date(r.headers.get("Date"))
        if r.status_code == 200:
            start = 0
        elif r.status_code == 206:
            m = _CONTENT_RANGE.match(r.headers.get("Content-Range", ""))
            if not m or int(m.group(1)) != offset:
                r.close()
                raise DownloadError(f"asset {sha256[:12]}: the server sent the wrong range", 206)
            start = offset
        else:
            message = _problem(r)
            r.close()
            raise DownloadError(
                f"asset {sha256[:12]}: the server answered {r.status_code}: {message}",
                r.status_code,
            )
        length_header = r.headers.get("Content-Length")
        length = int(length_header) if length_header and length_header.isdigit() else None
        throttle = _Throttle(self.settings.bandwidth_limit_bps)

        def chunks() -> Iterator[bytes]:
            try:
                for chunk in r.iter_content(chunk_size=throttle.chunk_bytes):
                    throttle.account(len(chunk))
                    yield chunk
            except (requests.RequestException, OSError) as e:
                raise DownloadError(f"asset {sha256[:12]}: the transfer was cut: {e}") from e

        return AssetStream(r.status_code, start, length, date, chunks(), r.close)

    def post_events(self, batch: Sequence[Mapping[str, Any]]) -> EventsResponse:
        path = f"devices/{self.settings.device_id}/events"
        r = self._request("POST", path, json={"events": list(batch)})
        if not 200 <= r.status_code < 300:
            raise DownloadError(
                f"events: the server answered {r.status_code}: {_problem(r)}", r.status_code
            )
        try:
            body: Any = r.json() if r.content else None
        except ValueError:  # requests' JSONDecodeError included
            body = None
        return EventsResponse(r.status_code, body)
