"""The admin's browser test kit: a real ``content-server serve`` process and Chromium.

``AdminStack`` is the loopback stack (``tests/support/stack.py``: ``init``, ``import
playlists/``, Mosquitto, ``serve``) with the server set up to enrol devices itself
(``CONTENT_SERVER_DEVICE_MQTT_URL``, ``..._MQTT_DIR``, ``..._MQTT_PID_FILE``) and a few
users. ``launch_chromium`` starts Debian's Chromium headless (never ``playwright
install``); ``shoot`` saves a page at desktop and phone width into
``tests/artifacts/admin-<name>-desktop.png`` / ``-phone.png``; ``sign_in`` signs in
through the form like a guard. Tests using these are ``live`` and ``e2e``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import requests
from playwright.sync_api import Browser, Page, Playwright

from tests.support.stack import Stack, admin_headers, artifacts_dir

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 360, "height": 740}
PASSWORD = "mật-khẩu-đủ-dài-1"  # every test user's; the admin's is the stack's


@dataclass
class AdminStack:
    """The running stack, its admin headers, and users ``{name: (role, site)}``."""

    stack: Stack
    users: dict[str, tuple[str, str | None]] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.stack.server_url

    @property
    def device_data_root(self) -> Path:
        return self.stack.root / "device-data"

    def add_user(self, name: str, role: str, site: str | None) -> None:
        r = requests.post(
            f"{self.url}/api/v1/users",
            json={"username": name, "password": PASSWORD, "role": role, "site_id": site},
            headers=admin_headers(self.stack),
            timeout=10,
        )
        assert r.status_code == 201, r.text
        self.users[name] = (role, site)


@contextmanager
def admin_stack(root: Path, **env: str) -> Iterator[AdminStack]:
    """Initialised from playlists/, Mosquitto and the server running; no device yet."""
    stack = Stack(root)
    try:
        stack.init()
        stack.start_broker()
        pid_file = root / "mosquitto.pid"
        pid_file.write_text(str(stack.processes["mosquitto"].pid))
        server_env = {
            "CONTENT_SERVER_DEVICE_MQTT_URL": stack.mqtt_url,
            "CONTENT_SERVER_DEVICE_DATA_DIR": str(root / "device-data"),
            "CONTENT_SERVER_MQTT_DIR": str(stack.broker_dir),
            "CONTENT_SERVER_MQTT_PID_FILE": str(pid_file),
            "CONTENT_SERVER_HEARTBEAT_INTERVAL_S": "2",
            **env,
        }
        saved = {k: os.environ.get(k) for k in server_env}
        os.environ.update(server_env)  # the server process inherits them
        try:
            stack.start_server()
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
        yield AdminStack(stack)
    finally:
        stack.stop()


def launch_chromium(playwright: Playwright) -> Browser:
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)


class OriginGuard:
    """Records every request a page makes that goes to another origin than the server."""

    def __init__(self, page: Page, origin: str) -> None:
        self.origin = origin
        self.foreign: list[str] = []
        page.on("request", self._seen)

    def _seen(self, request: object) -> None:
        url = getattr(request, "url", "")
        parts = urlsplit(url)
        if parts.scheme in ("data", "blob", "about"):
            return
        if f"{parts.scheme}://{parts.netloc}" != self.origin:
            self.foreign.append(url)


def shoot(page: Page, name: str) -> tuple[Path, Path]:
    """Screenshots of the page as it is, at desktop then phone width (full page); the page
    must name no other origin and fit a phone's width."""
    html = page.content()
    assert not re.search(r'(src|href|action)="(https?:)?//', html), f"{name}: a foreign URL"
    out = artifacts_dir()
    desktop = out / f"admin-{name}-desktop.png"
    phone = out / f"admin-{name}-phone.png"
    before = page.viewport_size
    page.set_viewport_size(DESKTOP)
    page.screenshot(path=str(desktop), full_page=True)
    page.set_viewport_size(PHONE)
    assert_fits(page, name)
    page.screenshot(path=str(phone), full_page=True)
    if before:
        page.set_viewport_size(before)
    return desktop, phone


def assert_fits(page: Page, name: str) -> None:
    """Nothing wider than the phone's screen: no sideways scrolling at 360 px."""
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{name}: the page is {width}px wide at a 360px screen"


def sign_in(page: Page, base_url: str, username: str, password: str = PASSWORD) -> None:
    page.goto(f"{base_url}/")
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu").fill(password)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url("**/admin/fleet**")
