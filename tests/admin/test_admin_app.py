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


@pytest.fixture
def enrolling(tmp_path: Path) -> Iterator[Server]:
    mqtt_dir = tmp_path / "mosquitto"
    mqtt_dir.mkdir()
    content = write_content(tmp_path / "playlists")
    settings = data_folder(tmp_path, device_mqtt_url="mqtt://gate.example:1883", mqtt_dir=mqtt_dir)
    with serving(settings, content, {"adot-hall-1": "adot-hall", "hongvan-1": "hongvan"}) as s:
        yield s


def enrol_form(client: TestClient, **fields: str) -> str:
    page = client.get("/admin/devices/new").text
    r = client.post("/admin/devices/new", data={**fields, "csrf_token": csrf(page)})
    return f"{r.status_code} {r.text}"


def test_the_enrol_form_says_next_to_the_field_what_is_wrong(enrolling: Server) -> None:
    add_user(enrolling, "guard", "editor", "adot")
    client = enrolling.client
    browser_sign_in(client, "guard")
    answer = enrol_form(client, id="adot-hall-1", site_id="adot-hall")
    assert answer.startswith("422") and "Đã có màn hình với mã này" in answer
    assert 'id="id-error"' in answer and 'aria-invalid="true"' in answer
    answer = enrol_form(client, id="hongvan-7", site_id="adot-hall")
    assert answer.startswith("422") and "hãy bắt đầu bằng mã điểm" in answer
    answer = enrol_form(client, id="Sảnh 7", site_id="adot-hall")
    assert answer.startswith("422") and "Chữ thường không dấu" in answer
    answer = enrol_form(client, id="adot-hall-7", site_id="hongvan")
    assert answer.startswith("422") and "Hãy chọn một điểm bạn quản lý" in answer
    assert enrolling.state.store.device("adot-hall-7") is None


def test_rekey_in_the_browser_shows_the_new_configuration_once(enrolling: Server) -> None:
    add_user(enrolling, "guard", "editor", "adot")
    client = enrolling.client
    browser_sign_in(client, "guard")
    old = enrolling.auth("adot-hall-1")
    page = client.get("/admin/devices/adot-hall-1").text
    r = client.post("/admin/devices/adot-hall-1/rekey", data={"csrf_token": csrf(page)})
    assert r.status_code == 200 and "Khóa mới cho adot-hall-1" in r.text
    token = re.search(r"token = &#34;([^&]+)&#34;", r.text)
    assert token, r.text
    manifest = "/api/v1/devices/adot-hall-1/manifest"
    assert client.get(manifest, headers=old).status_code == 401
    fresh = {"Authorization": f"Bearer {token.group(1)}"}
    assert client.get(manifest, headers=fresh).status_code == 200
    assert r.headers["cache-control"] == "no-store"
    assert token.group(1) not in client.get("/admin/devices/adot-hall-1").text


def test_an_admin_revokes_a_screen_from_its_page(enrolling: Server) -> None:
    add_user(enrolling, "chief", "admin", None)
    client = enrolling.client
    browser_sign_in(client, "chief")
    page = client.get("/admin/devices/adot-hall-1").text
    assert "data-confirm=" in page and "Thu hồi" in page
    r = client.post("/admin/devices/adot-hall-1/revoke", data={"csrf_token": csrf(page)})
    assert r.status_code == 200 and "Đã thu hồi màn hình" in r.text
    assert enrolling.state.store.device("adot-hall-1").revoked  # type: ignore[union-attr]
    mqtt_dir = enrolling.settings.mqtt_dir
    assert mqtt_dir is not None and "adot-hall-1:" not in (mqtt_dir / "passwd").read_text()
    manifest = "/api/v1/devices/adot-hall-1/manifest"
    assert client.get(manifest, headers=enrolling.auth("adot-hall-1")).status_code == 401
    # The fleet still lists it, marked revoked, after every screen in service.
    fleet = client.get("/admin/fleet").text
    assert fleet.index('id="device-hongvan-1"') < fleet.index('id="device-adot-hall-1"')
    assert 'data-state="revoked"' in fleet


def test_the_screenshot_a_screen_sent_is_shown(server: Server) -> None:
    from tests.server.content_server_kit import png

    add_user(server, "guard", "editor", "adot")
    client = server.client
    browser_sign_in(client, "guard")
    r = client.post(
        "/api/v1/devices/adot-hall-1/screenshot",
        content=png(4, 3),
        headers={**server.auth("adot-hall-1"), "content-type": "image/png"},
    )
    assert r.status_code == 204
    panel = client.get("/admin/devices/adot-hall-1/screenshot-panel").text
    assert 'id="screenshot-image"' in panel
    image = client.get("/admin/devices/adot-hall-1/screenshot.png")
    assert image.status_code == 200 and image.content == png(4, 3)


def test_the_fleet_stream_sends_the_table_and_ends_when_the_user_is_disabled(
    server: Server,
) -> None:
    add_user(server, "guard", "editor", "adot")
    client = server.client
    browser_sign_in(client, "guard")
    seen: list[str] = []
    with client.stream("GET", "/admin/fleet/events") as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        for line in stream.iter_lines():
            seen.append(line)
            if line == "event: fleet":
                server.state.store.set_user_disabled("guard", True)
            if line == "event: signed-out":
                break
    text = "\n".join(seen)
    assert "data: " in text and "adot-hall-1" in text and "hongvan-1" not in text
    assert seen[-1] == "event: signed-out"
