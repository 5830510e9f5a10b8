"""The content pages rendered in-process (no browser): every page answers for each role,
forms keep their messages next to the fields, another gate's content is a 404, and a
form without its CSRF token is refused. The browser tests are test_content_pages.py."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.server.api_kit import PASSWORD, add_user, image_bytes, upload
from tests.server.content_server_kit import Server, data_folder, serving, write_content


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    settings = data_folder(tmp_path)
    content = write_content(tmp_path / "playlists")
    with serving(settings, content, {"adot-hall-1": "adot-hall", "hongvan-1": "hongvan"}) as s:
        yield s


def browser(server: Server, username: str) -> tuple[TestClient, str]:
    """A client signed in through the form, and its CSRF token."""
    client = TestClient(server.app)
    page = client.get("/admin/sign-in")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token, page.text
    r = client.post(
        "/admin/sign-in",
        data={"username": username, "password": PASSWORD, "csrf_token": token.group(1)},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    fleet = client.get("/admin/fleet")
    csrf = re.search(r'"X-CSRF-Token": "([^"]+)"', fleet.text)
    assert csrf
    return client, csrf.group(1)


PAGES = ["/admin/media", "/admin/playlists", "/admin/playlists/adot-welcome",
         "/admin/playlists/adot-welcome/preview?item=welcome", "/admin/reports",
         "/admin/reports/yearly", "/admin/feedback", "/admin/pages",
         "/admin/playlists/new?site=adot"]  # fmt: skip


@pytest.mark.parametrize("role", ["editor", "viewer"])
def test_every_content_page_renders_in_vietnamese(server: Server, role: str) -> None:
    add_user(server, "guard-adot", role, "adot")
    client, _ = browser(server, "guard-adot")
    for path in PAGES:
        r = client.get(path)
        expected = 403 if role == "viewer" and path.endswith("new?site=adot") else 200
        assert r.status_code == expected, (path, r.text[-2000:])
        assert '<html lang="vi">' in r.text
    assert "Thứ Hai–Thứ Sáu, 07:00–17:00" in client.get("/admin/playlists").text


def test_another_gates_playlist_and_media_are_not_found(server: Server) -> None:
    add_user(server, "guard-hongvan", "editor", "hongvan")
    adot = add_user(server, "guard-adot", "editor", "adot")
    sha = upload(server, adot, "adot", "a.png", image_bytes(seed=9)).json()["sha256"]
    client, csrf = browser(server, "guard-hongvan")
    for path in ("/admin/playlists/adot-welcome", f"/admin/media/{sha}/file",
                 "/admin/playlists/adot-welcome/preview?item=welcome"):  # fmt: skip
        r = client.get(path)
        assert r.status_code == 404, path
        assert "Chào mừng" not in r.text
    r = client.post(f"/admin/media/{sha}/delete", data={"csrf_token": csrf})
    assert r.status_code == 404
    assert (server.settings.assets_dir / sha).is_file()
    r = client.post(
        "/admin/playlists/adot-welcome/publish", data={"csrf_token": csrf}, follow_redirects=False
    )
    assert r.status_code == 404


def test_a_form_without_its_csrf_token_is_refused(server: Server) -> None:
    add_user(server, "guard-adot", "editor", "adot")
    client, csrf = browser(server, "guard-adot")
    r = client.post("/admin/playlists/adot-welcome/publish", follow_redirects=False)
    assert r.status_code == 403
    before = len(server.state.store.revisions("adot-welcome"))
    r = client.post(
        "/admin/playlists/adot-welcome/publish", data={"csrf_token": csrf}, follow_redirects=False
    )
    assert r.status_code == 303
    assert len(server.state.store.revisions("adot-welcome")) == before + 1


def test_field_messages_sit_next_to_the_fields_and_nothing_is_saved(server: Server) -> None:
    add_user(server, "guard-adot", "editor", "adot")
    client, csrf = browser(server, "guard-adot")
    form = {"csrf_token": csrf, "action": "save", "id": "Bad Id", "site_id": "adot",
            "name-vi": "", "priority": "x", "win-0-start": "7h", "win-0-end": "11:30",
            "item-0-kind": "text", "item-0-id": "a", "item-0-duration": "0",
            "item-0-vi-title": "Xin chào"}  # fmt: skip
    r = client.post("/admin/playlists/new", data=form, follow_redirects=False)
    assert r.status_code == 422
    for field, words in [
        ("id", "Dùng chữ thường, số và dấu gạch ngang"),
        ("name-vi", "Đặt tên danh sách phát bằng tiếng Việt."),
        ("priority", "Mức ưu tiên là số nguyên"),
        ("win-0-start", "Nhập giờ theo dạng 07:00."),
        ("item-0-duration", "Số giây trên màn hình: số nguyên từ 1 đến 3600."),
    ]:
        assert re.search(rf'aria-invalid="true" aria-describedby="err-{field}"', r.text), field
        assert re.search(rf'id="err-{field}">{words}', r.text), field
    assert server.state.store.draft("bad-id") is None
    assert 'value="Xin chào"' in r.text  # what was typed stays


def test_a_saved_draft_without_lao_is_marked_and_cannot_be_published(server: Server) -> None:
    add_user(server, "guard-adot", "editor", "adot")
    client, csrf = browser(server, "guard-adot")
    form = {"csrf_token": csrf, "action": "save", "id": "adot-tin", "site_id": "adot",
            "name-vi": "Tin", "priority": "0", "item-0-kind": "text", "item-0-id": "a",
            "item-0-duration": "10", "item-0-vi-title": "Xin chào", "weekday": ["sat", "sun"],
            "win-0-start": "22:00", "win-0-end": "02:00"}  # fmt: skip
    r = client.post("/admin/playlists/new", data=form, follow_redirects=False)
    assert r.status_code == 303, r.text
    page = client.get(r.headers["location"]).text
    assert "Thứ Bảy, Chủ Nhật, 22:00–02:00 hôm sau" in page
    cell = re.search(r'<div class="lang-cell([^"]*)" data-lang="lo">(.*?)</div>', page, re.S)
    assert cell and "bad" in cell.group(1)
    assert "Thiếu bản dịch: bắt buộc trước khi đăng." in cell.group(2)
    assert re.search(r'<button type="submit" class="primary" disabled', page)
    r = client.post("/admin/playlists/adot-tin/publish", data={"csrf_token": csrf})
    assert r.status_code == 422 and "Chưa đăng" in r.text
    assert server.state.store.revisions("adot-tin") == []


def test_a_kiosk_page_without_lao_is_marked_saved_and_published(server: Server) -> None:
    add_user(server, "guard-adot", "editor", "adot")
    add_user(server, "guard-hongvan", "editor", "hongvan")
    client, csrf = browser(server, "guard-adot")
    assert client.get("/admin/pages/new?site=adot").status_code == 200
    form = {"csrf_token": csrf, "id": "adot-thu-tuc", "site_id": "adot", "kind": "page",
            "position": "1", "title-vi": "Thủ tục xuất cảnh",
            "body-vi": "Mang hộ chiếu."}  # fmt: skip
    r = client.post("/admin/pages/new", data=form, follow_redirects=False)
    assert r.status_code == 303, r.text
    page = client.get(r.headers["location"]).text
    cell = re.search(r'<fieldset class="card lang-cell([^"]*)" data-lang="lo">(.*?)</fieldset>',
                     page, re.S)  # fmt: skip
    assert (
        cell and "bad" in cell.group(1) and "Thiếu bản dịch: điểm này bắt buộc có." in cell.group(2)
    )
    listing = client.get("/admin/pages").text
    assert re.search(r'id="page-adot-thu-tuc".*?thiếu tiếng Lào', listing, re.S)
    # Lao added; an undrawable character is refused with the reason, nothing saved
    form.update({"title-lo": "ຂັ້ນຕອນອອກເມືອງ", "body-lo": "ກ ก"})
    r = client.post("/admin/pages/adot-thu-tuc", data=form)
    assert r.status_code == 422 and "cannot be drawn" in r.text
    assert (
        "lo" not in next(p for p in server.state.store.pages() if p.id == "adot-thu-tuc").variants
    )
    form["body-lo"] = "ເອົາໜັງສືຜ່ານແດນມາ."
    assert (
        client.post("/admin/pages/adot-thu-tuc", data=form, follow_redirects=False).status_code
        == 303
    )
    before = server.state.manifests["adot-hall-1"].version
    r = client.post("/admin/pages/publish", data={"csrf_token": csrf, "site_id": "adot"},
                    follow_redirects=False)  # fmt: skip
    assert r.status_code == 303
    assert server.state.manifests["adot-hall-1"].version > before
    other, other_csrf = browser(server, "guard-hongvan")
    assert other.get("/admin/pages/adot-thu-tuc").status_code == 404
    r = other.post("/admin/pages/adot-thu-tuc", data={**form, "csrf_token": other_csrf})
    assert r.status_code == 404


def test_the_admin_upload_is_the_apis_and_needs_the_csrf_header(server: Server) -> None:
    add_user(server, "guard-adot", "editor", "adot")
    client, csrf = browser(server, "guard-adot")
    files = {"file": ("ban-do.png", image_bytes(seed=11))}
    r = client.post("/admin/media/upload?site_id=adot", files=files)
    assert r.status_code == 403
    r = client.post("/admin/media/upload?site_id=adot", files=files,
                    headers={"X-CSRF-Token": csrf})  # fmt: skip
    assert r.status_code == 200, r.text
    sha = r.json()["sha256"]
    assert (server.settings.assets_dir / sha).is_file()
    assert "ban-do.png" in client.get("/admin/media").text
    bad = client.post("/admin/media/upload?site_id=adot", files={"file": ("x.png", b"not a png")},
                      headers={"X-CSRF-Token": csrf})  # fmt: skip
    assert bad.status_code == 415 and bad.json()["error"]
    other = client.post("/admin/media/upload?site_id=hongvan", files=files,
                        headers={"X-CSRF-Token": csrf})  # fmt: skip
    assert other.status_code == 404
