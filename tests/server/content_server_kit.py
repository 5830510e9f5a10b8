"""Shared pieces of the content server tests: fixture content, set-up helpers, the app.

Imported by ``conftest.py`` and by the tests (for ``NOW`` and the ``Server`` type).
"""

from __future__ import annotations

import json
import struct
import tempfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import cv2
import numpy as np
from fastapi import FastAPI
from fastapi.testclient import TestClient

from content_server import importer
from content_server.app import create_app
from content_server.assets import AssetStore
from content_server.datadir import initialise
from content_server.enrollment import Credentials, enrol
from content_server.keys import load_signing_keys
from content_server.publishing import publish
from content_server.settings import Settings
from content_server.state import ServerState
from content_server.store import Store

# Relative to the real clock: the CLI subprocesses some tests start read the real clock,
# and a manifest signed there must agree with the in-process server's idea of now.
NOW = datetime.now(UTC).replace(second=0, microsecond=0)
ADMIN_PASSWORD = "correct horse battery"


def png(width: int = 2, height: int = 2, rgb: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    rows = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def mp4_clip(frames: int = 6, fps: float = 6.0, size: tuple[int, int] = (48, 32)) -> bytes:
    """A tiny real MP4 (OpenCV's mp4v): the importer decodes media, as uploads do."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "clip.mp4"
        writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), fps, size)
        assert writer.isOpened(), "OpenCV cannot write mp4v here"
        for i in range(frames):
            writer.write(np.full((size[1], size[0], 3), (i * 40) % 255, dtype=np.uint8))
        writer.release()
        return path.read_bytes()


def jpeg(size: tuple[int, int] = (8, 6)) -> bytes:
    ok, data = cv2.imencode(".jpg", np.full((size[1], size[0], 3), (30, 120, 200), np.uint8))
    assert ok
    return data.tobytes()


# Real media, made once per test process (nothing binary is committed).
MP4 = mp4_clip()
JPEG = jpeg()

SITES = """\
sites:
  - id: hue
    parent: null
    name: {vi: "Thành phố Huế", lo: "ນະຄອນເຫວ້", en: "Huế City"}
    languages: [vi, lo, en]
    required_languages: [vi, lo]
  - id: adot
    parent: hue
    name: {vi: "Cửa khẩu A Đớt", lo: "ດ່ານ ອາເດີດ"}
  - id: adot-hall
    parent: adot
    name: {vi: "A Đớt – Sảnh", lo: "ອາເດີດ – ຫ້ອງໂຖງ"}
  - id: hongvan
    parent: hue
    name: {vi: "Cửa khẩu Hồng Vân", lo: "ດ່ານ ຮົ່ງວັນ"}
    languages: [vi, lo]
"""

FALLBACK = """\
playlist:
  id: hue-fallback
  site: hue
  name: {vi: "Mặc định", lo: "ຄ່າເລີ່ມຕົ້ນ"}
  fallback: true
  items:
    - id: hello
      kind: text
      duration_s: 10
      text:
        vi: {title: "Xin chào", body: "Chào mừng đến Huế"}
        lo: {title: "ສະບາຍດີ", body: "ຍິນດີຕ້ອນຮັບສູ່ເຫວ້"}
"""

WELCOME = """\
playlist:
  id: adot-welcome
  site: adot
  name: {vi: "Chào mừng", lo: "ຍິນດີຕ້ອນຮັບ", en: "Welcome"}
  priority: 10
  schedule:
    start_date: 2026-12-01
    end_date: 2027-01-31
    weekdays: [mon, tue, wed, thu, fri]
    windows:
      - {start: "07:00", end: "17:00"}
  items:
    - id: welcome
      kind: text
      duration_s: 12
      text:
        vi: {title: "Chào mừng", body: "Cửa khẩu A Đớt"}
        lo: {title: "ຍິນດີຕ້ອນຮັບ", body: "ດ່ານ ອາເດີດ"}
        en: {title: "Welcome", body: "A Dot border gate"}
    - id: gate-map
      kind: image
      duration_s: 8
      file: images/map.png
      caption: {vi: "Sơ đồ", lo: "ແຜນຜັງ"}
"""

HALL = """\
playlist:
  id: adot-hall-video
  site: adot-hall
  name: {vi: "Video", lo: "ວິດີໂອ"}
  priority: 5
  items:
    - id: queue
      kind: video
      duration_s: 30
      file: media/queue.mp4
"""

HONGVAN = """\
playlist:
  id: hongvan-welcome
  site: hongvan
  name: {vi: "Hồng Vân", lo: "ຮົ່ງວັນ"}
  items:
    - id: photo
      kind: image
      duration_s: 5
      file: photo.jpg
"""


def data_folder(root: Path, **settings: Any) -> Settings:
    """A new data folder ``root/data``, initialised (``admin`` / ``ADMIN_PASSWORD``), with
    ``settings`` other than the defaults."""
    s = Settings(data_dir=root / "data", **settings)
    initialise(s, "admin", ADMIN_PASSWORD, NOW)
    return s


def write_content(folder: Path) -> Path:
    """The fixture playlist folder; returns it."""
    files = {
        "sites.yaml": SITES,
        "fallback.yaml": FALLBACK,
        "adot/welcome.yaml": WELCOME,
        "adot/hall/video.yaml": HALL,
        "hongvan/welcome.yaml": HONGVAN,
    }
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")
    (folder / "adot/images").mkdir(parents=True)
    (folder / "adot/images/map.png").write_bytes(png())
    (folder / "adot/hall/media").mkdir(parents=True)
    (folder / "adot/hall/media/queue.mp4").write_bytes(MP4)
    (folder / "hongvan/photo.jpg").write_bytes(JPEG)
    return folder


def import_folder(settings: Settings, folder: Path, now: datetime = NOW) -> None:
    store = Store.open(settings.db_path)
    try:
        plan = importer.check_folder(folder, store, settings.max_upload_bytes)
        importer.apply(
            plan,
            store,
            AssetStore(settings.assets_dir),
            now,
            user="test",
            address="",
            max_bytes=settings.max_upload_bytes,
        )
    finally:
        store.close()


def add_device(settings: Settings, device_id: str, site: str, now: datetime = NOW) -> str:
    """Enrol and publish; the device's token."""
    store = Store.open(settings.db_path)
    try:
        creds = Credentials.new()
        enrol(store, device_id, site, creds, now, replace=False, user="test", address="")
        publish(
            store,
            load_signing_keys(settings),
            now,
            timedelta(days=30),
            user="test",
            address="",
            reason="test",
            device_ids=[device_id],
        )
    finally:
        store.close()
    return creds.token


def cli_add_device(
    cli: Callable[..., CliResult],
    settings: Settings,
    out: Path,
    *extra: str,
    site: str = "adot-hall",
    device_id: str = "adot-hall-1",
) -> CliResult:
    """``content-server add-device`` as an operator types it, the config written to ``out``."""
    return cli(
        "add-device", "--data-dir", settings.data_dir, "--site", site,
        "--device-id", device_id, "--server-url", "http://127.0.0.1:8000",
        "--mqtt-url", "mqtt://127.0.0.1:1883", "--config-out", out, *extra,
    )  # fmt: skip


T = TypeVar("T")


def stored(settings: Settings, read: Callable[[Store], T]) -> T:
    """What ``read`` finds in the data folder's database, opened and closed around it."""
    with closing(Store.open(settings.db_path)) as store:
        return read(store)


def newest_envelope(settings: Settings, device_id: str) -> bytes:
    """The device's newest manifest envelope as stored: signed, as the device gets it."""
    with closing(Store.open(settings.db_path)) as store:
        version, _ = store.latest_manifest_versions()[device_id]
        envelope = store.manifest_envelope(device_id, version)
    assert envelope is not None
    return envelope


def newest_signed(settings: Settings, device_id: str) -> dict[str, Any]:
    """The ``signed`` part of the device's newest manifest."""
    signed: dict[str, Any] = json.loads(newest_envelope(settings, device_id))["signed"]
    return signed


@dataclass
class Server:
    settings: Settings
    app: FastAPI
    client: TestClient
    tokens: dict[str, str]
    clock: list[datetime]

    @property
    def state(self) -> ServerState:
        state: ServerState = self.app.state.server
        return state

    def auth(self, device_id: str = "adot-hall-1") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[device_id]}"}


@contextmanager
def serving(settings: Settings, content_dir: Path, devices: dict[str, str]) -> Iterator[Server]:
    """The app on ``settings`` in this process, the content of ``content_dir`` imported and
    ``devices`` (``{device id: site}``) enrolled and published; its clock is ``NOW`` until
    the test moves ``Server.clock``."""
    import_folder(settings, content_dir)
    tokens = {
        device_id: add_device(settings, device_id, site) for device_id, site in devices.items()
    }
    clock = [NOW]
    app = create_app(settings, clock=lambda: clock[0])
    with TestClient(app) as client:
        yield Server(settings, app, client, tokens, clock)


@dataclass(frozen=True)
class CliResult:
    returncode: int
    stdout: str
    stderr: str
