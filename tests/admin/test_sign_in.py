"""Signing in to the admin in a real browser: the session cookie, sign-out, CSRF,
throttling, the language switch; a real server process on loopback."""

from __future__ import annotations

import re

import pytest
import requests
from playwright.sync_api import BrowserContext, Page, expect

from tests.admin.admin_kit import PASSWORD, AdminStack, shoot, sign_in
from tests.support.stack import admin_headers

pytestmark = [pytest.mark.live, pytest.mark.e2e]


def session_cookie(context: BrowserContext) -> dict[str, object]:
    cookies = {c["name"]: c for c in context.cookies()}
    assert "signage_session" in cookies, cookies
    return dict(cookies["signage_session"])


def test_the_root_opens_the_sign_in_page_in_vietnamese_then_the_fleet(
    admin: AdminStack, page: Page, context: BrowserContext
) -> None:
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/admin/sign-in"))
    assert page.get_attribute("html", "lang") == "vi"
    expect(page.get_by_role("heading", name="Đăng nhập")).to_be_visible()
    shoot(page, "sign-in")

    sign_in(page, admin.url, "guard-adot")
    expect(page.get_by_role("heading", name="Tình trạng màn hình")).to_be_visible()
    cookie = session_cookie(context)
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Strict"
    assert cookie["secure"] is False  # plain HTTP on loopback; Secure when HTTPS
    assert float(str(cookie["expires"])) > 0  # it ends, it is not for ever
    # An editor of A Đớt sees A Đớt's sites in the tree, none of Hồng Vân's.
    tree = page.get_by_role("complementary")
    expect(tree.get_by_role("link", name="A Đớt – Sảnh làm thủ tục xuất nhập cảnh")).to_be_visible()
    expect(tree.get_by_text("Hồng Vân")).to_have_count(0)
    shoot(page, "fleet-empty")


def test_signing_out_ends_the_session_on_the_server(
    admin: AdminStack, page: Page, context: BrowserContext
) -> None:
    sign_in(page, admin.url, "guard-adot")
    token = str(session_cookie(context)["value"])
    page.get_by_role("button", name="Đăng xuất").click()
    expect(page).to_have_url(re.compile(r"/admin/sign-in"))
    # The old cookie, replayed, no longer opens anything.
    r = requests.get(
        f"{admin.url}/admin/fleet",
        cookies={"signage_session": token},
        allow_redirects=False,
        timeout=10,
    )
    assert r.status_code == 303 and r.headers["location"].startswith("/admin/sign-in")


def test_disabling_a_user_ends_their_session(
    admin: AdminStack, page: Page, context: BrowserContext
) -> None:
    admin.add_user("soon-disabled", "viewer", "adot")
    sign_in(page, admin.url, "soon-disabled")
    r = requests.post(
        f"{admin.url}/api/v1/users/soon-disabled/disable",
        headers=admin_headers(admin.stack),
        timeout=10,
    )
    assert r.status_code == 200, r.text
    page.goto("/admin/fleet")
    expect(page).to_have_url(re.compile(r"/admin/sign-in"))


def test_a_form_posted_without_its_csrf_token_is_refused(
    admin: AdminStack, page: Page, context: BrowserContext
) -> None:
    sign_in(page, admin.url, "guard-adot")
    token = str(session_cookie(context)["value"])
    cookies = {"signage_session": token}
    # Signed in, but the form lacks the token (a forged form from another site would).
    r = requests.post(f"{admin.url}/admin/sign-out", cookies=cookies, timeout=10)
    assert r.status_code == 403
    assert "Tải lại trang" in r.text or "tải lại trang" in r.text, r.text
    # A wrong token is refused too, and the session survived both.
    r = requests.post(
        f"{admin.url}/admin/sign-out", data={"csrf_token": "x" * 64}, cookies=cookies, timeout=10
    )
    assert r.status_code == 403
    page.goto("/admin/fleet")
    expect(page).to_have_url(re.compile(r"/admin/fleet"))


def test_sign_in_is_throttled_after_repeated_wrong_passwords(admin: AdminStack, page: Page) -> None:
    admin.add_user("forgetful", "viewer", "adot")
    page.goto("/admin/sign-in")
    for _ in range(5):
        page.get_by_label("Tên đăng nhập").fill("forgetful")
        page.get_by_label("Mật khẩu").fill("wrong password")
        page.get_by_role("button", name="Đăng nhập").click()
        expect(page.get_by_role("alert")).to_contain_text("Sai tên đăng nhập hoặc mật khẩu")
    # Now even the right password waits, and the page says for how long.
    page.get_by_label("Tên đăng nhập").fill("forgetful")
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    with page.expect_response("**/admin/sign-in") as answer:
        page.get_by_role("button", name="Đăng nhập").click()
    assert answer.value.status == 429
    expect(page.get_by_role("alert")).to_contain_text("Hãy đợi 1 phút")
    shoot(page, "sign-in-throttled")


def test_the_language_switch_shows_english(admin: AdminStack, page: Page) -> None:
    sign_in(page, admin.url, "guard-adot")
    page.get_by_role("link", name="English").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    assert page.get_attribute("html", "lang") == "en"
    expect(page.get_by_role("heading", name="Fleet")).to_be_visible()
    shoot(page, "fleet-english")
    page.get_by_role("link", name="Tiếng Việt").click()
    expect(page.get_by_role("button", name="Đăng xuất")).to_be_visible()
