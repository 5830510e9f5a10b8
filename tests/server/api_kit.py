"""Helpers for the admin API tests: users, sign-in, real media made on the fly.

Media is made in the test (OpenCV's ``VideoWriter`` with mp4v, ``imencode``
for PNG/JPEG); nothing binary is committed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np

from content_server.accounts import hash_password
from content_server.models import User
from signage_core.timefmt import format_time
from tests.server.content_server_kit import Server

PASSWORD = "a long password 1"
_HASH: dict[str, str] = {}


def add_user(server: Server, username: str, role: str, site: str | None) -> dict[str, str]:
    """Create a user directly in the store and sign in through the API; the auth header."""
    stored = _HASH.setdefault(PASSWORD, hash_password(PASSWORD))
    server.state.store.add_user(User(username, stored, role, site), format_time(server.clock[0]))
    return sign_in(server, username)


def sign_in(server: Server, username: str, password: str = PASSWORD) -> dict[str, str]:
    r = server.client.post("/api/v1/auth/token", data={"username": username, "password": password})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def image_bytes(ext: str = ".png", size: tuple[int, int] = (64, 48), seed: int = 0) -> bytes:
    rng = np.random.default_rng(seed)
    frame = rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)
    ok, data = cv2.imencode(ext, frame)
    assert ok
    return data.tobytes()


def video_bytes(
    tmp: Path, frames: int = 12, fps: float = 6.0, size: tuple[int, int] = (96, 64)
) -> bytes:
    path = tmp / f"clip-{frames}-{size[0]}.mp4"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), fps, size)
    assert writer.isOpened()
    for i in range(frames):
        frame = np.full((size[1], size[0], 3), (i * 20) % 255, dtype=np.uint8)
        cv2.putText(frame, str(i), (10, 40), cv2.FONT_HERSHEY_SIMPLEX, 1, (255, 255, 255), 2)
        writer.write(frame)
    writer.release()
    return path.read_bytes()


def upload(server: Server, auth: dict[str, str], site: str, name: str, data: bytes) -> Any:
    return server.client.post(
        "/api/v1/assets", params={"site_id": site}, files={"file": (name, data)}, headers=auth
    )


def text_item(item_id: str, **langs: tuple[str, str]) -> dict[str, Any]:
    return {
        "id": item_id,
        "kind": "text",
        "duration_s": 10,
        "variants": {code: {"title": t, "body": b} for code, (t, b) in langs.items()},
    }


def playlist_body(site: str, items: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {"site_id": site, "name": {"vi": "Thử", "lo": "ທົດລອງ"}, "items": items, **extra}


def stored_state(server: Server) -> tuple[str, list[str]]:
    """The database (without the audit log, which records refusals) and the asset files."""
    dump = "\n".join(
        line
        for line in server.state.store.dump().splitlines()
        if 'INTO "audit"' not in line and "sqlite_sequence" not in line
    )
    root = server.settings.assets_dir
    files = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
    return dump, files
