"""A guard's day in the admin, in a real browser against real processes: sign in, enrol a
screen and download its configuration, a headless device started with exactly that file
appears online on the fleet page live, an alert is sent and shown, the device is killed
and turns offline; another gate's editor cannot open these pages by their address."""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.admin.admin_kit import AdminStack, OriginGuard, shoot, sign_in

pytestmark = [pytest.mark.live, pytest.mark.e2e]
DEVICE = "adot-hall-9"
NAME = "Sảnh A Đớt – màn hình cạnh quầy 9"
LIVE_S = 90_000  # ms: a heartbeat every 30 s, on two busy cores


def enrol_and_download(page: Page, root: Path) -> Path:
    page.get_by_role("link", name="Đăng ký màn hình").click()
    page.get_by_label("Điểm").select_option("adot-hall")
    page.get_by_label("Mã màn hình").fill(DEVICE)
    page.get_by_label("Tên gọi (không bắt buộc)").fill(NAME)
    shoot(page, "device-new")
    page.get_by_role("button", name="Đăng ký", exact=True).click()
    expect(page.get_by_role("heading", name=f"Đã đăng ký màn hình {DEVICE}")).to_be_visible()
    shown = page.locator("#config").inner_text()
    shoot(page, "device-enrolled")
    with page.expect_download() as download:
        page.get_by_role("link", name=f"Tải về {DEVICE}.toml").click()
    assert download.value.suggested_filename == f"{DEVICE}.toml"
    config = root / "downloads" / f"{DEVICE}.toml"
    config.parent.mkdir(exist_ok=True)
    download.value.save_as(config)
    assert config.read_text() == shown.rstrip("\n") + "\n" or config.read_text() == shown
    return config


def test_a_guard_enrols_a_screen_watches_it_live_sends_an_alert_and_sees_it_go_offline(
    admin: AdminStack, page: Page, browser: Browser
) -> None:
    stack = admin.stack
    sign_in(page, admin.url, "guard-adot")
    config_path = enrol_and_download(page, stack.root)
    config = tomllib.loads(config_path.read_text())
    assert config["device_id"] == DEVICE and config["server_url"] == admin.url
    assert config["mqtt_url"] == stack.mqtt_url

    # The configuration is never shown again: the screen's page has no token.
    page.goto(f"/admin/devices/{DEVICE}")
    assert str(config["token"]) not in page.content()

    # The fleet page, open before the device starts, turns it online by itself (SSE).
    page.goto("/admin/fleet")
    row = page.locator(f"#device-{DEVICE}")
    expect(row).to_have_attribute("data-state", "unknown")
    page.evaluate("window.__stillTheSamePage = true")
    stack.start_device(
        "device", [sys.executable, "-m", "device_runtime", "--config", str(config_path)]
    )
    expect(row).to_have_attribute("data-state", "online", timeout=LIVE_S)
    expect(row).to_contain_text("đầy đủ", timeout=LIVE_S)  # every file of its manifest cached
    expect(row).to_contain_text(NAME)
    assert page.evaluate("window.__stillTheSamePage") is True  # no reload: live updates
    shoot(page, "fleet")

    # The screenshot button asks the device; a headless device answers it has no display.
    page.goto(f"/admin/devices/{DEVICE}")
    expect(page.locator("#device-state")).to_have_text("đang hoạt động")
    page.get_by_role("button", name="Yêu cầu màn hình chụp ảnh").click()
    expect(page.locator("#screenshot-note")).to_contain_text(
        "không có màn hiển thị", timeout=60_000
    )
    shoot(page, "device")

    # An alert for the hall: texts in the site's languages, a confirmation, then shown.
    page.goto("/admin/alerts")
    shoot(page, "alerts-empty")
    page.get_by_role("link", name="Gửi cảnh báo").last.click()
    page.get_by_label("Điểm").select_option("adot-hall")
    page.get_by_role("button", name="Tiếp tục").click()
    page.get_by_label("Tiêu đề (vi)").fill("Tạm dừng làm thủ tục xuất nhập cảnh")
    page.get_by_label("Nội dung (vi)").fill(
        "Quý khách vui lòng chờ hướng dẫn của cán bộ biên phòng."
    )
    page.get_by_label("Tiêu đề (lo)").fill("ຢຸດການກວດຄົນເຂົ້າເມືອງຊົ່ວຄາວ")
    page.get_by_label("Nội dung (lo)").fill("ກະລຸນາລໍຖ້າຄຳແນະນຳຈາກເຈົ້າໜ້າທີ່.")
    page.get_by_label("Tiêu đề (en)").fill("Border checks paused")
    shoot(page, "alert-new")
    page.get_by_role("button", name="Xem lại trước khi gửi").click()
    expect(page.get_by_role("heading", name="Xác nhận cảnh báo")).to_be_visible()
    expect(page.get_by_text("ຢຸດການກວດຄົນເຂົ້າເມືອງຊົ່ວຄາວ")).to_be_visible()
    shoot(page, "alert-confirm")
    page.get_by_role("button", name="Gửi cảnh báo ngay").click()
    expect(page).to_have_url(re.compile(r"/admin/alerts/[^/]+$"))
    alert_url = page.url
    expect(page.locator("#alert-showing")).to_contain_text(NAME, timeout=LIVE_S)
    shoot(page, "alert")
    page.on("dialog", lambda d: d.accept())
    page.get_by_role("button", name="Hủy cảnh báo").click()
    expect(page.locator("#alert-state")).to_contain_text("đã hủy")
    expect(page.locator("#alert-showing")).not_to_contain_text(NAME, timeout=LIVE_S)
    page.goto("/admin/alerts")
    expect(page.get_by_text("đã hủy")).to_be_visible()
    shoot(page, "alerts")

    # Another gate's editor: the device, the alert and the hall are "not found".
    other = browser.new_context(base_url=admin.url)
    try:
        other_page = other.new_page()
        guard = OriginGuard(other_page, admin.url)
        sign_in(other_page, admin.url, "guard-hongvan")
        expect(other_page.locator(f"#device-{DEVICE}")).to_have_count(0)
        for url in (f"/admin/devices/{DEVICE}", alert_url, "/admin/fleet?site=adot-hall"):
            answer = other_page.goto(url)
            assert answer is not None and answer.status == 404, url
            expect(other_page.get_by_role("heading", name="Không tìm thấy")).to_be_visible()
        shoot(other_page, "not-found")
        answer = other_page.goto("/admin/audit")  # an editor: not the audit log
        assert answer is not None and answer.status == 403
        assert not guard.foreign
    finally:
        other.close()

    # The device is killed: the open fleet page shows it offline, first in the list.
    page.goto("/admin/fleet")
    row = page.locator(f"#device-{DEVICE}")
    expect(row).to_have_attribute("data-state", "online")
    stack.kill("device")
    expect(row).to_have_attribute("data-state", "offline", timeout=LIVE_S)
    shoot(page, "fleet-offline")


def test_an_admin_reads_the_audit_log_of_their_sites(
    admin: AdminStack, page: Page, context: BrowserContext
) -> None:
    sign_in(page, admin.url, "chief")
    page.get_by_role("link", name="Nhật ký thao tác").click()
    expect(page.get_by_role("heading", name="Nhật ký thao tác")).to_be_visible()
    expect(page.locator("table.audit")).to_contain_text("sign-in")
    shoot(page, "audit")
