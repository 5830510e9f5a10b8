"""Uploads: streamed, judged by their bytes, decoded with OpenCV, stored once by sha256.

Every refused upload leaves the database and the asset folder as they were.
"""

from __future__ import annotations

import hashlib
import io
import shutil
import subprocess
import zipfile
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.server.api_kit import add_user, image_bytes, stored_state, upload, video_bytes
from tests.server.content_server_kit import Server


@pytest.fixture
def editor(server: Server) -> dict[str, str]:
    return add_user(server, "guard-adot", "editor", "adot")


def test_an_image_is_stored_once_under_its_hash_outside_any_served_folder(
    server: Server, editor: dict[str, str]
) -> None:
    data = image_bytes(".png", (64, 48))
    r = upload(server, editor, "adot", "map.png", data)
    assert r.status_code == 201, r.text
    body = r.json()
    sha = hashlib.sha256(data).hexdigest()
    assert body["sha256"] == sha and body["new"] is True
    assert (body["media_type"], body["width"], body["height"]) == ("image/png", 64, 48)
    assert (server.settings.assets_dir / sha).read_bytes() == data
    again = upload(server, editor, "adot", "copy-of-map.png", data)
    assert again.status_code == 201 and again.json()["new"] is False
    files = [p for p in server.settings.assets_dir.iterdir() if p.is_file()]
    assert len([p for p in files if p.name == sha]) == 1
    assert not list((server.settings.assets_dir / "tmp").iterdir())
    assert server.client.get(f"/api/v1/assets/{sha}/info", headers=editor).json()["width"] == 64


def test_a_jpeg_named_png_is_a_jpeg(server: Server, editor: dict[str, str]) -> None:
    r = upload(server, editor, "adot", "photo.png", image_bytes(".jpg"))
    assert r.status_code == 201 and r.json()["media_type"] == "image/jpeg"


def test_a_video_gets_duration_resolution_fps_and_a_thumbnail(
    server: Server, editor: dict[str, str], tmp_path: Path
) -> None:
    r = upload(server, editor, "adot", "queue.mp4", video_bytes(tmp_path, frames=12, fps=6.0))
    assert r.status_code == 201, r.text
    v = r.json()
    assert v["media_type"] == "video/mp4"
    assert (v["width"], v["height"], v["frames"]) == (96, 64, 12)
    assert v["fps"] == pytest.approx(6.0) and v["duration_s"] == pytest.approx(2.0)
    thumb = server.settings.assets_dir / v["thumbnail"]
    image = cv2.imdecode(np.frombuffer(thumb.read_bytes(), np.uint8), cv2.IMREAD_COLOR)
    assert image is not None and image.shape[:2] == (64, 96)
    listed = server.client.get("/api/v1/assets", headers=editor).json()
    assert {a["sha256"] for a in listed} == {v["sha256"], v["thumbnail"]}


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="needs Debian's ffmpeg")
@pytest.mark.live
def test_an_h264_clip_from_ffmpeg_is_accepted(
    server: Server, editor: dict[str, str], tmp_path: Path
) -> None:
    out = tmp_path / "h264.mp4"
    subprocess.run(
        ["ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc=size=128x72:rate=10",
         "-t", "1", "-c:v", "libx264", "-pix_fmt", "yuv420p", str(out)],
        check=True, timeout=60,
    )  # fmt: skip
    r = upload(server, editor, "adot", "h264.mp4", out.read_bytes())
    assert r.status_code == 201, r.text
    assert (r.json()["width"], r.json()["height"], r.json()["frames"]) == (128, 72, 10)


def _zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("a.png", image_bytes())
    return buf.getvalue()


def _raw_multipart(filename: bytes, data: bytes) -> tuple[bytes, str]:
    boundary = "XyZzY"
    body = (
        f"--{boundary}\r\n".encode()
        + b'Content-Disposition: form-data; name="file"; filename="' + filename + b'"\r\n'
        + b"Content-Type: application/octet-stream\r\n\r\n"
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )  # fmt: skip
    return body, f"multipart/form-data; boundary={boundary}"


BAD_UPLOADS = {
    "script named .png": ("logo.png", b"#!/bin/sh\nrm -rf /\n" * 10, 415, "judged by its content"),
    "zip": ("photos.zip", _zip(), 415, "not a PNG, JPEG, MP4 or WebM"),
    "png that does not decode": (
        "x.png",
        b"\x89PNG\r\n\x1a\n" + bytes(300),
        415,
        "does not decode",
    ),
    "jpeg that does not decode": (
        "x.jpg",
        b"\xff\xd8\xff\xe0" + bytes(300),
        415,
        "does not decode",
    ),
    "path in the name": ("../../etc/passwd.png", image_bytes(), 422, "not allowed"),
    "empty name": ("", image_bytes(), 422, "file"),
}


@pytest.mark.parametrize(("name", "data", "status", "words"), BAD_UPLOADS.values(), ids=BAD_UPLOADS)
def test_a_bad_upload_is_refused_and_nothing_is_stored(
    server: Server, editor: dict[str, str], name: str, data: bytes, status: int, words: str
) -> None:
    before = stored_state(server)
    r = upload(server, editor, "adot", name, data)
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert words in r.json()["detail"]
    assert stored_state(server) == before


def test_a_truncated_video_is_refused(
    server: Server, editor: dict[str, str], tmp_path: Path
) -> None:
    whole = video_bytes(tmp_path, frames=30)
    before = stored_state(server)
    r = upload(server, editor, "adot", "cut.mp4", whole[: len(whole) // 2])
    assert r.status_code == 415, r.text
    assert "truncated" in r.json()["detail"]
    assert stored_state(server) == before


@pytest.mark.parametrize(
    ("filename", "words"),
    [(b"a\x00.png", "not allowed"), (b"\xff\xfe.png", "not UTF-8"), (b"..\\x.png", "not allowed")],
)
def test_a_file_name_with_nul_or_bad_bytes_is_refused(
    server: Server, editor: dict[str, str], filename: bytes, words: str
) -> None:
    before = stored_state(server)
    body, ctype = _raw_multipart(filename, image_bytes())
    r = server.client.post(
        "/api/v1/assets", params={"site_id": "adot"}, content=body,
        headers={**editor, "Content-Type": ctype},
    )  # fmt: skip
    assert r.status_code == 422, r.text
    assert words in r.json()["detail"]
    assert stored_state(server) == before


def test_an_oversized_upload_is_413_and_nothing_is_stored(
    server: Server, editor: dict[str, str]
) -> None:
    server.state.settings = server.settings.model_copy(update={"max_upload_bytes": 1000})
    before = stored_state(server)
    r = upload(server, editor, "adot", "big.png", image_bytes(size=(200, 200)))
    assert r.status_code == 413
    assert r.headers["content-type"] == "application/problem+json"
    assert "limit of 1000 bytes" in r.json()["detail"]
    assert stored_state(server) == before


def test_an_upload_without_a_file_field_says_how(server: Server, editor: dict[str, str]) -> None:
    r = server.client.post(
        "/api/v1/assets", params={"site_id": "adot"}, data={"x": "1"}, files={"other": ("a", b"1")},
        headers=editor,
    )  # fmt: skip
    assert r.status_code == 422 and "field named 'file'" in r.json()["detail"]
