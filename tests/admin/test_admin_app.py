"""The admin inside the app, without a browser: cookies, CSRF, scoping, error pages, and
that the API around it keeps answering problem+json."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.server.api_kit import PASSWORD, add_user
from tests.server.content_server_kit import Server, data_folder, serving, write_content


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    content = write_content(tmp_path / "playlists")
    with serving(
        data_folder(tmp_path), content, {"adot-hall-1": "adot-hall", "hongvan-1": "hongvan"}
    ) as s:
        yield s


def csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, html
    return found.group(1)


def browser_sign_in(client: TestClient, username: str) -> None:
    form = client.get("/admin/sign-in")
    r = client.post(
        "/admin/sign-in",
        data={"username": username, "password": PASSWORD, "csrf_token": csrf(form.text)},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text


def test_over_https_the_session_cookie_is_secure_httponly_strict_and_ends(server: Server) -> None:
    add_user(server, "guard", "editor", "adot")
    client = TestClient(server.app, base_url="https://testserver")
    form = client.get("/admin/sign-in")
    r = client.post(
        "/admin/sign-in",
        data={"username": "guard", "password": PASSWORD, "csrf_token": csrf(form.text)},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/admin/fleet"
    cookie = next(c for c in r.headers.get_list("set-cookie") if c.startswith("signage_session="))
    lowered = cookie.lower()
    assert "httponly" in lowered and "samesite=strict" in lowered and "secure" in lowered
    assert f"max-age={server.settings.admin_session_minutes * 60}" in lowered


def test_a_session_ends_when_its_time_is_up(server: Server) -> None:
    from datetime import timedelta

    add_user(server, "guard", "editor", "adot")
    browser_sign_in(server.client, "guard")
    assert server.client.get("/admin/fleet", follow_redirects=False).status_code == 200
    server.clock[0] += timedelta(minutes=server.settings.admin_session_minutes + 1)
    r = server.client.get("/admin/fleet", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/admin/sign-in")


def test_pages_allow_nothing_from_another_origin(server: Server) -> None:
    add_user(server, "guard", "editor", "adot")
    browser_sign_in(server.client, "guard")
    for path in ("/admin/sign-in", "/admin/fleet", "/admin/alerts", "/admin/devices/new"):
        r = server.client.get(path)
        assert r.status_code == 200, path
        csp = r.headers["content-security-policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert not re.search(r'(src|href|action)="(https?:)?//', r.text), path


def test_another_gates_pages_are_not_found_and_the_api_still_answers_problem_json(
    server: Server,
) -> None:
    add_user(server, "guard", "editor", "adot")
    browser_sign_in(server.client, "guard")
    for path in (
        "/admin/devices/hongvan-1",
        "/admin/fleet?site=hongvan",
        "/admin/fleet/events?site=hongvan",
        "/admin/devices/hongvan-1/screenshot.png",
    ):
        r = server.client.get(path)
        assert r.status_code == 404, path
        assert "Không tìm thấy" in r.text, path
    fleet = server.client.get("/admin/fleet").text
    assert "adot-hall-1" in fleet and "hongvan-1" not in fleet
    r = server.client.get("/api/v1/devices/nobody", headers={"Authorization": "Bearer x"})
    assert r.headers["content-type"].startswith("application/problem+json")


def test_an_editor_cannot_revoke_and_a_viewer_cannot_enrol(server: Server) -> None:
    add_user(server, "guard", "editor", "adot")
    browser_sign_in(server.client, "guard")
    page = server.client.get("/admin/devices/adot-hall-1").text
    assert "Thu hồi" not in page  # the button is for administrators
    r = server.client.post("/admin/devices/adot-hall-1/revoke", data={"csrf_token": csrf(page)})
    assert r.status_code == 403
    assert server.state.store.device("adot-hall-1") is not None
    assert not server.state.store.device("adot-hall-1").revoked  # type: ignore[union-attr]
    viewer = TestClient(server.app)
    add_user(server, "watcher", "viewer", "adot")
    browser_sign_in(viewer, "watcher")
    assert viewer.get("/admin/devices/new").status_code == 403
