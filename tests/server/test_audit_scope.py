"""The audit log is scoped to the sites of the admin who reads it: an admin of A Đớt
sees nothing of Hồng Vân; an admin of every site sees everything."""

from __future__ import annotations

import json
from typing import Any

from tests.server.api_kit import add_user, playlist_body, sign_in, text_item
from tests.server.content_server_kit import Server


def _audit(server: Server, auth: dict[str, str], **params: Any) -> list[dict[str, Any]]:
    r = server.client.get("/api/v1/audit", params={"limit": 1000, **params}, headers=auth)
    assert r.status_code == 200, r.text
    entries: list[dict[str, Any]] = r.json()
    return entries


def _playlist(server: Server, auth: dict[str, str], site: str, playlist_id: str) -> None:
    item = text_item("notice", vi=("Thông báo", "Nội dung"), lo=("ແຈ້ງການ", "ເນື້ອໃນ"))
    body = {"id": playlist_id, **playlist_body(site, [item])}
    r = server.client.post("/api/v1/playlists", json=body, headers=auth)
    assert r.status_code == 201, r.text


def test_an_admin_of_a_dot_sees_nothing_of_hong_van(server: Server, admin_password: str) -> None:
    root = sign_in(server, "admin", admin_password)
    chief = add_user(server, "adot-chief", "admin", "adot")
    adot_guard = add_user(server, "adot-guard", "editor", "adot-hall")
    hv_guard = add_user(server, "hv-guard", "editor", "hongvan")
    _playlist(server, adot_guard, "adot-hall", "adot-hall-queue-notice")
    _playlist(server, hv_guard, "hongvan", "hongvan-secret-notice")
    new_user = {"username": "hv-2", "password": "0123456789", "role": "viewer"}
    r = server.client.post("/api/v1/users", json={**new_user, "site_id": "hongvan"}, headers=root)
    assert r.status_code == 201
    r = server.client.post("/api/v1/devices/hongvan-1/revoke", headers=root)
    assert r.status_code == 200, r.text

    everything = _audit(server, root)
    seen_by_root = json.dumps(everything, ensure_ascii=False)
    for mark in (
        "hongvan-secret-notice",
        "hv-guard",
        "hv-2",
        "hongvan-1",
        "adot-hall-queue-notice",
    ):
        assert mark in seen_by_root
    assert any(e["action"] == "import" for e in everything)

    scoped = _audit(server, chief)
    seen_by_chief = json.dumps(scoped, ensure_ascii=False)
    assert "adot-hall-queue-notice" in seen_by_chief  # a change at a site below A Đớt
    assert {"adot-guard", "adot-chief"} <= {e["user"] for e in scoped if e["action"] == "sign-in"}
    for mark in ("hongvan", "hv-guard", "hv-2"):
        assert mark not in seen_by_chief, f"{mark} leaked to the admin of A Đớt"
    assert not any(e["action"] == "import" for e in scoped)  # all sites: not theirs

    # Filters and pages count only what the admin may see.
    assert _audit(server, chief, user="hv-guard") == []
    page = _audit(server, chief, limit=2, offset=1)
    assert [e["id"] for e in page] == [e["id"] for e in scoped[1:3]]
