"""Accounts: users made and disabled by admins, own password changes, throttled sign-in,
and the audit log: written for every change, read by admins, never changed."""

from __future__ import annotations

import sqlite3

import pytest

from tests.server.api_kit import PASSWORD, add_user, sign_in
from tests.server.content_server_kit import Server


def _token(server: Server, username: str, password: str) -> int:
    data = {"username": username, "password": password}
    return server.client.post("/api/v1/auth/token", data=data).status_code


def test_an_admin_creates_lists_and_disables_a_user(server: Server, admin_password: str) -> None:
    admin = sign_in(server, "admin", admin_password)
    body = {
        "username": "guard-adot",
        "password": "ten chars!!",
        "role": "editor",
        "site_id": "adot",
    }
    r = server.client.post("/api/v1/users", json=body, headers=admin)
    assert r.status_code == 201, r.text
    assert r.json() == {
        "username": "guard-adot",
        "role": "editor",
        "site_id": "adot",
        "disabled": False,
    }
    assert "ten chars!!" not in server.state.store.dump()
    guard = sign_in(server, "guard-adot", "ten chars!!")
    assert server.client.get("/api/v1/sites", headers=guard).status_code == 200
    users = server.client.get("/api/v1/users", headers=admin).json()
    assert {u["username"] for u in users} == {"admin", "guard-adot"}

    r = server.client.post("/api/v1/users/guard-adot/disable", headers=admin)
    assert r.json()["disabled"] is True
    assert server.client.get("/api/v1/sites", headers=guard).status_code == 401
    assert _token(server, "guard-adot", "ten chars!!") == 401
    actions = [e["action"] for e in server.client.get("/api/v1/audit", headers=admin).json()]
    assert "create user" in actions and "disable user" in actions


def _user(**change: object) -> dict[str, object]:
    return {"username": "ed", "password": "0123456789", "role": "editor", "site_id": "adot",
            **change}  # fmt: skip


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        (_user(username="x y"), 422, "username"),
        (_user(password="123"), 422, "password"),
        (_user(site_id=None), 422, "site_id"),
        (_user(role="boss"), 422, "role"),
        (_user(site_id="nowhere"), 404, "nowhere"),
        (_user(username="admin", role="admin", site_id=None), 409, "exists"),
        (_user(is_root=True), 422, "is_root"),
    ],
)
def test_a_bad_user_is_refused_and_nothing_is_stored(
    server: Server, admin_password: str, body: dict[str, object], status: int, words: str
) -> None:
    admin = sign_in(server, "admin", admin_password)
    before = server.state.store.users()
    r = server.client.post("/api/v1/users", json=body, headers=admin)
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert words in r.text
    assert server.state.store.users() == before


def test_a_scoped_admin_manages_only_users_of_its_sites(server: Server) -> None:
    gate_admin = add_user(server, "adot-chief", "admin", "adot")
    body = {"username": "hv", "password": "0123456789", "role": "editor", "site_id": "hongvan"}
    assert server.client.post("/api/v1/users", json=body, headers=gate_admin).status_code == 404
    assert server.client.post("/api/v1/users/admin/disable", headers=gate_admin).status_code == 404


def test_a_user_changes_their_own_password(server: Server) -> None:
    auth = add_user(server, "guard", "editor", "adot")
    wrong = {"current_password": "not it at all", "new_password": "new password 2"}
    r = server.client.put("/api/v1/users/me/password", json=wrong, headers=auth)
    assert r.status_code == 422 and "current password is wrong" in r.json()["detail"]
    good = {"current_password": PASSWORD, "new_password": "new password 2"}
    assert (
        server.client.put("/api/v1/users/me/password", json=good, headers=auth).status_code == 204
    )
    # Old tokens and the old password stop working; the new one works.
    assert server.client.get("/api/v1/sites", headers=auth).status_code == 401
    assert _token(server, "guard", PASSWORD) == 401
    assert _token(server, "guard", "new password 2") == 200


def test_sign_in_is_throttled_per_user_name_with_retry_after(server: Server) -> None:
    limit = server.settings.login_max_failures
    for _ in range(limit):
        assert _token(server, "admin", "wrong") == 401
    r = server.client.post("/api/v1/auth/token", data={"username": "admin", "password": "x"})
    assert r.status_code == 429
    assert r.headers["content-type"] == "application/problem+json"
    assert int(r.headers["retry-after"]) > 0
    assert "wait" in r.json()["detail"]
    # Even the right password waits; another user name is not locked by this.
    assert _token(server, "admin", "correct horse battery") == 429
    add_user(server, "other", "viewer", "adot")


def test_sign_in_is_throttled_per_client_address(server: Server) -> None:
    limit = server.settings.login_max_failures_per_address
    for i in range(limit):
        assert _token(server, f"nobody-{i}", "wrong") == 401
    assert _token(server, "someone-else", "wrong") == 429


def test_the_audit_log_is_for_admins_and_cannot_be_changed(
    server: Server, admin_password: str
) -> None:
    admin = sign_in(server, "admin", admin_password)
    entries = server.client.get("/api/v1/audit", params={"action": "sign-in"}, headers=admin).json()
    assert entries and all(e["action"] == "sign-in" for e in entries)
    assert entries[0]["address"] == "testclient"
    for method in ("PUT", "PATCH", "DELETE"):
        assert server.client.request(method, "/api/v1/audit", headers=admin).status_code == 405
    conn = sqlite3.connect(server.settings.db_path)
    try:
        for sql in ("UPDATE audit SET user = 'someone'", "DELETE FROM audit"):
            with pytest.raises(sqlite3.DatabaseError, match="write-once"):
                conn.execute(sql)
    finally:
        conn.close()
