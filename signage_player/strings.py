"""The player's own words on screen (not content). No Kivy, so tests can check fonts cover them.

Vietnamese first, then Lao, then English, as everywhere at the gates. The
status corner is read by technicians and border guards: Vietnamese and English.
"""

from __future__ import annotations

from typing import Any

LOADING = (
    "Đang tải nội dung…",
    "ກຳລັງໂຫຼດເນື້ອຫາ…",
    "Loading content…",
)
STATUS_VERSION = "v{version}"
STATUS_NO_CONTENT = "chưa có nội dung · no content"
STATUS_OFFLINE = "ngoại tuyến · offline"
STATUS_EXPIRED = "hết hạn · expired"
STATUS_VIDEOS_SKIPPED = "{n} video bị bỏ qua · {n} video(s) skipped"
STATUS_SEPARATOR = "  ·  "

# The maintenance overlay, for technicians: Vietnamese · English, like the status corner.
MAINTENANCE_HEADING = "Bảo trì · Maintenance"
MAINTENANCE_DEVICE = "Thiết bị · Device: {device_id} ({app})"
MAINTENANCE_MANIFEST = "Nội dung · Manifest: {version}"
MAINTENANCE_CACHE = "Bộ nhớ đệm · Cache: {files} tệp · files, {size}, thiếu · missing {missing}"
MAINTENANCE_SYNC = "Đồng bộ · Sync: {state}, lần cuối · last ok {last_ok}"
MAINTENANCE_ERROR = "Lỗi · Error: {error}"
MAINTENANCE_ADDRESSES = "Địa chỉ · Addresses: {addresses}"
MAINTENANCE_SERVER = "Máy chủ · Server: {url}"
MAINTENANCE_HIDES = "Tự ẩn sau {seconds} giây · hides by itself in {seconds} s"
MAINTENANCE_NONE = "không có · none"

ALL = (
    *LOADING,
    STATUS_VERSION,
    STATUS_NO_CONTENT,
    STATUS_OFFLINE,
    STATUS_EXPIRED,
    STATUS_VIDEOS_SKIPPED,
    STATUS_SEPARATOR,
    MAINTENANCE_HEADING,
    MAINTENANCE_DEVICE,
    MAINTENANCE_MANIFEST,
    MAINTENANCE_CACHE,
    MAINTENANCE_SYNC,
    MAINTENANCE_ERROR,
    MAINTENANCE_ADDRESSES,
    MAINTENANCE_SERVER,
    MAINTENANCE_HIDES,
    MAINTENANCE_NONE,
)


def status_line(version: int | None, offline: bool, expired: bool, videos_skipped: int = 0) -> str:
    """The status corner: manifest version and the flags a technician acts on
    (``videos_skipped``: video files of this content that would not play)."""
    parts = [STATUS_VERSION.format(version=version) if version is not None else STATUS_NO_CONTENT]
    if offline:
        parts.append(STATUS_OFFLINE)
    if expired:
        parts.append(STATUS_EXPIRED)
    if videos_skipped:
        parts.append(STATUS_VIDEOS_SKIPPED.format(n=videos_skipped))
    return STATUS_SEPARATOR.join(parts)


def _size(n: int) -> str:
    value = float(n)
    for unit in ("B", "KB", "MB"):
        if value < 1024:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"


def maintenance_lines(info: dict[str, Any], hides_in_s: int) -> list[str]:
    """The overlay's lines from ``Runtime.maintenance_info()`` (missing keys: "none")."""
    none = MAINTENANCE_NONE
    app = info.get("app") or {}
    cache = info.get("cache") or {}
    sync = info.get("sync") or {}
    version = info.get("manifest_version")
    lines = [
        MAINTENANCE_HEADING,
        MAINTENANCE_DEVICE.format(
            device_id=info.get("device_id") or none,
            app=f"{app.get('name', '?')} {app.get('version', '?')}",
        ),
        MAINTENANCE_MANIFEST.format(version=f"v{version}" if version is not None else none),
        MAINTENANCE_CACHE.format(
            files=cache.get("files", 0),
            size=_size(int(cache.get("bytes", 0))),
            missing=cache.get("missing", 0),
        ),
        MAINTENANCE_SYNC.format(
            state=sync.get("state") or none, last_ok=sync.get("last_ok") or none
        ),
    ]
    if sync.get("last_error"):
        lines.append(MAINTENANCE_ERROR.format(error=sync["last_error"]))
    lines.append(
        MAINTENANCE_ADDRESSES.format(addresses=", ".join(info.get("addresses") or []) or none)
    )
    if info.get("server_url"):
        lines.append(MAINTENANCE_SERVER.format(url=info["server_url"]))
    lines.append(MAINTENANCE_HIDES.format(seconds=hides_in_s))
    return lines
