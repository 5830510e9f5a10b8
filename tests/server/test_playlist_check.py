"""The pre-publish check the editor calls on a draft: the same rules publish applies,
per item and language, before anything is published (or even saved)."""

from __future__ import annotations

import pytest

from tests.server.api_kit import add_user, playlist_body, text_item
from tests.server.content_server_kit import Server


@pytest.fixture
def editor(server: Server) -> dict[str, str]:
    return add_user(server, "guard-adot", "editor", "adot")


def test_a_missing_lao_translation_and_an_undrawable_character_are_named(
    server: Server, editor: dict[str, str]
) -> None:
    items = [
        text_item("greeting", vi=("Xin chào", "Chào mừng đến A Đớt")),
        text_item("rules", vi=("Quy định", "Xuất trình hộ chiếu"), lo=("ກົດລະບຽບ", "ກ ก")),
    ]
    body = {"id": "adot-night", **playlist_body("adot", items)}
    unsaved = server.client.post("/api/v1/playlists/check", json=body, headers=editor)
    assert unsaved.status_code == 200, unsaved.text
    assert server.client.get("/api/v1/playlists/adot-night", headers=editor).status_code == 404
    got = unsaved.json()
    assert got["publishable"] is False
    found = {(f["item_id"], f["language"], f["problem"]) for f in got["findings"]}
    assert found == {
        ("greeting", "lo", "missing-required"),
        ("greeting", "en", "missing-shown"),
        ("rules", "en", "missing-shown"),
        ("rules", "lo", "undrawable"),
    }
    thai = next(f for f in got["findings"] if f["problem"] == "undrawable")
    assert thai["chars"] == ["U+0E01 'ก' (Thai)"] and thai["blocking"] is True

    server.client.post("/api/v1/playlists", json=body, headers=editor)
    saved = server.client.get("/api/v1/playlists/adot-night/check", headers=editor).json()
    assert saved == got
    # publish refuses exactly what the check called blocking
    refused = server.client.post("/api/v1/playlists/adot-night/publish", headers=editor)
    assert refused.status_code == 422 and "item greeting lacks lo" in refused.json()["detail"]


def test_a_fixed_draft_is_publishable_with_only_fallback_warnings(
    server: Server, editor: dict[str, str]
) -> None:
    items = [text_item("greeting", vi=("Xin chào", "Chào mừng"), lo=("ສະບາຍດີ", "ຍິນດີຕ້ອນຮັບ"))]
    body = {"id": "adot-night", **playlist_body("adot", items)}
    server.client.post("/api/v1/playlists", json=body, headers=editor)
    got = server.client.get("/api/v1/playlists/adot-night/check", headers=editor).json()
    assert got["publishable"] is True
    assert [(f["language"], f["blocking"]) for f in got["findings"]] == [("en", False)]
    assert (
        server.client.post("/api/v1/playlists/adot-night/publish", headers=editor).status_code
        == 200
    )


def test_another_gates_playlist_cannot_be_checked(server: Server) -> None:
    other = add_user(server, "guard-hongvan", "editor", "hongvan")
    assert (
        server.client.get("/api/v1/playlists/adot-welcome/check", headers=other).status_code == 404
    )
    body = {"id": "adot-x", **playlist_body("adot", [text_item("a", vi=("A", "B"))])}
    assert (
        server.client.post("/api/v1/playlists/check", json=body, headers=other).status_code == 404
    )
