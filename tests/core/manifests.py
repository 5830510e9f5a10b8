"""Small signed manifests for core tests."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from signage_core.manifest import SCHEMA
from signage_core.signing import SigningKey, sign_envelope
from signage_core.timefmt import format_time

KEY = SigningKey.from_bytes(bytes(range(32)))


def signed_manifest(
    *,
    device_id: str = "adot-hall-1",
    version: int = 3,
    issued_at: datetime,
    ttl: timedelta = timedelta(days=30),
    playlists: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "device_id": device_id,
        "site_id": "adot-hall",
        "version": version,
        "issued_at": format_time(issued_at),
        "expires_at": format_time(issued_at + ttl),
        "timezone": "Asia/Ho_Chi_Minh",
        "languages": ["vi", "lo", "en"],
        "playlists": playlists
        if playlists is not None
        else [
            {
                "id": "adot-welcome",
                "priority": 0,
                "fallback": True,
                "schedule": None,
                "items": [
                    {
                        "id": "welcome",
                        "kind": "text",
                        "duration_s": 10,
                        "variants": {
                            "vi": {"title": "Chào mừng", "body": "Cửa khẩu A Đớt"},
                            "lo": {"title": "ຍິນດີຕ້ອນຮັບ", "body": "ດ່ານ ອາເດີດ"},
                        },
                    }
                ],
            }
        ],
        "pages": [],
        "alerts": [],
        "assets": {},
    }


def envelope(key: SigningKey = KEY, **kw: Any) -> dict[str, Any]:
    return sign_envelope(signed_manifest(**kw), [key])
