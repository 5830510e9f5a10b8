"""Device groups: a playlist that names groups goes to their members, and only to them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from content_server.cli import main
from content_server.store import Store
from tests.server.api_kit import add_user, playlist_body, text_item
from tests.server.content_server_kit import Server, add_device, stored


def _playlists(server: Server, device_id: str) -> list[str]:
    """Playlist ids in the device's newest manifest."""
    store = server.state.store
    version, _ = store.latest_manifest_versions()[device_id]
    envelope = store.manifest_envelope(device_id, version)
    assert envelope is not None
    return [p["id"] for p in json.loads(envelope)["signed"]["playlists"]]


@pytest.fixture
def world(server: Server) -> dict[str, Any]:
    """The fixture server, a second A Đớt device (a kiosk at adot itself), an A Đớt editor."""
    add_device(server.settings, "adot-kiosk-1", "adot")
    server.state.reload()
    return {"editor": add_user(server, "guard-adot", "editor", "adot")}


def _group(server: Server, auth: dict[str, str], members: list[str], **extra: Any) -> Any:
    body = {"id": "adot-hall-screens", "site_id": "adot", "name": "Màn hình sảnh",
            "members": members, **extra}  # fmt: skip
    return server.client.post("/api/v1/groups", json=body, headers=auth)


def _grouped_playlist(groups: list[str], site: str = "adot") -> dict[str, Any]:
    item = text_item("queue", vi=("Xếp hàng", "Xin xếp hàng"), lo=("ເຂົ້າແຖວ", "ກະລຸນາເຂົ້າແຖວ"))
    return {"id": "hall-only", **playlist_body(site, [item]), "groups": groups}


def test_a_grouped_playlist_reaches_the_members_only_and_follows_membership(
    server: Server, world: dict[str, Any]
) -> None:
    editor = world["editor"]
    r = _group(server, editor, ["adot-hall-1"])
    assert r.status_code == 201, r.text
    assert r.json()["members"] == ["adot-hall-1"]
    r = server.client.post("/api/v1/playlists", json=_grouped_playlist(["adot-hall-screens"]),
                           headers=editor)  # fmt: skip
    assert r.status_code == 201, r.text
    assert r.json()["draft"]["groups"] == ["adot-hall-screens"]
    r = server.client.post("/api/v1/playlists/hall-only/publish", headers=editor)
    assert r.status_code == 200, r.text
    assert "hall-only" in _playlists(server, "adot-hall-1")
    assert "hall-only" not in _playlists(server, "adot-kiosk-1")
    assert "adot-welcome" in _playlists(server, "adot-kiosk-1")  # site playlists still go

    # Membership moves: the devices that left and joined get new manifests at once.
    body = {"site_id": "adot", "name": "Ki-ốt", "members": ["adot-kiosk-1"]}
    r = server.client.put("/api/v1/groups/adot-hall-screens", json=body, headers=editor)
    assert r.status_code == 200, r.text
    assert "hall-only" not in _playlists(server, "adot-hall-1")
    assert "hall-only" in _playlists(server, "adot-kiosk-1")

    # A group a playlist names cannot go away, nor leave the playlist's tree.
    r = server.client.delete("/api/v1/groups/adot-hall-screens", headers=editor)
    assert r.status_code == 409
    assert "hall-only" in r.json()["detail"]
    r = server.client.get("/api/v1/groups", headers=editor)
    assert [g["id"] for g in r.json()] == ["adot-hall-screens"]


def test_group_members_and_playlist_groups_must_be_in_scope(
    server: Server, world: dict[str, Any]
) -> None:
    editor = world["editor"]
    admin = add_user(server, "root", "admin", None)
    # A device of another gate cannot be a member.
    r = _group(server, admin, ["adot-hall-1", "hongvan-1"])
    assert r.status_code == 422
    assert "hongvan-1" in r.json()["detail"]
    # The editor of A Đớt cannot make a group at Hồng Vân: it "does not exist" for them.
    r = _group(server, editor, [], site_id="hongvan", id="hv")
    assert r.status_code == 404
    body = {"id": "hv-screens", "site_id": "hongvan", "name": "HV", "members": ["hongvan-1"]}
    assert server.client.post("/api/v1/groups", json=body, headers=admin).status_code == 201
    assert server.client.get("/api/v1/groups/hv-screens", headers=editor).status_code == 404
    # A playlist at adot cannot name a group at Hồng Vân, even for an admin.
    r = server.client.post("/api/v1/playlists", json=_grouped_playlist(["hv-screens"]),
                           headers=admin)  # fmt: skip
    assert r.status_code == 422
    assert "no device group 'hv-screens' at site adot" in r.json()["detail"]
    # An unused group can be deleted.
    assert server.client.delete("/api/v1/groups/hv-screens", headers=admin).status_code == 204
    assert server.client.get("/api/v1/groups/hv-screens", headers=admin).status_code == 404


def test_yaml_playlists_name_groups(
    server: Server,
    world: dict[str, Any],
    content_dir: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert _group(server, world["editor"], ["adot-hall-1"]).status_code == 201
    path = content_dir / "adot/welcome.yaml"
    text = path.read_text(encoding="utf-8")
    text = text.replace("  priority: 10\n", "  priority: 10\n  groups: [adot-hall-screens]\n")
    path.write_text(text, encoding="utf-8")
    data_dir = str(server.settings.data_dir)
    assert main(["import", str(content_dir), "--data-dir", data_dir]) == 0, capsys.readouterr()
    server.state.reload()
    assert "adot-welcome" in _playlists(server, "adot-hall-1")
    assert "adot-welcome" not in _playlists(server, "adot-kiosk-1")
    (welcome,) = [p for p in stored(server.settings, Store.playlists) if p.id == "adot-welcome"]
    assert welcome.groups == ["adot-hall-screens"]

    path.write_text(path.read_text(encoding="utf-8").replace(
        "[adot-hall-screens]", "[adot-hall-screenz]"), encoding="utf-8")  # fmt: skip
    capsys.readouterr()
    assert main(["import", str(content_dir), "--data-dir", data_dir]) == 1
    lines = path.read_text(encoding="utf-8").splitlines()
    line = next(i + 1 for i, text in enumerate(lines) if "groups:" in text)
    assert f"{path}:{line}: device group 'adot-hall-screenz' does not exist" in (
        capsys.readouterr().err
    )


def test_old_playlists_without_groups_keep_going_to_the_whole_site(
    server: Server, world: dict[str, Any]
) -> None:
    assert "adot-welcome" in _playlists(server, "adot-kiosk-1")
    assert "adot-welcome" in _playlists(server, "adot-hall-1")
    assert "adot-welcome" not in _playlists(server, "hongvan-1")
