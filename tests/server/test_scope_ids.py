"""Scoping of new ids and of page images: what a guard of one gate can learn of another.

An editor of A Đớt who tries ids of Hồng Vân gets one answer (403) whether the id is
taken there or not, so the names of another gate's playlists, groups, pages and users
do not leak; "exists already" (409) only for ids of their own sites. A kiosk page may
show only an image uploaded at one of the editor's sites.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.server.api_kit import PASSWORD, add_user, playlist_body, text_item
from tests.server.content_server_kit import Server

Body = Callable[[str, str], dict[str, Any]]


def _playlist(new_id: str, site: str) -> dict[str, Any]:
    item = text_item("hello", vi=("Xin chào", "Chào mừng"), lo=("ສະບາຍດີ", "ຍິນດີຕ້ອນຮັບ"))
    return {"id": new_id, **playlist_body(site, [item])}


def _group(new_id: str, site: str) -> dict[str, Any]:
    return {"id": new_id, "site_id": site, "name": "Màn hình", "members": []}


def _page(new_id: str, site: str) -> dict[str, Any]:
    return {"id": new_id, "site_id": site, "kind": "category", "variants": {"vi": {"title": "Hỏi"}}}


def _user(new_id: str, site: str) -> dict[str, Any]:
    return {"username": new_id, "password": PASSWORD, "role": "viewer", "site_id": site}


RESOURCES = {
    "playlists": (_playlist, "editor", "id"),
    "groups": (_group, "editor", "id"),
    "pages": (_page, "editor", "id"),
    "users": (_user, "admin", "username"),
}


def _ids(server: Server, resource: str, auth: dict[str, str], key: str) -> set[str]:
    r = server.client.get(f"/api/v1/{resource}", headers=auth)
    assert r.status_code == 200, r.text
    return {x[key] for x in r.json()}


@pytest.mark.parametrize("resource", sorted(RESOURCES))
def test_ids_of_another_gate_get_one_answer_whether_they_exist_or_not(
    server: Server, admin_password: str, resource: str
) -> None:
    body, role, key = RESOURCES[resource]
    root = add_user(server, "root-2", "admin", None)
    # What Hồng Vân has: a prefixed id and an unprefixed one.
    for taken in ("hongvan-taken", "lobby"):
        r = server.client.post(f"/api/v1/{resource}", json=body(taken, "hongvan"), headers=root)
        assert r.status_code == 201, r.text
    adot = add_user(server, "guard-adot", role, "adot")
    everything = _ids(server, resource, root, key)

    answers = {}
    for tried in ("hongvan-taken", "hongvan-never-made", "lobby"):
        r = server.client.post(f"/api/v1/{resource}", json=body(tried, "adot"), headers=adot)
        assert r.status_code == 403, r.text
        assert r.headers["content-type"] == "application/problem+json"
        answers[tried] = r.json()["detail"].replace(repr(tried), "<id>")
    # The same words for a taken and a free id: nothing tells one from the other.
    assert len(set(answers.values())) == 1, answers
    assert "adot-" in answers["lobby"]  # and it says what to do instead
    assert _ids(server, resource, root, key) == everything  # nothing stored

    # At its own sites, a guard is told an id is taken, and can use a free one.
    r = server.client.post(f"/api/v1/{resource}", json=body("adot-new", "adot"), headers=adot)
    assert r.status_code == 201, r.text
    r = server.client.post(f"/api/v1/{resource}", json=body("adot-new", "adot"), headers=adot)
    assert r.status_code == 409 and "exists already" in r.json()["detail"]
    # One of the sites below: its own name space is the guard's too.
    r = server.client.post(
        f"/api/v1/{resource}", json=body("adot-hall-extra", "adot-hall"), headers=adot
    )
    assert r.status_code == 201, r.text


def test_an_all_sites_admin_is_told_any_id_is_taken(server: Server) -> None:
    root = add_user(server, "root-2", "admin", None)
    r = server.client.post("/api/v1/playlists", json=_playlist("hongvan-welcome", "adot"),
                           headers=root)  # fmt: skip
    assert r.status_code == 409 and "exists already" in r.json()["detail"]


def _asset(server: Server, playlist_id: str) -> str:
    """The media of an imported playlist, owned by its site as an upload there would be."""
    p = server.state.store.playlist(playlist_id)
    assert p is not None
    item = next(i for i in p.items if i["kind"] != "text")
    sha = str(next(iter(item["variants"].values()))["asset"])
    server.state.store.add_asset_owner(sha, p.site_id, "file", "2026-01-01T00:00:00Z", "test")
    return sha


def test_a_page_shows_only_an_image_of_the_editors_sites(server: Server) -> None:
    editor = add_user(server, "guard-adot", "editor", "adot")
    hongvan_photo = _asset(server, "hongvan-welcome")  # uploaded for Hồng Vân
    hall_video = _asset(server, "adot-hall-video")  # A Đớt's, but a video
    gate_map = _asset(server, "adot-welcome")  # A Đớt's image

    def page(sha: str) -> Any:
        body = {"id": "adot-map", "site_id": "adot", "kind": "page",
                "variants": {"vi": {"title": "Sơ đồ", "image": sha}}}  # fmt: skip
        return server.client.post("/api/v1/pages", json=body, headers=editor)

    r = page(hongvan_photo)
    assert r.status_code == 422, r.text
    assert "does not exist at the sites you manage" in r.json()["detail"]
    r = page(hall_video)
    assert r.status_code == 422, r.text
    assert "not an image" in r.json()["detail"]
    assert [p.id for p in server.state.store.pages()] == []

    r = page(gate_map)
    assert r.status_code == 201, r.text
    # Editing is held to the same rule.
    body = {"id": "adot-map", "site_id": "adot", "kind": "page",
            "variants": {"vi": {"title": "Sơ đồ", "image": hongvan_photo}}}  # fmt: skip
    r = server.client.put("/api/v1/pages/adot-map", json=body, headers=editor)
    assert r.status_code == 422, r.text
    assert server.state.store.pages()[0].variants["vi"]["image"] == gate_map
