"""The player's own words on screen (not content). No Kivy, so tests can check fonts cover them.

Vietnamese first, then Lao, then English, as everywhere at the gates. The
status corner is read by technicians and border guards: Vietnamese and English.
"""

from __future__ import annotations

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

ALL = (
    *LOADING,
    STATUS_VERSION,
    STATUS_NO_CONTENT,
    STATUS_OFFLINE,
    STATUS_EXPIRED,
    STATUS_VIDEOS_SKIPPED,
    STATUS_SEPARATOR,
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
