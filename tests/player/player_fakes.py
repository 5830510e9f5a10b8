"""A fake device runtime with the interface of ``device_runtime.runtime.Runtime``,
and small manifests for player tests. No Kivy here."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from signage_core.manifest import SCHEMA, Manifest, parse_manifest
from signage_core.timefmt import format_time
from tests.support.clock import latest_utc

ISSUED = latest_utc(0)  # the player under test reads the real clock

LAO_MIXED = "ລາວ-ຫວຽດນາມ 2026"
LAO_PARAGRAPH = (
    "ຍິນດີຕ້ອນຮັບສູ່ດ່ານອາເດີດ ກະລຸນາກຽມໜັງສືຜ່ານແດນ ແລະ ເອກະສານການເດີນທາງຂອງທ່ານ"
    "ໃຫ້ພ້ອມກ່ອນເຂົ້າແຖວ ເຈົ້າໜ້າທີ່ຈະກວດກາເອກະສານຂອງທ່ານຢ່າງວ່ອງໄວ "
    "ຖ້າທ່ານຕ້ອງການຄວາມຊ່ວຍເຫຼືອ ກະລຸນາຕິດຕໍ່ເຈົ້າໜ້າທີ່ປ້ອງກັນຊາຍແດນທີ່ຫ້ອງການຂໍ້ມູນ"
)
VI_BODY = (
    "Cửa khẩu mở cửa từ 7 giờ đến 17 giờ hằng ngày. Quý khách vui lòng chuẩn bị hộ chiếu "
    "và giấy tờ đi đường trước khi xếp hàng. Mọi thắc mắc xin liên hệ Đồn Biên phòng."
)


@dataclass
class FakeStatus:
    state: str = "online"
    last_ok: datetime | None = None
    last_error: str | None = None
    offline_since: datetime | None = None


@dataclass
class FakeContent:
    manifest: Manifest
    assets_dir: Path
    expired: bool = False

    def asset_path(self, sha256: str) -> Path:
        return self.assets_dir / sha256


@dataclass
class FakeRuntime:
    """Records what the player reports; ``publish`` delivers content like the sync worker."""

    current: FakeContent | None = None
    status_value: FakeStatus = field(default_factory=FakeStatus)
    listeners: list[Callable[[Any], None]] = field(default_factory=list)
    plays: list[dict[str, Any]] = field(default_factory=list)
    now_playing: list[tuple[str, str, str]] = field(default_factory=list)
    held_alerts: list[Any] = field(default_factory=list)
    alert_listeners: list[Callable[[Any], None]] = field(default_factory=list)
    started: bool = False

    def start(self) -> None:
        self.started = True

    def stop(self) -> None:
        self.started = False

    def add_listener(self, cb: Callable[[Any], None]) -> None:
        self.listeners.append(cb)

    def add_alert_listener(self, cb: Callable[[Any], None]) -> None:
        self.alert_listeners.append(cb)

    @property
    def alerts(self) -> list[Any]:
        """The held alerts that show now (by the real clock), as ``Runtime.alerts``."""
        now = datetime.now(UTC)
        return [a for a in self.held_alerts if a.shows_at(now)]

    def deliver_alert(self, alert: Any) -> None:
        """A trusted alert arrives (call from another thread, as paho's loop does)."""
        self.held_alerts.append(alert)
        for cb in list(self.alert_listeners):
            cb(self.alerts)

    def publish(self, content: FakeContent) -> None:
        self.current = content
        for cb in list(self.listeners):
            cb(content)

    def publish_later(self, content: FakeContent, delay_s: float) -> threading.Timer:
        """Deliver ``content`` from another thread, as the runtime's sync worker does."""
        timer = threading.Timer(delay_s, self.publish, args=(content,))
        timer.daemon = True
        timer.start()
        return timer

    def set_now_playing(self, playlist_id: str, item_id: str, language: str) -> None:
        self.now_playing.append((playlist_id, item_id, language))

    def record_play(self, **fields: Any) -> None:
        self.plays.append(fields)

    def status(self) -> FakeStatus:
        return self.status_value

    def maintenance_info(self) -> dict[str, Any]:
        """As ``Runtime.maintenance_info``: this machine's real addresses, made-up counts."""
        from device_runtime.netinfo import addresses

        version = self.current.manifest.version if self.current is not None else None
        return {
            "device_id": "adot-hall-1",
            "app": {"name": "signage-player", "version": "test"},
            "manifest_version": version,
            "cache": {"bytes": 52_428_800, "files": 14, "missing": 0},
            "sync": {"state": "idle", "last_ok": "2026-12-02T08:10:00Z", "last_error": None},
            "addresses": addresses(),
            "server_url": "http://127.0.0.1:8000",
        }


def text_item(
    item_id: str, variants: dict[str, dict[str, str]], duration_s: int = 10
) -> dict[str, Any]:
    return {"id": item_id, "kind": "text", "duration_s": duration_s, "variants": variants}


def image_item(
    item_id: str, sha: str, captions: dict[str, str], duration_s: int = 8
) -> dict[str, Any]:
    variants = {lang: {"asset": sha, "caption": c} for lang, c in captions.items()}
    return {"id": item_id, "kind": "image", "duration_s": duration_s, "variants": variants}


def playlist(
    pid: str,
    items: list[dict[str, Any]],
    *,
    priority: int = 0,
    fallback: bool = False,
    schedule: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "id": pid,
        "name": {"vi": pid},
        "priority": priority,
        "fallback": fallback,
        "schedule": schedule,
        "items": items,
    }


def signed_dict(
    playlists: list[dict[str, Any]],
    *,
    version: int = 7,
    languages: tuple[str, ...] = ("vi", "lo", "en"),
    assets: dict[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "device_id": "adot-hall-1",
        "site_id": "adot",
        "version": version,
        "issued_at": format_time(ISSUED),
        "expires_at": format_time(ISSUED + timedelta(days=30)),
        "timezone": "Asia/Ho_Chi_Minh",
        "languages": list(languages),
        "playlists": playlists,
        "pages": [],
        "alerts": [],
        "assets": assets or {},
    }


def manifest(playlists: list[dict[str, Any]], **kw: Any) -> Manifest:
    return parse_manifest(signed_dict(playlists, **kw))


def store_asset(assets_dir: Path, data: bytes, media_type: str) -> tuple[str, dict[str, Any]]:
    """Put ``data`` in a cache folder under its sha256, as the runtime's cache does."""
    sha = hashlib.sha256(data).hexdigest()
    assets_dir.mkdir(parents=True, exist_ok=True)
    (assets_dir / sha).write_bytes(data)
    return sha, {"size": len(data), "media_type": media_type}
