"""Media decoding cannot exhaust or take over the server.

A file is refused by the size its header declares before any decoder sees it,
and decoding runs in a child process with memory, CPU and time limits, an
empty environment, no inherited descriptors and (with Landlock) no access to
the data folder. Every refusal is a clear 4xx and leaves nothing stored.
"""

from __future__ import annotations

import io
import shutil
import struct
import subprocess
import time
import zlib
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import cv2
import numpy as np
import pytest
import requests

from content_server import importer, media
from content_server.errors import ImportFailedError, MediaLimitError, UnsupportedMediaError
from content_server.media_header import declared_size
from content_server.settings import Settings
from content_server.store import Store
from tests.server.api_kit import add_user, image_bytes, stored_state, upload, video_bytes
from tests.server.content_server_kit import Server, data_folder
from tests.support.stack import Stack

needs_ffmpeg = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="needs Debian's ffmpeg")


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


@cache
def declared_png(width: int, height: int, depth: int = 8, color: int = 2) -> bytes:
    """A valid PNG of black pixels: tiny on disk, ``width×height`` once decoded."""
    channels = {0: 1, 2: 3, 6: 4}[color]
    row = b"\x00" + bytes(width * channels * depth // 8)
    z = zlib.compressobj(6)
    idat = b"".join(z.compress(row * 64) for _ in range(height // 64))
    idat += z.compress(row * (height % 64)) + z.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, depth, color, 0, 0, 0)
    sig = b"\x89PNG\r\n\x1a\n"
    return sig + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


def jpeg_declaring(width: int, height: int) -> bytes:
    """A real JPEG whose frame header (SOF0) is rewritten to declare ``width×height``."""
    data = bytearray(image_bytes(".jpg", (16, 8)))
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def mp4_declaring(tmp: Path, width: int, height: int) -> bytes:
    """A real mp4v clip whose sample description is rewritten to declare ``width×height``."""
    data = bytearray(video_bytes(tmp, frames=4, size=(32, 16)))
    entry = data.index(b"mp4v")
    data[entry + 28 : entry + 32] = struct.pack(">HH", width, height)
    return bytes(data)


def ffmpeg_clip(out: Path, codec: str, size: str = "128x72") -> bytes:
    subprocess.run(
        ["ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i", f"testsrc=size={size}:rate=10",
         "-t", "1", "-c:v", codec, "-pix_fmt", "yuv420p", str(out)],
        check=True, timeout=60,
    )  # fmt: skip
    return out.read_bytes()


# --- the header, read without decoding ------------------------------------------------


def test_the_declared_size_of_real_files_is_read_from_their_headers(tmp_path: Path) -> None:
    frame = np.zeros((48, 64, 3), np.uint8)
    progressive = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_PROGRESSIVE, 1])[1].tobytes()
    # A JPEG with a large metadata segment (like EXIF) before its frame header.
    exif = b"\xff\xe1" + struct.pack(">H", 60002) + b"Exif\x00\x00" + bytes(59994)
    with_exif = progressive[:2] + exif + b"\x00\x00" + progressive[2:]  # stray bytes too
    cases = [
        ("image/png", image_bytes(".png", (64, 48))),
        ("image/jpeg", image_bytes(".jpg", (64, 48))),
        ("image/jpeg", progressive),
        ("image/jpeg", with_exif),
    ]
    for media_type, data in cases:
        assert declared_size(io.BytesIO(data), media_type) == (64, 48)
    mp4 = video_bytes(tmp_path, frames=4, size=(96, 64))
    assert declared_size(io.BytesIO(mp4), "video/mp4") == (96, 64)
    assert declared_size(io.BytesIO(declared_png(12000, 12000)), "image/png") == (12000, 12000)
    assert declared_size(io.BytesIO(jpeg_declaring(60000, 50000)), "image/jpeg") == (60000, 50000)
    # Damaged headers say nothing: the caller refuses them.
    assert declared_size(io.BytesIO(b"\x89PNG\r\n\x1a\n" + bytes(300)), "image/png") is None
    assert declared_size(io.BytesIO(b"\xff\xd8\xff\xe0" + bytes(300)), "image/jpeg") is None
    assert declared_size(io.BytesIO(mp4[:40]), "video/mp4") is None


@needs_ffmpeg
@pytest.mark.live
def test_the_declared_size_of_h264_and_webm_from_ffmpeg(tmp_path: Path) -> None:
    h264 = ffmpeg_clip(tmp_path / "a.mp4", "libx264", "160x90")
    assert declared_size(io.BytesIO(h264), "video/mp4") == (160, 90)
    webm = ffmpeg_clip(tmp_path / "a.webm", "libvpx", "160x90")
    assert declared_size(io.BytesIO(webm), "video/webm") == (160, 90)


# --- uploads through the API ----------------------------------------------------------


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Tight decoding limits, so a crafted file can exceed them quickly."""
    return data_folder(
        tmp_path, media_decode_memory_mb=700, media_decode_cpu_s=20, media_decode_timeout_s=60
    )


@pytest.fixture
def editor(server: Server) -> dict[str, str]:
    return add_user(server, "guard-adot", "editor", "adot")


OVERSIZED = {
    "png 12000x12000": ("poster.png", lambda tmp: declared_png(12000, 12000), "12000×12000"),
    "jpeg 60000x50000": ("photo.jpg", lambda tmp: jpeg_declaring(60000, 50000), "60000×50000"),
    "mp4 8000x8000": ("clip.mp4", lambda tmp: mp4_declaring(tmp, 8000, 8000), "8000×8000"),
}


@pytest.mark.parametrize(("name", "make", "size"), OVERSIZED.values(), ids=OVERSIZED)
def test_a_file_declaring_too_many_pixels_is_413_before_decoding(
    server: Server, editor: dict[str, str], tmp_path: Path, name: str, make: object, size: str
) -> None:
    before = stored_state(server)
    data = make(tmp_path)  # type: ignore[operator]
    started = time.monotonic()
    r = upload(server, editor, "adot", name, data)
    assert r.status_code == 413, r.text
    assert r.headers["content-type"] == "application/problem+json"
    detail = r.json()["detail"]
    assert size in detail and ("8192×8192" in detail or "4096×4096" in detail), detail
    assert time.monotonic() - started < 10  # no decoder was started for it
    assert stored_state(server) == before


@pytest.mark.live
def test_a_png_that_needs_more_memory_than_allowed_is_422_and_the_server_stays_up(
    server: Server, editor: dict[str, str]
) -> None:
    # 8000×8000 RGBA at 16 bits: allowed by its header, 512 MB once decoded (limit 700 MB,
    # of which OpenCV itself takes ~450 MB): the child hits RLIMIT_AS, not the server.
    before = stored_state(server)
    r = upload(server, editor, "adot", "poster.png", declared_png(8000, 8000, 16, 6))
    assert r.status_code == 422, r.text
    assert "700 MB" in r.json()["detail"] and "poster.png" in r.json()["detail"]
    assert stored_state(server) == before
    ok = upload(server, editor, "adot", "map.png", image_bytes(".png", (64, 48)))
    assert ok.status_code == 201, ok.text


@pytest.mark.live
def test_normal_images_and_videos_keep_their_facts(
    server: Server, editor: dict[str, str], tmp_path: Path
) -> None:
    jpeg = upload(server, editor, "adot", "photo.jpg", image_bytes(".jpg", (80, 60)))
    assert jpeg.status_code == 201, jpeg.text
    assert (jpeg.json()["media_type"], jpeg.json()["width"], jpeg.json()["height"]) == (
        "image/jpeg", 80, 60,
    )  # fmt: skip
    clip = upload(server, editor, "adot", "q.mp4", video_bytes(tmp_path, frames=12, fps=6.0))
    assert clip.status_code == 201, clip.text
    v = clip.json()
    assert (v["width"], v["height"], v["frames"], v["duration_s"]) == (96, 64, 12, 2.0)
    assert v["thumbnail"] is not None


# --- the child: limits, and what it can reach ----------------------------------------


@pytest.fixture
def small_png(tmp_path: Path) -> Path:
    path = tmp_path / "a.png"
    path.write_bytes(image_bytes(".png", (64, 48)))
    return path


@pytest.mark.live
@pytest.mark.parametrize(
    ("hook", "limits", "words"),
    [
        ("hang", media.DecodeLimits(1024, 30, 4.0), "more than 4 s"),
        ("spin", media.DecodeLimits(1024, 2, 60.0), "more than 2 s of processor time"),
        ("allocate", media.DecodeLimits(800, 30, 60.0), "more than 800 MB of memory"),
    ],
)
def test_a_decoder_that_hangs_spins_or_allocates_is_ended_and_answered(
    small_png: Path, hook: str, limits: media.DecodeLimits, words: str
) -> None:
    started = time.monotonic()
    with pytest.raises(MediaLimitError) as e:
        media.inspect(small_png, small_png.read_bytes()[:64], "a.png", limits, test_hook=hook)
    assert words in str(e.value) and e.value.status == 422
    assert time.monotonic() - started < 50


@pytest.mark.live
def test_a_decoder_that_crashes_ends_the_child_and_the_upload_is_415(small_png: Path) -> None:
    with pytest.raises(UnsupportedMediaError) as e:
        media.inspect(small_png, small_png.read_bytes()[:64], "a.png", test_hook="crash")
    assert e.value.status == 415 and "the decoder stopped on it" in str(e.value)
    # The next file is checked by a fresh child as usual.
    assert media.inspect(small_png, small_png.read_bytes()[:64], "a.png").width == 64


@pytest.mark.live
def test_the_decoder_sees_no_environment_no_descriptors_and_not_the_keys(
    small_png: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONTENT_SERVER_MQTT_PASSWORD", "do-not-leak")
    key = settings.signing_key_path
    with key.open("rb"):  # a descriptor the server holds open while it decodes
        answer = media.decode_in_child(
            small_png, "image/png", "a.png", media.DecodeLimits(),
            test_hook="report", probe=(str(key), str(small_png)),
        )  # fmt: skip
    assert answer["ok"] is True and answer["facts"]["width"] == 64
    report = answer["report"]
    assert "do-not-leak" not in str(report["environ"])
    assert not [k for k in report["environ"] if k.startswith("CONTENT_SERVER")]
    assert report["fds"] == [0, 1, 2]
    if answer["sandbox"] != "landlock":
        pytest.skip("this kernel has no Landlock: the child could read the data folder")
    assert report["read"] == {str(key): "PermissionError", str(small_png): "read"}


# --- the importer's media checks -----------------------------------------------------


def test_the_importer_refuses_a_file_declaring_too_many_pixels_by_its_line(
    settings: Settings, content_dir: Path
) -> None:
    (content_dir / "adot" / "images" / "huge.png").write_bytes(declared_png(12000, 12000))
    yaml = content_dir / "adot" / "huge.yaml"
    yaml.write_text(
        "playlist:\n  id: huge\n  site: adot\n  name: {vi: Lớn}\n  items:\n"
        "    - {id: p, kind: image, duration_s: 5, file: images/huge.png}\n",
        encoding="utf-8",
    )
    store = Store.open(settings.db_path)
    try:
        with pytest.raises(ImportFailedError) as e:
            importer.check_folder(content_dir, store, settings.max_upload_bytes)
    finally:
        store.close()
    shown = "\n".join(e.value.problems)
    assert "huge.yaml:6" in shown and "12000×12000" in shown and "8192×8192" in shown, shown


# --- a real server over HTTP ----------------------------------------------------------


def _peak_rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    s = Stack.running(tmp_path_factory.mktemp("media-stack"), {})
    yield s
    s.stop()


@needs_ffmpeg
def test_a_running_server_refuses_the_12000px_png_without_growing_and_still_takes_media(
    stack: Stack, tmp_path: Path
) -> None:
    r = requests.post(
        f"{stack.server_url}/api/v1/auth/token",
        data={"username": "admin", "password": stack.admin_password},
        timeout=10,
    )
    assert r.status_code == 200, r.text
    auth = {"Authorization": f"Bearer {r.json()['access_token']}"}

    def post(name: str, data: bytes) -> requests.Response:
        return requests.post(
            f"{stack.server_url}/api/v1/assets", params={"site_id": "adot"},
            files={"file": (name, data)}, headers=auth, timeout=120,
        )  # fmt: skip

    pid = stack.processes["server"].pid
    warm = post("warm.png", image_bytes(".png", (32, 32)))  # the route's first use costs too
    assert warm.status_code == 201, warm.text
    before = _peak_rss_kb(pid)
    huge = declared_png(12000, 12000)
    assert len(huge) < 500_000  # a small file that would be 432 MB once decoded
    refused = post("poster.png", huge)
    grown_mb = (_peak_rss_kb(pid) - before) / 1024
    assert grown_mb < 50, f"the server's peak memory grew by {grown_mb:.0f} MB"
    assert refused.status_code == 413, refused.text
    assert "8192×8192" in refused.json()["detail"]

    # Within the header limit but 512 MB once decoded (8000×8000 RGBA, 16 bits): accepted,
    # decoded by the child; the server itself does not grow.
    deep = post("deep.png", declared_png(8000, 8000, 16, 6))
    grown_mb = (_peak_rss_kb(pid) - before) / 1024
    assert deep.status_code == 201, deep.text
    assert (deep.json()["width"], deep.json()["height"]) == (8000, 8000)
    assert grown_mb < 50, f"the server's peak memory grew by {grown_mb:.0f} MB decoding a PNG"

    png = post("map.png", image_bytes(".png", (64, 48)))
    assert png.status_code == 201 and (png.json()["width"], png.json()["height"]) == (64, 48)
    mp4v = post("queue.mp4", video_bytes(tmp_path, frames=12, fps=6.0))
    assert mp4v.status_code == 201, mp4v.text
    assert (mp4v.json()["frames"], mp4v.json()["duration_s"]) == (12, 2.0)
    h264 = post("h264.mp4", ffmpeg_clip(tmp_path / "h264.mp4", "libx264"))
    assert h264.status_code == 201, h264.text
    h = h264.json()
    assert (h["width"], h["height"], h["frames"], h["duration_s"]) == (128, 72, 10, 1.0)
    assert stack.processes["server"].poll() is None
