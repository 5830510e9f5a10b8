"""Playlists through the API: drafts, missing-language warnings, refusals, publish, roll back."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from signage_core.timefmt import format_time
from tests.server.api_kit import add_user, playlist_body, stored_state, text_item
from tests.server.content_server_kit import NOW, Server

HELLO_VI = ("Xin chào", "Chào mừng đến cửa khẩu")
HELLO_LO = ("ສະບາຍດີ", "ຍິນດີຕ້ອນຮັບ")


@pytest.fixture
def editor(server: Server) -> dict[str, str]:
    return add_user(server, "guard-adot", "editor", "adot")


def manifest(server: Server, device: str = "adot-hall-1") -> dict[str, Any]:
    r = server.client.get(f"/api/v1/devices/{device}/manifest", headers=server.auth(device))
    assert r.status_code == 200
    signed: dict[str, Any] = r.json()["signed"]
    return signed


def test_a_draft_warns_of_missing_lao_refuses_to_publish_then_publishes_when_fixed(
    server: Server, editor: dict[str, str]
) -> None:
    only_vi = playlist_body("adot", [text_item("greeting", vi=HELLO_VI)], priority=20)
    r = server.client.post(
        "/api/v1/playlists", json={"id": "adot-night", **only_vi}, headers=editor
    )
    assert r.status_code == 201, r.text
    assert r.json()["live"] is None and r.json()["unpublished_changes"] is True
    assert any("item greeting lacks lo" in w for w in r.json()["warnings"])
    version_before = manifest(server)["version"]

    r = server.client.post("/api/v1/playlists/adot-night/publish", headers=editor)
    assert r.status_code == 422
    assert r.json()["detail"] == (
        "playlist adot-night was not published: item greeting lacks lo (required at site adot)"
    )
    assert manifest(server)["version"] == version_before  # nothing signed

    fixed = playlist_body("adot", [text_item("greeting", vi=HELLO_VI, lo=HELLO_LO)], priority=20)
    r = server.client.put("/api/v1/playlists/adot-night", json=fixed, headers=editor)
    assert not [w for w in r.json()["warnings"] if "lo" in w.split("lacks")[-1]]
    r = server.client.post("/api/v1/playlists/adot-night/publish", headers=editor)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["devices"] == ["adot-hall-1"] and out["revision"] == 1
    assert out["version"] > version_before
    m = manifest(server)
    assert m["version"] == out["version"]
    night = next(p for p in m["playlists"] if p["id"] == "adot-night")
    assert night["items"][0]["variants"]["lo"] == {"title": HELLO_LO[0], "body": HELLO_LO[1]}
    # Hồng Vân's device was not touched.
    assert manifest(server, "hongvan-1")["version"] < out["version"]


def test_a_character_no_device_font_draws_is_refused_by_name(
    server: Server, editor: dict[str, str]
) -> None:
    thai = text_item("greeting", vi=HELLO_VI, lo=("ກ ສະບາຍດີ ก", "ok"))
    r = server.client.post(
        "/api/v1/playlists", json={"id": "adot-welcome-2", **playlist_body("adot", [thai])},
        headers=editor,
    )  # fmt: skip
    assert r.status_code == 201
    r = server.client.post("/api/v1/playlists/adot-welcome-2/publish", headers=editor)
    assert r.status_code == 422
    assert (
        "item greeting, lo: U+0E01 'ก' (Thai) cannot be drawn by the device fonts"
        in (r.json()["detail"])
    )


def test_arrows_and_signs_publish_and_a_character_no_shipped_font_has_is_refused(
    server: Server, editor: dict[str, str]
) -> None:
    """→ ≈ ✓ ⚠ are drawn by the shipped fallback fonts; U+E000 by none of them."""
    signs = text_item(
        "way", vi=("Lối ra → Cổng 2", "≈ 50 m ✓ ⚠ ≤ 5 phút"), lo=("ທາງອອກ → ປະຕູ 2", "≈ 50 ມ ✓")
    )
    body = playlist_body("adot", [signs])
    r = server.client.post("/api/v1/playlists", json={"id": "adot-way", **body}, headers=editor)
    assert r.status_code == 201, r.text
    r = server.client.post("/api/v1/playlists/adot-way/publish", headers=editor)
    assert r.status_code == 200, r.text
    published = next(p for p in manifest(server)["playlists"] if p["id"] == "adot-way")
    assert published["items"][0]["variants"]["vi"]["title"] == "Lối ra → Cổng 2"

    private = text_item("way", vi=("Lối ra → \ue000", "b"), lo=("ທາງອອກ", "b"))
    r = server.client.put(
        "/api/v1/playlists/adot-way", json=playlist_body("adot", [private]), headers=editor
    )
    assert r.status_code == 200, r.text
    r = server.client.post("/api/v1/playlists/adot-way/publish", headers=editor)
    assert r.status_code == 422
    detail = r.json()["detail"]
    assert "item way, vi: U+E000" in detail and "cannot be drawn" in detail, detail
    assert "2192" not in detail  # the arrow is not what is refused


def test_rollback_resigns_old_content_with_a_higher_version(
    server: Server, editor: dict[str, str]
) -> None:
    def put_and_publish(title: str) -> dict[str, Any]:
        body = playlist_body("adot", [text_item("t", vi=(title, "b"), lo=("ສະບາຍດີ", "b"))])
        server.client.put("/api/v1/playlists/adot-welcome", json=body, headers=editor)
        r = server.client.post("/api/v1/playlists/adot-welcome/publish", headers=editor)
        assert r.status_code == 200, r.text
        out: dict[str, Any] = r.json()
        return out

    first = put_and_publish("Một")
    second = put_and_publish("Hai")
    assert second["version"] > first["version"]
    r = server.client.post(
        "/api/v1/playlists/adot-welcome/rollback", json={"revision": first["revision"]},
        headers=editor,
    )  # fmt: skip
    assert r.status_code == 200, r.text
    back = r.json()
    assert back["version"] > second["version"] and back["revision"] == second["revision"] + 1
    m = manifest(server)
    assert m["version"] == back["version"]
    welcome = next(p for p in m["playlists"] if p["id"] == "adot-welcome")
    assert welcome["items"][0]["variants"]["vi"]["title"] == "Một"
    revisions = server.client.get("/api/v1/playlists/adot-welcome/revisions", headers=editor)
    assert [x["note"] for x in revisions.json()][-1] == f"rollback to revision {first['revision']}"
    r = server.client.post(
        "/api/v1/playlists/adot-welcome/rollback", json={"revision": 99}, headers=editor
    )
    assert r.status_code == 422 and "no published revision 99" in r.json()["detail"]
    audit = server.state.store.audit_log()
    mine = [a.action for a in audit if a.target == "playlist adot-welcome"]
    assert [a for a in mine if a != "edit playlist"][-3:] == ["publish", "publish", "rollback"]
    assert all(a.address == "testclient" for a in audit if a.user == "guard-adot")


def test_a_site_setting_sets_the_manifest_lifetime(
    server: Server, admin_password: str, editor: dict[str, str]
) -> None:
    from tests.server.api_kit import sign_in

    admin = sign_in(server, "admin", admin_password)
    r = server.client.put(
        "/api/v1/sites/adot/settings", json={"manifest_ttl_days": 3}, headers=admin
    )
    assert r.status_code == 200 and r.json()["manifest_ttl_days"] == 3
    server.client.post("/api/v1/playlists/adot-welcome/publish", headers=editor)
    m = manifest(server)
    assert m["expires_at"] == format_time(NOW + timedelta(days=3))


def test_a_video_item_must_use_a_video_asset_of_a_managed_site(
    server: Server, editor: dict[str, str]
) -> None:
    hv_photo = next(a for a, t in server.state.asset_types.items() if t == "image/jpeg")
    item = {"id": "v", "kind": "video", "duration_s": 5, "variants": {"vi": {"asset": hv_photo}}}
    r = server.client.post(
        "/api/v1/playlists", json={"id": "adot-v", **playlist_body("adot", [item])}, headers=editor
    )
    assert r.status_code == 422 and "does not exist at the sites you manage" in r.json()["detail"]


MISSING = "0" * 64
ASSET_ONLY = {"vi": {"asset": MISSING}}
BAD_PLAYLISTS: dict[str, tuple[dict[str, Any], str]] = {
    "schedule ends before it starts": (
        {"schedule": {"start_date": "2027-01-31", "end_date": "2026-12-01"}},
        "the schedule ends (2026-12-01) before it starts (2027-01-31)",
    ),
    "window ends when it starts": (
        {"schedule": {"windows": [{"start": "07:00", "end": "07:00"}]}},
        "the window ends when it starts",
    ),
    "unknown language": (
        {"items": [text_item("x", vi=HELLO_VI, xx=("a", "b"))]},
        "unknown language 'xx'",
    ),
    "missing asset": (
        {"items": [{"id": "m", "kind": "image", "duration_s": 5, "variants": ASSET_ONLY}]},
        "asset 000000000000… does not exist",
    ),
    "unknown field": ({"colour": "red"}, "colour: Extra inputs are not permitted"),
    "unknown item field": (
        {"items": [{**text_item("x", vi=HELLO_VI), "sound": "loud"}]},
        "sound: Extra inputs are not permitted",
    ),
    "foreign site": ({"site_id": "hongvan"}, "no site 'hongvan' among the sites you manage"),
    "duplicate item ids": (
        {"items": [text_item("x", vi=HELLO_VI), text_item("x", vi=HELLO_VI)]},
        "item id 'x' is used twice",
    ),
    "text item with an asset": (
        {"items": [{"id": "x", "kind": "text", "duration_s": 5, "variants": ASSET_ONLY}]},
        "a text item has a title and/or a body",
    ),
}  # fmt: skip


@pytest.mark.parametrize(("change", "words"), BAD_PLAYLISTS.values(), ids=BAD_PLAYLISTS)
def test_a_bad_playlist_is_refused_with_a_clear_message_and_nothing_is_stored(
    server: Server, editor: dict[str, str], change: dict[str, Any], words: str
) -> None:
    body = {"id": "adot-new", **playlist_body("adot", [text_item("x", vi=HELLO_VI)]), **change}
    before = stored_state(server)
    r = server.client.post("/api/v1/playlists", json=body, headers=editor)
    assert r.status_code in (404, 422), r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert words in r.json()["detail"]
    assert stored_state(server) == before
    put = {k: v for k, v in body.items() if k != "id"}
    r = server.client.put("/api/v1/playlists/adot-welcome", json=put, headers=editor)
    assert r.status_code in (404, 422) and words in r.json()["detail"]
    assert stored_state(server) == before


def test_json_that_is_not_utf8_is_a_400_problem(server: Server, editor: dict[str, str]) -> None:
    before = stored_state(server)
    raw = json.dumps({"id": "x", "site_id": "adot"}).encode().replace(b"adot", b"\xff\xfe")
    r = server.client.post(
        "/api/v1/playlists", content=raw, headers={**editor, "Content-Type": "application/json"}
    )
    assert r.status_code == 400 and r.headers["content-type"] == "application/problem+json"
    assert "send valid JSON in UTF-8" in r.json()["detail"]
    assert stored_state(server) == before


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/api/v1/playlists", {"sort": "name; DROP TABLE playlists"}),
        ("/api/v1/assets", {"sort": "password_hash"}),
        ("/api/v1/audit", {"limit": "-1"}),
        ("/api/v1/reports/plays", {"since": "2026-12-01", "until": "yesterday"}),
    ],
)
def test_sort_and_filter_parameters_must_be_allowed_names(
    server: Server, admin_password: str, path: str, params: dict[str, str]
) -> None:
    from tests.server.api_kit import sign_in

    r = server.client.get(path, params=params, headers=sign_in(server, "admin", admin_password))
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert "the request is not valid" in r.json()["detail"]


def test_a_report_that_ends_before_it_starts_is_refused(
    server: Server, editor: dict[str, str]
) -> None:
    r = server.client.get(
        "/api/v1/reports/plays",
        params={"since": "2026-12-02", "until": "2026-12-01"},
        headers=editor,
    )
    assert r.status_code == 422 and "ends (2026-12-01) before it starts" in r.json()["detail"]
