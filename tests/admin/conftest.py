"""Fixtures of the admin's browser tests: one stack and one Chromium per module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from tests.admin.admin_kit import AdminStack, OriginGuard, admin_stack, launch_chromium


@pytest.fixture(scope="module")
def admin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AdminStack]:
    """The whole system running (server, Mosquitto), users of both gates made."""
    with admin_stack(tmp_path_factory.mktemp("admin")) as a:
        a.add_user("guard-adot", "editor", "adot")
        a.add_user("guard-hongvan", "editor", "hongvan")
        a.add_user("chief", "admin", None)
        yield a


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        b = launch_chromium(p)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def context(browser: Browser, admin: AdminStack) -> Iterator[BrowserContext]:
    ctx = browser.new_context(
        viewport={"width": 1280, "height": 800},
        base_url=admin.url,
        accept_downloads=True,
        locale="vi-VN",  # a guard's PC: the browser's own widgets (dates) in Vietnamese
        timezone_id="Asia/Ho_Chi_Minh",
    )
    try:
        yield ctx
    finally:
        ctx.close()


@pytest.fixture
def page(context: BrowserContext, admin: AdminStack) -> Iterator[Page]:
    """A page of its own; at the end, no request went to another origin."""
    p = context.new_page()
    guard = OriginGuard(p, admin.url)
    yield p
    assert not guard.foreign, f"requests to other origins: {guard.foreign}"
