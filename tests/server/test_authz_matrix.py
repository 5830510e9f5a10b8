"""Object-level authorisation, as a matrix: every role × every resource × own/foreign site.

The users are an admin of everything, and an editor and a viewer of A Đớt
(``adot``). "Own" content is A Đớt's, "foreign" is Hồng Vân's. An editor or a
viewer of A Đớt never gets Hồng Vân's data: 404 (it "does not exist" for them)
or 403, and the answer names nothing of it. A viewer never writes.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import pytest

from tests.server.api_kit import add_user, image_bytes, playlist_body, text_item, upload
from tests.server.content_server_kit import (
    Server,
    data_folder,
    serving,
    write_content,
)

SITES = {"own": "adot", "foreign": "hongvan"}
PLAYLISTS = {"own": "adot-welcome", "foreign": "hongvan-welcome"}
DEVICES = {"own": "adot-hall-1", "foreign": "hongvan-1"}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("matrix")
    devices = {"adot-hall-1": "adot-hall", "hongvan-1": "hongvan"}
    with serving(data_folder(tmp), write_content(tmp / "playlists"), devices) as server:
        client = server.client
        auth = {
            "admin": add_user(server, "root", "admin", None),
            "editor": add_user(server, "guard-adot", "editor", "adot"),
            "viewer": add_user(server, "watch-adot", "viewer", "adot"),
        }
        ids: dict[str, dict[str, str]] = {"asset": {}, "page": {}, "group": {}, "notice": {}}
        for side, site in SITES.items():
            r = upload(server, auth["admin"], site, f"{site}.png", image_bytes(seed=len(site)))
            assert r.status_code == 201, r.text
            ids["asset"][side] = r.json()["sha256"]
            page = {"id": f"{site}-info", "site_id": site, "kind": "category",
                    "variants": {"vi": {"title": "Thông tin"}, "lo": {"title": "ຂໍ້ມູນ"}}}  # fmt: skip
            assert client.post("/api/v1/pages", json=page, headers=auth["admin"]).status_code == 201
            ids["page"][side] = page["id"]
            group = {"id": f"{site}-screens", "site_id": site, "name": "Màn hình",
                     "members": [DEVICES[side]]}  # fmt: skip
            assert client.post("/api/v1/groups", json=group, headers=auth["admin"]).is_success
            ids["group"][side] = group["id"]
            r = client.put(f"/api/v1/layouts/{site}", json={}, headers=auth["admin"])
            assert r.status_code == 200, r.text
            notice = {"id": f"{site}-notice", **_notice_put(side, {})}
            r = client.post("/api/v1/notices", json=notice, headers=auth["admin"])
            assert r.status_code == 201, r.text
            ids["notice"][side] = notice["id"]
            r = client.post(f"/api/v1/playlists/{PLAYLISTS[side]}/publish", headers=auth["admin"])
            assert r.status_code == 200, r.text
        yield {"server": server, "auth": auth, "ids": ids}


_counter = itertools.count()


def _playlist_put(side: str, w: dict[str, Any]) -> dict[str, Any]:
    item = text_item("hello", vi=("Xin chào", "Chào"), lo=("ສະບາຍດີ", "ສະບາຍດີ"))
    return playlist_body(SITES[side], [item])


def _page_put(side: str, w: dict[str, Any]) -> dict[str, Any]:
    return {"id": w["ids"]["page"][side], "site_id": SITES[side], "kind": "category",
            "variants": {"vi": {"title": "Thông tin"}}}  # fmt: skip


def _new_playlist(side: str, w: dict[str, Any]) -> dict[str, Any]:
    item = text_item("hello", vi=("Xin chào", "Chào"), lo=("ສະບາຍດີ", "ສະບາຍດີ"))
    return {"id": f"new-{next(_counter)}", **playlist_body(SITES[side], [item])}


def _new_page(side: str, w: dict[str, Any]) -> dict[str, Any]:
    return {"id": f"page-{next(_counter)}", "site_id": SITES[side], "kind": "category",
            "variants": {"vi": {"title": "Mới"}}}  # fmt: skip


def _group_put(side: str, w: dict[str, Any]) -> dict[str, Any]:
    return {"site_id": SITES[side], "name": "Màn hình sảnh", "members": [DEVICES[side]]}


def _new_group(side: str, w: dict[str, Any]) -> dict[str, Any]:
    return {"id": f"group-{next(_counter)}", "site_id": SITES[side], "name": "Mới",
            "members": []}  # fmt: skip


def _notice_put(side: str, w: dict[str, Any]) -> dict[str, Any]:
    return {"site_id": SITES[side], "texts": {"vi": "Xin xếp hàng.", "lo": "ກະລຸນາເຂົ້າແຖວ."}}


def _new_notice(side: str, w: dict[str, Any]) -> dict[str, Any]:
    return {"id": f"{SITES[side]}-n{next(_counter)}", **_notice_put(side, w)}


def _ttl(side: str, w: dict[str, Any]) -> dict[str, Any]:
    return {"manifest_ttl_days": 20}


def _rev1(side: str, w: dict[str, Any]) -> dict[str, Any]:
    return {"revision": 1}


# (resource, method, path, body factory, who may: "read" | "write" | "admin")
ROUTES: list[tuple[str, str, str, Any, str]] = [
    ("site", "GET", "/api/v1/sites/{site}", None, "read"),
    ("site", "PUT", "/api/v1/sites/{site}/settings", _ttl, "admin"),
    ("device", "GET", "/api/v1/devices/{device}", None, "read"),
    ("playlist", "GET", "/api/v1/playlists/{playlist}", None, "read"),
    ("playlist", "GET", "/api/v1/playlists/{playlist}/revisions", None, "read"),
    ("playlist", "GET", "/api/v1/playlists/{playlist}/check", None, "read"),
    ("playlist", "PUT", "/api/v1/playlists/{playlist}", _playlist_put, "write"),
    ("playlist", "POST", "/api/v1/playlists/{playlist}/publish", None, "write"),
    ("playlist", "POST", "/api/v1/playlists/{playlist}/rollback", _rev1, "write"),
    ("playlist", "POST", "/api/v1/playlists", _new_playlist, "write"),
    ("asset", "GET", "/api/v1/assets/{asset}/info", None, "read"),
    ("asset", "GET", "/api/v1/assets/{asset}/uses", None, "read"),
    ("asset", "POST", "/api/v1/assets?site_id={site}", "upload", "write"),
    ("page", "GET", "/api/v1/pages/{page}", None, "read"),
    ("page", "PUT", "/api/v1/pages/{page}", _page_put, "write"),
    ("page", "POST", "/api/v1/pages", _new_page, "write"),
    ("page", "POST", "/api/v1/pages/publish?site_id={site}", None, "write"),
    ("group", "GET", "/api/v1/groups/{group}", None, "read"),
    ("group", "PUT", "/api/v1/groups/{group}", _group_put, "write"),
    ("group", "POST", "/api/v1/groups", _new_group, "write"),
    ("layout", "GET", "/api/v1/layouts/{site}", None, "read"),
    ("layout", "PUT", "/api/v1/layouts/{site}", lambda side, w: {}, "write"),
    ("notice", "GET", "/api/v1/notices/{notice}", None, "read"),
    ("notice", "PUT", "/api/v1/notices/{notice}", _notice_put, "write"),
    ("notice", "POST", "/api/v1/notices", _new_notice, "write"),
    ("report", "GET", "/api/v1/reports/plays?since=2026-11-01&until=2026-11-30&site_id={site}",
     None, "read"),
    ("report", "GET", "/api/v1/reports/plays?since=2026-11-01&until=2026-11-30&device_id={device}",
     None, "read-filter"),
    ("report", "GET", "/api/v1/reports/plays/daily?since=2026-11-01&until=2026-11-30"
     "&site_id={site}", None, "read"),
    ("report", "GET", "/api/v1/reports/uptime?since=2026-11-01&until=2026-11-30&site_id={site}",
     None, "read"),
    ("report", "GET", "/api/v1/reports/uptime.csv?since=2026-11-01&until=2026-11-30"
     "&site_id={site}", None, "read"),
]  # fmt: skip


def _expected(role: str, side: str, need: str) -> set[int]:
    ok = {200, 201, 204}
    if role == "admin":
        return ok
    if side == "foreign":
        return {403, 404}
    if need == "admin" or (need == "write" and role == "viewer"):
        return {403}
    return ok


@pytest.mark.parametrize("side", ["own", "foreign"])
@pytest.mark.parametrize("role", ["admin", "editor", "viewer"])
@pytest.mark.parametrize(
    ("resource", "method", "path", "body", "need"),
    ROUTES,
    ids=[f"{m} {p.split('?')[0].removeprefix('/api/v1')}" for _, m, p, _, _ in ROUTES],
)
def test_matrix(
    world: dict[str, Any], role: str, side: str, resource: str, method: str, path: str,
    body: Any, need: str,
) -> None:  # fmt: skip
    server: Server = world["server"]
    ids = world["ids"]
    url = path.format(
        site=SITES[side], playlist=PLAYLISTS[side], device=DEVICES[side],
        asset=ids["asset"][side], page=ids["page"][side], group=ids["group"][side],
        notice=ids["notice"][side],
    )  # fmt: skip
    headers = world["auth"][role]
    kwargs: dict[str, Any] = {"headers": headers}
    if body == "upload":
        kwargs["files"] = {"file": ("x.png", image_bytes(seed=next(_counter) + 100))}
    elif body is not None:
        kwargs["json"] = body(side, world)
    r = server.client.request(method, url, **kwargs)
    if need == "read-filter":
        # A filter naming a foreign device is not an error: it just finds nothing of it.
        assert r.status_code == 200
        assert role == "admin" or side == "own" or r.json() == []
        return
    assert r.status_code in _expected(role, side, need), (r.status_code, r.text)
    if r.status_code >= 400:
        assert r.headers["content-type"] == "application/problem+json"
        foreign_ids = {SITES["foreign"], PLAYLISTS["foreign"], ids["asset"]["foreign"]}
        if side == "foreign":
            # Nothing of the foreign entity but the id that was asked for.
            assert "Hồng Vân" not in r.text and "ຮົ່ງວັນ" not in r.text
            assert not any(i in r.text for i in foreign_ids - {url.split("/")[-1]} if len(i) > 20)


@pytest.mark.parametrize("role", ["editor", "viewer"])
@pytest.mark.parametrize("path", ["/api/v1/users", "/api/v1/audit"])
def test_admin_only_lists_are_forbidden_to_others(
    world: dict[str, Any], role: str, path: str
) -> None:
    r = world["server"].client.get(path, headers=world["auth"][role])
    assert r.status_code == 403
    assert r.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("role", ["editor", "viewer"])
@pytest.mark.parametrize(
    "path", ["/api/v1/playlists", "/api/v1/assets", "/api/v1/pages", "/api/v1/sites",
             "/api/v1/devices", "/api/v1/groups"],
)  # fmt: skip
def test_lists_hold_only_own_sites(world: dict[str, Any], role: str, path: str) -> None:
    r = world["server"].client.get(path, headers=world["auth"][role])
    assert r.status_code == 200
    assert r.json(), "the own site has content"
    assert "hongvan" not in r.text


def test_the_matrix_covers_every_route_that_takes_an_id(world: dict[str, Any]) -> None:
    """A new route with a path parameter must be added to ROUTES (or to the exemptions)."""
    covered = {(m, p.split("?")[0]) for _, m, p, _, _ in ROUTES}
    exempt = {
        ("GET", "/api/v1/devices/{device_id}/manifest"),  # device token, tested elsewhere
        ("POST", "/api/v1/devices/{device_id}/events"),
        ("GET", "/api/v1/assets/{sha256}"),
        ("DELETE", "/api/v1/assets/{sha256}"),  # test_asset_uses (it would delete world's)
        ("POST", "/api/v1/users/{username}/disable"),  # admins only, test_accounts
        ("DELETE", "/api/v1/pages/{page_id}"),  # test_pages
        ("DELETE", "/api/v1/groups/{group_id}"),  # test_groups
        ("DELETE", "/api/v1/layouts/{site_id}"),  # they would delete the world's
        ("DELETE", "/api/v1/notices/{notice_id}"),
        # they change the world's devices: test_enrol_api (404 for another gate, 403 editor)
        ("POST", "/api/v1/devices/{device_id}/rekey"),
        ("POST", "/api/v1/devices/{device_id}/revoke"),
    }
    names = {"site_id": "site", "playlist_id": "playlist", "device_id": "device",
             "sha256": "asset", "page_id": "page", "group_id": "group",
             "notice_id": "notice"}  # fmt: skip
    # The OpenAPI document lists every route with its full path: newer FastAPI keeps
    # included routers nested in app.routes, where a walk finds no /api/v1 route at all.
    paths: dict[str, dict[str, Any]] = world["server"].app.openapi()["paths"]
    assert sum(p.startswith("/api/v1/") for p in paths) > 20, "the route walk found the API"
    missing = []
    for path, operations in paths.items():
        if "{" not in path or not path.startswith("/api/v1/"):
            continue
        for method in (m.upper() for m in operations):
            if (method, path) in exempt or path.startswith(("/api/v1/alerts", "/api/v1/fleet")):
                continue
            if "/commands" in path or "/screenshot" in path or "/alerts" in path:
                continue  # the fleet helper's routes, covered by its own tests
            shown = path
            for k, v in names.items():
                shown = shown.replace("{" + k + "}", "{" + v + "}")
            if (method, shown) not in covered:
                missing.append(f"{method} {path}")
    assert not missing, f"routes with an id but not in the matrix: {missing}"
