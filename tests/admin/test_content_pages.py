"""The content half of the admin in a real browser against a real server process: media
with a progress bar, a vi/lo playlist written, checked, fixed and published, picked up by
a real headless device, history and roll back, a file in use that cannot be deleted,
reports and the yearly report, and an editor of one gate kept out of the other's."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tomllib
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
import requests
from playwright.sync_api import BrowserContext, Page, expect

from content_server.uptime import ZONE
from signage_core.timefmt import format_time
from tests.admin.admin_kit import AdminStack, shoot, sign_in
from tests.support import waiting
from tests.support.stack import admin_headers

pytestmark = [pytest.mark.live, pytest.mark.e2e]
DEVICE = "adot-hall-9"
PLAYLIST = "adot-tin-moi"


@pytest.fixture(scope="module")
def device(admin: AdminStack) -> Iterator[Path]:
    """A headless device at A Đớt's hall, enrolled with the CLI while the server runs."""
    stack = admin.stack
    config = stack.add_device(DEVICE, "adot-hall")
    with config.open("a") as f:  # a technician's tuning: quick checks
        f.write("poll_interval_s = 1.0\nheartbeat_interval_s = 1.0\n")
    stack.reload_broker()
    argv = [sys.executable, "-m", "device_runtime", "--config", str(config)]
    stack.start_device(DEVICE, argv)
    yield config


def held(config: Path) -> dict[str, Any] | None:
    data_dir = Path(tomllib.loads(config.read_text())["data_dir"])
    try:
        signed: dict[str, Any] = json.loads((data_dir / "state" / "manifest.json").read_bytes())[
            "signed"
        ]
    except (FileNotFoundError, ValueError):
        return None
    return signed


def wait_for(admin: AdminStack, check: Any, what: str, timeout: float = 60) -> Any:
    def logs() -> str:
        return "\n".join(f"--- {n}\n{admin.stack.log(n)[-3000:]}" for n in ("server", DEVICE))

    return waiting.wait_until(check, timeout, what, step=0.2, logs=logs)


def picture(path: Path) -> Path:
    """A photo-like PNG of about 2.5 MB (noise does not compress): slow to send."""
    rng = np.random.default_rng(7)
    frame = rng.integers(0, 255, (720, 1280, 3), dtype=np.uint8)
    cv2.putText(frame, "A Dot", (80, 360), cv2.FONT_HERSHEY_SIMPLEX, 6, (255, 255, 255), 12)
    assert cv2.imwrite(str(path), frame)
    return path


def clip(path: Path) -> Path:
    """A 3-second video: ffmpeg's H.264 when there is ffmpeg, else OpenCV's mp4v."""
    if shutil.which("ffmpeg"):
        subprocess.run(
            ["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
             "testsrc=size=320x180:rate=10", "-t", "3", "-c:v", "libx264", "-pix_fmt",
             "yuv420p", str(path)],
            check=True, timeout=120,
        )  # fmt: skip
        return path
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), 10.0, (320, 180))
    for i in range(30):
        writer.write(np.full((180, 320, 3), i * 8, dtype=np.uint8))
    writer.release()
    return path


def slow_uploads(context: BrowserContext, page: Page) -> None:
    """A slow post link: about 600 KB/s up, so the bar has time to move."""
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 20, "downloadThroughput": -1, "uploadThroughput": 600_000},
    )


def upload(page: Page, path: Path) -> list[int]:
    """Upload through the form; the percentages the bar showed. The page reloads after."""
    page.get_by_label("Cho điểm").select_option("adot")
    page.get_by_label("Tệp", exact=True).set_input_files(str(path))
    with page.expect_navigation(timeout=90_000):
        page.get_by_role("button", name="Tải lên", exact=True).click()
        expect(page.locator("#upload-done")).to_contain_text(path.name, timeout=60_000)
        seen = page.locator("#upload-progress").get_attribute("data-seen") or ""
    return [int(v) for v in seen.split(",") if v]


def accept_dialogs(page: Page) -> None:
    page.on("dialog", lambda d: d.accept())


def test_a_guard_uploads_writes_a_vi_lo_playlist_fixes_lao_publishes_and_rolls_back(
    admin: AdminStack, device: Path, page: Page, context: BrowserContext, tmp_path: Path
) -> None:
    accept_dialogs(page)
    sign_in(page, admin.url, "guard-adot")

    # --- media: two uploads with a progress bar, thumbnails and the video's length
    page.goto("/admin/media")
    slow_uploads(context, page)
    seen = upload(page, picture(tmp_path / "cua-khau.png"))
    moving = sorted({v for v in seen if 0 < v < 100})
    assert len(moving) >= 2, f"the bar did not move: {seen}"
    upload(page, clip(tmp_path / "huong-dan.mp4"))
    photo = page.locator(".media-item", has_text="cua-khau.png")
    video = page.locator(".media-item", has_text="huong-dan.mp4")
    expect(photo.locator("img.thumb")).to_be_visible()
    expect(video.locator("img.thumb")).to_be_visible()
    expect(video.locator(".duration")).to_contain_text("3")
    assert page.evaluate("[...document.images].every(i => i.complete && i.naturalWidth > 0)")
    expect(photo).to_contain_text("Không dùng ở đâu")
    shoot(page, "media")

    # --- a new playlist with only Vietnamese: the missing Lao is marked, publishing refused
    page.goto("/admin/playlists/new?site=adot")
    page.get_by_label("Mã (chữ, số, gạch ngang)").fill(PLAYLIST)
    page.locator("#f-name-vi").fill("Tin mới ở cửa khẩu")
    page.locator("#f-item-0-id").fill("gio-mo-cua")
    page.locator("#f-item-0-vi-title").fill("Giờ mở cửa hôm nay")
    page.locator("#f-item-0-vi-body").fill("Cửa khẩu A Đớt mở từ 07:00 đến 17:00.")
    page.locator("#f-day-mon").check()
    for day in ("tue", "wed", "thu", "fri"):
        page.locator(f"#f-day-{day}").check()
    page.locator("#f-win-0-start").fill("07:00")
    page.locator("#f-win-0-end").fill("11:30")
    page.get_by_role("button", name="Lưu bản nháp").click()
    expect(page).to_have_url(re.compile(rf"/admin/playlists/{PLAYLIST}\?done=saved"))
    expect(page.locator("#schedule-summary")).to_have_text("Thứ Hai–Thứ Sáu, 07:00–11:30")
    lao = page.locator("#item-0 .lang-cell[data-lang=lo]")
    expect(lao).to_have_class(re.compile(r"\bbad\b"))
    expect(lao).to_contain_text("Thiếu bản dịch: bắt buộc trước khi đăng.")
    expect(page.get_by_role("button", name="Đăng lên màn hình")).to_be_disabled()
    shoot(page, "playlist-missing-lao")

    # --- fixed: Lao added, and a picture item with the upload
    page.locator("#f-item-0-lo-title").fill("ເວລາເປີດດ່ານມື້ນີ້")
    page.locator("#f-item-0-lo-body").fill("ດ່ານ ອາເດີດ ເປີດແຕ່ 07:00 ຫາ 17:00.")
    page.locator("#f-item-1-id").fill("anh-cua-khau")
    page.locator("#f-item-1-kind").select_option("image")
    page.get_by_role("button", name="Kiểm tra", exact=True).click()
    page.locator("#f-item-1-vi-asset").select_option(label="cua-khau.png")
    page.locator("#f-item-1-lo-asset").select_option(label="cua-khau.png")
    page.locator("#f-item-1-vi-caption").fill("Cổng cửa khẩu")
    page.locator("#f-item-1-lo-caption").fill("ປະຕູດ່ານ")
    page.get_by_role("button", name="Lưu bản nháp").click()
    expect(page.locator("#item-0 .lang-cell[data-lang=lo]")).not_to_have_class(
        re.compile(r"\bbad\b")
    )
    expect(page.locator("#check-bad")).to_have_count(0)
    shoot(page, "playlist-editor")

    page.get_by_role("button", name="Đăng lên màn hình").click()
    expect(page.locator(".notice")).to_contain_text("Đã đăng: bản 1")
    headers = admin_headers(admin.stack)
    revisions = requests.get(
        f"{admin.url}/api/v1/playlists/{PLAYLIST}/revisions", headers=headers, timeout=10
    ).json()
    version = revisions[-1]["version"]
    signed = wait_for(
        admin, lambda: (m := held(device)) and m["version"] >= version and m, "the device syncs"
    )
    mine = next(p for p in signed["playlists"] if p["id"] == PLAYLIST)
    assert mine["items"][0]["variants"]["lo"]["title"] == "ເວລາເປີດດ່ານມື້ນີ້"

    # --- the preview of a slide in each language
    page.goto(f"/admin/playlists/{PLAYLIST}/preview?item=gio-mo-cua")
    expect(page.locator(".preview")).to_have_count(3)  # vi, lo, en (en falls back)
    expect(page.locator(".screen[lang=lo] .slide-title")).to_have_text("ເວລາເປີດດ່ານມື້ນີ້")
    shoot(page, "playlist-preview")

    # --- a second revision, then roll back to the first: a new, higher version
    page.goto(f"/admin/playlists/{PLAYLIST}")
    page.locator("#f-item-0-vi-title").fill("Giờ mở cửa (đã sửa)")
    page.get_by_role("button", name="Lưu bản nháp").click()
    page.get_by_role("button", name="Đăng lên màn hình").click()
    expect(page.locator(".notice")).to_contain_text("Đã đăng: bản 2")
    expect(page.locator("#revision-2")).to_contain_text("guard-adot")
    page.locator("#revision-1").get_by_role("button", name="Quay lại bản 1").click()
    expect(page.locator(".notice")).to_contain_text("Đã đăng: bản 3")
    expect(page.locator("#revision-3")).to_contain_text("quay lại bản 1")
    expect(page.locator("#f-item-0-vi-title")).to_have_value("Giờ mở cửa hôm nay")
    shoot(page, "playlist-history")
    revisions = requests.get(
        f"{admin.url}/api/v1/playlists/{PLAYLIST}/revisions", headers=headers, timeout=10
    ).json()
    rolled = revisions[-1]["version"]
    assert rolled > version
    signed = wait_for(
        admin, lambda: (m := held(device)) and m["version"] >= rolled and m, "the roll back"
    )
    mine = next(p for p in signed["playlists"] if p["id"] == PLAYLIST)
    assert mine["items"][0]["variants"]["vi"]["title"] == "Giờ mở cửa hôm nay"

    # --- the picture is in use: deleting it is refused, naming where it is shown
    page.goto("/admin/media")
    photo = page.locator(".media-item", has_text="cua-khau.png")
    expect(photo).to_contain_text(f"danh sách phát {PLAYLIST} (đã đăng), mục anh-cua-khau")
    photo.get_by_role("button", name="Xoá").click()
    expect(page.locator(".media-item", has_text="cua-khau.png").locator(".error")).to_contain_text(
        "Tệp này vẫn đang được dùng"
    )
    shoot(page, "media-in-use")
    page.goto("/admin/media")
    expect(page.locator(".media-item", has_text="cua-khau.png")).to_have_count(1)

    page.goto("/admin/playlists")
    expect(page.locator(f"#playlist-{PLAYLIST}")).to_contain_text("Thứ Hai–Thứ Sáu, 07:00–11:30")
    shoot(page, "playlists")

    # --- kiosk pages: the imported tree, one page with its languages side by side
    page.goto("/admin/pages")
    expect(page.locator("#pages-adot tbody tr").first).to_be_visible()
    shoot(page, "kiosk-pages")
    page.locator("#pages-adot tbody tr a").first.click()
    expect(page.locator(".lang-cell[data-lang=lo] input[lang=lo]")).not_to_have_value("")
    shoot(page, "kiosk-page-editor")


def test_an_editor_of_one_gate_cannot_open_the_other_gates_playlist(
    admin: AdminStack, page: Page
) -> None:
    sign_in(page, admin.url, "guard-hongvan")
    answer = page.goto("/admin/playlists/adot-welcome")
    assert answer is not None and answer.status == 404
    expect(page.get_by_role("heading", name="Không tìm thấy")).to_be_visible()
    assert "Chào mừng" not in page.content()
    for path in ("/admin/playlists/adot-welcome/preview?item=adot-welcome-greeting",):
        r = page.goto(path)
        assert r is not None and r.status == 404
    page.goto("/admin/playlists")
    expect(page.locator("#playlist-adot-welcome")).to_have_count(0)
    expect(page.locator("#playlist-hongvan-welcome")).to_have_count(1)


def test_reports_feedback_and_the_yearly_report_render(
    admin: AdminStack, device: Path, page: Page
) -> None:
    token = tomllib.loads(device.read_text())["token"]
    now = datetime.now(UTC)
    events = [
        {"id": str(uuid.uuid4()), "kind": "play", "ts": format_time(now),
         "playlist_id": PLAYLIST, "item_id": "gio-mo-cua", "language": lang, "duration_ms": 10000}
        for lang in ("vi", "lo", "vi")
    ] + [
        {"id": str(uuid.uuid4()), "kind": "feedback", "ts": format_time(now), "rating": 5,
         "language": "lo", "comment": "ຂອບໃຈຫຼາຍໆ ທີ່ຊ່ວຍເຫຼືອ"},
        {"id": str(uuid.uuid4()), "kind": "feedback", "ts": format_time(now), "rating": 3,
         "language": "vi", "comment": "Hàng chờ hơi dài vào buổi sáng"},
    ]  # fmt: skip
    r = requests.post(
        f"{admin.url}/api/v1/devices/{DEVICE}/events",
        json={"events": events},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert r.status_code == 200, r.text
    wait_for(
        admin,
        lambda: requests.get(
            f"{admin.url}/api/v1/devices/{DEVICE}", headers=admin_headers(admin.stack), timeout=5
        ).json()["health"]["last_heartbeat_at"],
        "a heartbeat (uptime)",
    )
    sign_in(page, admin.url, "chief")
    page.goto("/admin/reports")
    expect(page.get_by_role("heading", name="Báo cáo", exact=True)).to_be_visible()
    expect(page.locator("#plays-title + p")).to_contain_text("3 lượt phát")
    expect(page.locator("svg.chart").first).to_be_visible()
    expect(page.locator(f"#uptime-{DEVICE}")).to_be_visible()
    with page.expect_download() as got:
        page.get_by_role("link", name="Tải CSV (Excel)").first.click()
    csv_bytes = Path(got.value.path()).read_bytes()
    assert csv_bytes.startswith(b"\xef\xbb\xbf") and PLAYLIST.encode() in csv_bytes
    shoot(page, "reports")

    page.goto("/admin/feedback?rating=5")
    expect(page.locator("tbody tr")).to_have_count(1)
    expect(page.locator("tbody")).to_contain_text("ຂອບໃຈຫຼາຍໆ")
    page.goto("/admin/feedback")
    expect(page.locator("tbody tr")).to_have_count(2)
    shoot(page, "feedback")

    year = now.astimezone(ZONE).year
    page.goto(f"/admin/reports/yearly?year={year}")
    expect(page.get_by_role("heading", name=f"Báo cáo hoạt động năm {year}")).to_be_visible()
    adot = page.locator("#gate-adot")
    expect(adot).to_contain_text("Cửa khẩu")
    expect(adot.locator("td").nth(1)).to_have_text("3")  # plays
    expect(adot.locator("td").nth(4)).to_have_text("2")  # feedback
    expect(page.locator("#gate-hongvan")).to_be_visible()
    shoot(page, "yearly")
    page.emulate_media(media="print")
    expect(page.locator("header.top")).to_be_hidden()
    page.pdf(path=str(Path(shoot(page, "yearly-print")[0]).with_suffix(".pdf")))
