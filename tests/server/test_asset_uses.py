"""Where an upload is used, and deleting only what nothing shows (scoped like every route)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from tests.server.api_kit import add_user, image_bytes, playlist_body, sign_in, upload, video_bytes
from tests.server.content_server_kit import ADMIN_PASSWORD, Server, png


@pytest.fixture
def editor(server: Server) -> dict[str, str]:
    return add_user(server, "guard-adot", "editor", "adot")


def image_item(item_id: str, sha: str, *langs: str) -> dict[str, object]:
    return {
        "id": item_id,
        "kind": "image",
        "duration_s": 8,
        "variants": {code: {"asset": sha} for code in langs},
    }


def test_uses_name_the_playlist_item_language_and_whether_published(
    server: Server, editor: dict[str, str]
) -> None:
    sha = upload(server, editor, "adot", "poster.png", image_bytes(seed=3)).json()["sha256"]
    r = server.client.get(f"/api/v1/assets/{sha}/uses", headers=editor)
    assert r.status_code == 200 and r.json()["used_in"] == []
    body = playlist_body("adot", [image_item("poster", sha, "vi")])
    assert (
        server.client.post(
            "/api/v1/playlists", json={"id": "adot-posters", **body}, headers=editor
        ).status_code
        == 201
    )
    used = server.client.get(f"/api/v1/assets/{sha}/uses", headers=editor).json()["used_in"]
    assert used == [{"site_id": "adot", "kind": "playlist", "id": "adot-posters",
                     "item_id": "poster", "language": "vi", "state": "draft"}]  # fmt: skip
    # the imported map is live in adot-welcome (and its draft is the same): named once
    imported = hashlib.sha256(png()).hexdigest()
    admin = sign_in(server, "admin", ADMIN_PASSWORD)  # imported files have no owning site
    live = server.client.get(f"/api/v1/assets/{imported}/uses", headers=admin).json()
    assert [(u["id"], u["state"]) for u in live["used_in"]] == [
        ("adot-welcome", "published"),
        ("adot-welcome", "published"),
    ]  # vi and lo captions


def test_an_upload_in_a_draft_cannot_be_deleted_and_the_409_says_where(
    server: Server, editor: dict[str, str]
) -> None:
    sha = upload(server, editor, "adot", "poster.png", image_bytes(seed=4)).json()["sha256"]
    body = playlist_body("adot", [image_item("poster", sha, "vi", "lo")])
    server.client.post("/api/v1/playlists", json={"id": "adot-posters", **body}, headers=editor)
    r = server.client.delete(f"/api/v1/assets/{sha}", headers=editor)
    assert r.status_code == 409, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert "playlist adot-posters (draft), item poster, vi" in r.json()["detail"]
    assert (server.settings.assets_dir / sha).is_file()
    # taken out of the draft: now it goes, bytes and all
    text = {"id": "t", "kind": "text", "duration_s": 5,
            "variants": {"vi": {"title": "Chào"}, "lo": {"title": "ສະບາຍດີ"}}}  # fmt: skip
    put = server.client.put(
        "/api/v1/playlists/adot-posters", json=playlist_body("adot", [text]), headers=editor
    )
    assert put.status_code == 200, put.text
    assert server.client.delete(f"/api/v1/assets/{sha}", headers=editor).status_code == 204
    assert not (server.settings.assets_dir / sha).exists()
    assert server.client.get(f"/api/v1/assets/{sha}/info", headers=editor).status_code == 404
    assert server.client.get(f"/api/v1/assets/{sha}").status_code in (401, 404)


def test_a_published_video_and_its_thumbnail_stay(
    server: Server, editor: dict[str, str], tmp_path: Path
) -> None:
    v = upload(server, editor, "adot", "queue.mp4", video_bytes(tmp_path)).json()
    item = {
        "id": "clip",
        "kind": "video",
        "duration_s": 5,
        "variants": {"vi": {"asset": v["sha256"]}},
    }
    server.client.post(
        "/api/v1/playlists", json={"id": "adot-clips", **playlist_body("adot", [item])},
        headers=editor,
    )  # fmt: skip
    assert (
        server.client.post("/api/v1/playlists/adot-clips/publish", headers=editor).status_code
        == 200
    )
    for sha in (v["sha256"], v["thumbnail"]):
        r = server.client.delete(f"/api/v1/assets/{sha}", headers=editor)
        assert r.status_code == 409 and "adot-clips (published)" in r.json()["detail"]


def test_an_unused_video_goes_with_its_thumbnail(
    server: Server, editor: dict[str, str], tmp_path: Path
) -> None:
    v = upload(server, editor, "adot", "queue.mp4", video_bytes(tmp_path, frames=8)).json()
    assert server.client.delete(f"/api/v1/assets/{v['sha256']}", headers=editor).status_code == 204
    listed = server.client.get("/api/v1/assets", headers=editor).json()
    assert not {v["sha256"], v["thumbnail"]} & {a["sha256"] for a in listed}
    assert not (server.settings.assets_dir / v["thumbnail"]).exists()


def test_another_gates_upload_is_unknown_and_unknown_is_404(
    server: Server, editor: dict[str, str]
) -> None:
    other = add_user(server, "guard-hongvan", "editor", "hongvan")
    sha = upload(server, other, "hongvan", "p.png", image_bytes(seed=5)).json()["sha256"]
    for method in ("get", "delete"):
        url = f"/api/v1/assets/{sha}" + ("/uses" if method == "get" else "")
        r = getattr(server.client, method)(url, headers=editor)
        assert r.status_code == 404, r.text
    assert (server.settings.assets_dir / sha).is_file()
    assert server.client.delete("/api/v1/assets/" + "0" * 64, headers=editor).status_code == 404


def test_shared_bytes_stay_for_the_other_owner(server: Server, editor: dict[str, str]) -> None:
    other = add_user(server, "guard-hongvan", "editor", "hongvan")
    data = image_bytes(seed=6)
    sha = upload(server, editor, "adot", "a.png", data).json()["sha256"]
    upload(server, other, "hongvan", "b.png", data)
    assert server.client.delete(f"/api/v1/assets/{sha}", headers=editor).status_code == 204
    assert server.client.get(f"/api/v1/assets/{sha}/info", headers=editor).status_code == 404
    assert server.client.get(f"/api/v1/assets/{sha}/info", headers=other).status_code == 200
    assert (server.settings.assets_dir / sha).is_file()


def test_a_viewer_cannot_delete(server: Server, editor: dict[str, str]) -> None:
    viewer = add_user(server, "watch-adot", "viewer", "adot")
    sha = upload(server, editor, "adot", "a.png", image_bytes(seed=7)).json()["sha256"]
    assert server.client.delete(f"/api/v1/assets/{sha}", headers=viewer).status_code == 403
