"""The signed manifest a device plays from: its shape, and reading it.

``signed`` holds ``schema``, ``device_id``, ``site_id``, ``version``, ``issued_at``,
``expires_at``, ``timezone``, ``languages``, ``playlists``, ``pages``, ``alerts``
and ``assets`` ({sha256: {size, media_type}}), and may hold a ``layout`` (zones,
header, ticker notices: ``layout.py``). A playlist is::

    {"id": "adot-welcome", "name": {"vi": ..., "lo": ...}, "priority": 10,
     "fallback": false, "schedule": {...} or null,
     "bilingual": "sequential" | "side_by_side" (absent: sequential),
     "items": [{"id": "welcome", "kind": "text", "duration_s": 12,
                "variants": {"vi": {"title": ..., "body": ...}, "lo": {...}}},
               {"id": "map", "kind": "image", "duration_s": 8,
                "variants": {"vi": {"asset": "<sha256>", "caption": ...}, ...}}]}

A kiosk page (``pages``) is ``{"id", "site_id", "parent_id", "kind", "position",
"variants": {lang: {"title", "body", "image"?: sha256, "link"?: https URL}}}``;
``link_problem`` is the one rule for a link, applied by the server at import and in
the API, and by the kiosk before it draws a QR code.

Building one is the server's job; trusting one is ``trust.py``'s.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .errors import ManifestError, ScheduleError
from .layout import Layout, bilingual_mode, parse_layout
from .schedule import Schedule
from .timefmt import parse_time

MAX_LINK_LENGTH = 300  # a QR code a phone reads from a metre away


def link_problem(url: object) -> str | None:
    """Why ``url`` cannot be a kiosk page's link (shown as a QR code), or None when it can:
    an https:// address with a host, no spaces or control characters, not too long."""
    example = "like https://evisa.gov.vn"
    if not isinstance(url, str) or not url:
        return f"link must be an https:// address, {example}"
    if len(url) > MAX_LINK_LENGTH:
        return f"link is {len(url)} characters long; at most {MAX_LINK_LENGTH} fit a QR code"
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        return f"link {url!r} holds spaces or control characters"
    scheme, sep, rest = url.partition("://")
    host = rest.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    if scheme != "https" or not sep:
        return f"link {url!r} must start with https:// (phones open it from the QR code)"
    if not host or "@" in host or host.startswith(".") or ".." in host:
        return f"link {url!r} has no valid site name after https://, {example}"
    return None


SCHEMA = "border-signage/manifest@1"
ITEM_KINDS = ("text", "image", "video")
SHA256_RE = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class Manifest:
    """A read, shape-checked view of ``signed``; ``signed`` itself is kept as received."""

    signed: dict[str, Any]
    device_id: str
    site_id: str
    version: int
    issued_at: datetime
    expires_at: datetime
    timezone: str
    languages: tuple[str, ...]
    assets: dict[str, dict[str, Any]]

    @property
    def playlists(self) -> list[dict[str, Any]]:
        return list(self.signed.get("playlists", []))

    @property
    def pages(self) -> list[dict[str, Any]]:
        return list(self.signed.get("pages", []))

    @property
    def layout(self) -> Layout | None:
        """The screen layout, or None: a full-screen card as before layouts existed."""
        value = self.signed.get("layout")
        return None if value is None else parse_layout(value)

    def is_expired(self, reference_time: datetime) -> bool:
        return reference_time >= self.expires_at

    def asset_hashes(self) -> set[str]:
        return set(self.assets)


def _need(d: dict[str, Any], key: str, kind: type | tuple[type, ...], where: str) -> Any:
    if key not in d:
        raise ManifestError(f"{where}: '{key}' is missing")
    value = d[key]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ManifestError(f"{where}: '{key}' has the wrong type")
    return value


def _check_item(item: Any, where: str, assets: dict[str, Any]) -> None:
    if not isinstance(item, dict):
        raise ManifestError(f"{where}: an item must be an object")
    _need(item, "id", str, where)
    kind = _need(item, "kind", str, where)
    if kind not in ITEM_KINDS:
        raise ManifestError(f"{where}: unknown item kind {kind!r}")
    duration = _need(item, "duration_s", int, where)
    if duration <= 0:
        raise ManifestError(f"{where}: duration_s must be positive")
    variants = _need(item, "variants", dict, where)
    if not variants:
        raise ManifestError(f"{where}: an item needs at least one language variant")
    for lang, v in variants.items():
        if not isinstance(v, dict):
            raise ManifestError(f"{where}.{lang}: a variant must be an object")
        if kind != "text":
            sha = _need(v, "asset", str, f"{where}.{lang}")
            if sha not in assets:
                raise ManifestError(f"{where}.{lang}: asset {sha[:12]} is not listed in 'assets'")


def parse_manifest(signed: Any) -> Manifest:
    """Check the shape of ``signed`` and return a ``Manifest``; raise ``ManifestError``."""
    if not isinstance(signed, dict):
        raise ManifestError("manifest: 'signed' must be an object")
    schema = _need(signed, "schema", str, "manifest")
    if schema != SCHEMA:
        raise ManifestError(f"manifest: schema {schema!r} is not {SCHEMA!r}")
    assets = _need(signed, "assets", dict, "manifest")
    for sha, meta in assets.items():
        if not SHA256_RE.match(sha) or not isinstance(meta, dict):
            raise ManifestError(f"manifest: asset key {sha!r} is not a sha256")
        size = _need(meta, "size", int, f"asset {sha[:12]}")
        if size < 0:
            raise ManifestError(f"asset {sha[:12]}: negative size")
        _need(meta, "media_type", str, f"asset {sha[:12]}")
    version = _need(signed, "version", int, "manifest")
    if version < 1:
        raise ManifestError("manifest: version must be 1 or more")
    languages = _need(signed, "languages", list, "manifest")
    for p_index, playlist in enumerate(_need(signed, "playlists", list, "manifest")):
        where = f"playlist #{p_index}"
        if not isinstance(playlist, dict):
            raise ManifestError(f"{where}: must be an object")
        pid = _need(playlist, "id", str, where)
        where = f"playlist {pid}"
        _need(playlist, "priority", int, where)
        bilingual_mode(playlist)
        if playlist.get("schedule") is not None:
            try:
                Schedule.from_dict(playlist["schedule"])
            except ScheduleError as e:
                raise ManifestError(f"{where}: schedule: {e}") from e
        for i_index, item in enumerate(_need(playlist, "items", list, where)):
            _check_item(item, f"{where} item #{i_index}", assets)
    if signed.get("layout") is not None:
        parse_layout(signed["layout"])
    return Manifest(
        signed=signed,
        device_id=_need(signed, "device_id", str, "manifest"),
        site_id=_need(signed, "site_id", str, "manifest"),
        version=version,
        issued_at=parse_time(signed.get("issued_at"), "issued_at"),
        expires_at=parse_time(signed.get("expires_at"), "expires_at"),
        timezone=_need(signed, "timezone", str, "manifest"),
        languages=tuple(str(x) for x in languages),
        assets=assets,
    )
