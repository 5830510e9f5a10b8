"""Screen layouts and ticker notices: authored over the API and from YAML, scoped like
everything else, signed into the manifests of the site and the sites below it."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from content_server.settings import Settings
from signage_core.manifest import parse_manifest
from tests.server.api_kit import add_user, playlist_body, text_item
from tests.server.content_server_kit import Server, newest_signed

ROOT = Path(__file__).resolve().parents[2]

NOTICE = {
    "id": "adot-notice-papers",
    "site_id": "adot",
    "texts": {
        "vi": "Xin chuẩn bị sẵn hộ chiếu hoặc giấy thông hành trước khi xếp hàng.",
        "lo": "ກະລຸນາກຽມໜັງສືຜ່ານແດນ ຫຼື ໃບຜ່ານແດນ ໃຫ້ພ້ອມກ່ອນເຂົ້າແຖວ.",
    },
}


def _signed(server: Server, device_id: str) -> dict[str, Any]:
    return newest_signed(server.settings, device_id)


@pytest.fixture
def editor(server: Server) -> dict[str, str]:
    return add_user(server, "guard-adot", "editor", "adot")


def test_a_layout_and_its_notices_are_signed_for_the_site_and_below_only(
    server: Server, editor: dict[str, str]
) -> None:
    assert "layout" not in _signed(server, "adot-hall-1")  # none yet: a full-screen card
    r = server.client.put("/api/v1/layouts/adot", json={"orientation": "landscape"}, headers=editor)
    assert r.status_code == 200, r.text
    r = server.client.post("/api/v1/notices", json=NOTICE, headers=editor)
    assert r.status_code == 201, r.text
    later = {**NOTICE, "id": "adot-notice-old", "until": "2000-01-01T00:00:00Z"}
    assert server.client.post("/api/v1/notices", json=later, headers=editor).status_code == 201
    r = server.client.post("/api/v1/layouts/publish?site_id=adot", headers=editor)
    assert r.status_code == 200, r.text
    assert r.json()["devices"] == ["adot-hall-1"]

    signed = _signed(server, "adot-hall-1")  # adot-hall inherits the layout of adot
    layout = signed["layout"]
    assert layout["orientation"] == "landscape" and layout["header"] and layout["ticker"]
    assert layout["title"] == {"vi": "A Đớt – Sảnh", "lo": "ອາເດີດ – ຫ້ອງໂຖງ"}  # its site's
    assert [n["id"] for n in layout["notices"]] == ["adot-notice-papers"]  # run out: dropped
    assert parse_manifest(signed).layout is not None
    assert "layout" not in _signed(server, "hongvan-1")  # another gate: untouched

    # A site below with its own layout wins over the one above; removing it inherits again.
    r = server.client.put(
        "/api/v1/layouts/adot-hall",
        json={"orientation": "portrait", "ticker": False, "title": {"vi": "Sảnh", "lo": "ຫ້ອງໂຖງ"}},
        headers=editor,
    )
    assert r.status_code == 200, r.text
    server.client.post("/api/v1/layouts/publish?site_id=adot", headers=editor)
    layout = _signed(server, "adot-hall-1")["layout"]
    assert (layout["orientation"], layout["ticker"], layout["notices"]) == ("portrait", False, [])
    assert layout["title"] == {"vi": "Sảnh", "lo": "ຫ້ອງໂຖງ"}
    assert server.client.delete("/api/v1/layouts/adot-hall", headers=editor).status_code == 204
    server.client.post("/api/v1/layouts/publish?site_id=adot", headers=editor)
    assert _signed(server, "adot-hall-1")["layout"]["orientation"] == "landscape"


@pytest.mark.parametrize(
    ("path", "body", "words"),
    [
        ("/api/v1/layouts/adot", {"orientation": "sideways"}, "orientation"),
        ("/api/v1/layouts/adot", {"title": {"vi": "x" * 81}}, "80 or fewer"),
        ("/api/v1/layouts/adot", {"title": {"xx": "Cửa khẩu"}}, "unknown language"),
        ("/api/v1/notices", {**NOTICE, "texts": {"vi": "x " * 100}}, "160 or fewer"),
        ("/api/v1/notices", {**NOTICE, "texts": {"lo": "ສະບາຍດີ สวัสดี"}}, "cannot be drawn"),
        ("/api/v1/notices", {**NOTICE, "texts": {"vi": "   "}}, "empty"),
        ("/api/v1/notices", {**NOTICE, "until": "tomorrow"}, "UTC time"),
        ("/api/v1/notices", {**NOTICE, "texts": {}}, "texts"),
    ],
)
def test_bad_layouts_and_notices_get_a_problem_and_nothing_is_stored(
    server: Server, editor: dict[str, str], path: str, body: dict[str, Any], words: str
) -> None:
    before = server.state.store.dump()
    send = server.client.put if path.startswith("/api/v1/layouts") else server.client.post
    r = send(path, json=body, headers=editor)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert words in r.text
    assert server.state.store.dump() == before


def test_layouts_and_notices_are_scoped_to_the_sites_a_user_manages(
    server: Server, editor: dict[str, str]
) -> None:
    r = server.client.put("/api/v1/layouts/hongvan", json={}, headers=editor)
    assert r.status_code == 404
    r = server.client.post("/api/v1/notices", json={**NOTICE, "site_id": "hongvan"}, headers=editor)
    assert r.status_code == 404
    r = server.client.post(
        "/api/v1/notices", json={**NOTICE, "id": "hongvan-x", "site_id": "adot"}, headers=editor
    )
    assert r.status_code == 403  # another site's name space
    admin_notice = {**NOTICE, "id": "hongvan-notice", "site_id": "hongvan"}
    admin = add_user(server, "city-admin", "admin", None)
    assert (
        server.client.post("/api/v1/notices", json=admin_notice, headers=admin).status_code == 201
    )
    assert server.client.get("/api/v1/notices/hongvan-notice", headers=editor).status_code == 404
    assert [n["id"] for n in server.client.get("/api/v1/notices", headers=editor).json()] == []
    viewer = add_user(server, "viewer-adot", "viewer", "adot")
    assert server.client.put("/api/v1/layouts/adot", json={}, headers=viewer).status_code == 403


def test_the_real_gate_layouts_import_and_publish_for_both_gates(
    cli: Callable[..., Any],
    settings: Settings,
    tmp_path: Path,
    enrol_device: Callable[..., str],
) -> None:
    folder = tmp_path / "playlists"
    shutil.copytree(ROOT / "playlists", folder)
    result = cli("import", folder, "--data-dir", settings.data_dir)
    assert result.returncode == 0, result.stderr
    assert "screen layouts: 2 new" in result.stdout
    assert "ticker notices: 12 new" in result.stdout
    again = cli("import", folder, "--data-dir", settings.data_dir)
    assert "screen layouts: 0 new, 0 changed, 2 unchanged" in again.stdout
    assert "ticker notices: 0 new, 0 changed, 12 unchanged" in again.stdout
    for device, site, name in (
        ("adot-hall-1", "adot-hall", "ດ່ານ ອາເດີດ"),
        ("hongvan-post-1", "hongvan-post", "ດ່ານ ຮົ່ງວັນ"),
    ):
        enrol_device(settings, device, site)
        layout = newest_signed(settings, device)["layout"]
        assert layout["title"]["lo"] == name
        assert len(layout["notices"]) == 6
        for notice in layout["notices"]:
            assert set(notice["texts"]) == {"vi", "lo", "en"}


@pytest.mark.parametrize(
    ("yaml_text", "reason"),
    [
        (
            "layout:\n  site: adot\n  orientation: upright\n",
            "orientation must be landscape or portrait",
        ),
        ("layout:\n  site: nowhere\n", "site 'nowhere' does not exist"),
        ("layout:\n  site: adot\n  colour: red\n", "unknown key 'colour'"),
        ("ticker:\n  site: adot\n  notices:\n    - id: a-b\n      text: {vi: ''}\n", "non-empty"),
        (
            "ticker:\n  site: adot\n  notices:\n    - {id: a-b, text: {vi: x}, until: soon}\n",
            "UTC time",
        ),
    ],
)
def test_bad_layout_yaml_is_refused_with_its_line(
    cli: Callable[..., Any], settings: Settings, content_dir: Path, yaml_text: str, reason: str
) -> None:
    (content_dir / "adot" / "layout.yaml").write_text(yaml_text, encoding="utf-8")
    result = cli("import", content_dir, "--data-dir", settings.data_dir)
    assert result.returncode != 0
    assert "layout.yaml:" in result.stderr and reason in result.stderr, result.stderr


def test_a_side_by_side_playlist_is_authored_signed_and_refused_when_misspelt(
    server: Server, editor: dict[str, str]
) -> None:
    item = text_item("queue", vi=("Xếp hàng", "Xin xếp hàng"), lo=("ເຂົ້າແຖວ", "ກະລຸນາເຂົ້າແຖວ"))
    body = {"id": "adot-queue", **playlist_body("adot", [item]), "bilingual": "side_by_side"}
    r = server.client.post("/api/v1/playlists", json={**body, "bilingual": "both"}, headers=editor)
    assert r.status_code == 422 and "side_by_side" in r.text
    r = server.client.post("/api/v1/playlists", json=body, headers=editor)
    assert r.status_code == 201, r.text
    assert r.json()["draft"]["bilingual"] == "side_by_side"
    assert server.client.post("/api/v1/playlists/adot-queue/publish", headers=editor).is_success
    signed = _signed(server, "adot-hall-1")
    queue = next(p for p in signed["playlists"] if p["id"] == "adot-queue")
    assert queue["bilingual"] == "side_by_side"
    assert all("bilingual" not in p for p in signed["playlists"] if p["id"] != "adot-queue")
    assert server.state.store.playlist("adot-queue").bilingual == "side_by_side"
    # Back to sequential: the key leaves the manifest again.
    r = server.client.put(
        "/api/v1/playlists/adot-queue",
        json={k: v for k, v in body.items() if k not in ("id", "bilingual")},
        headers=editor,
    )
    assert r.status_code == 200, r.text
    server.client.post("/api/v1/playlists/adot-queue/publish", headers=editor)
    queue = next(p for p in _signed(server, "adot-hall-1")["playlists"] if p["id"] == "adot-queue")
    assert "bilingual" not in queue


def test_bilingual_is_read_from_yaml(
    cli: Callable[..., Any], settings: Settings, content_dir: Path, enrol_device: Callable[..., str]
) -> None:
    path = content_dir / "adot/welcome.yaml"
    text = path.read_text(encoding="utf-8")
    assert "  items:\n" in text
    path.write_text(text.replace("  items:\n", "  bilingual: side_by_side\n  items:\n", 1))
    result = cli("import", content_dir, "--data-dir", settings.data_dir)
    assert result.returncode == 0, result.stderr
    enrol_device(settings, "adot-hall-1", "adot-hall")
    welcome = next(
        p for p in newest_signed(settings, "adot-hall-1")["playlists"] if p["id"] == "adot-welcome"
    )
    assert welcome["bilingual"] == "side_by_side"
    path.write_text(text.replace("  items:\n", "  bilingual: both\n  items:\n", 1))
    result = cli("import", content_dir, "--data-dir", settings.data_dir)
    assert (
        result.returncode != 0 and "bilingual must be sequential or side_by_side" in result.stderr
    )
