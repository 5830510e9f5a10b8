"""Signing in, and the admin lists: a user sees the sites they manage and below."""

from __future__ import annotations

from datetime import timedelta

import pytest

from content_server.accounts import SIGN_IN_REFUSED, hash_password
from content_server.models import User
from signage_core.timefmt import format_time
from tests.server.content_server_kit import Server


def sign_in(server: Server, username: str, password: str) -> dict[str, str]:
    r = server.client.post("/api/v1/auth/token", data={"username": username, "password": password})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == server.settings.token_ttl_minutes * 60
    return {"Authorization": f"Bearer {body['access_token']}"}


def test_an_admin_sees_every_site_device_and_playlist(server: Server, admin_password: str) -> None:
    auth = sign_in(server, "admin", admin_password)
    sites = server.client.get("/api/v1/sites", headers=auth).json()
    assert {s["id"] for s in sites} == {"hue", "adot", "adot-hall", "hongvan"}
    adot = next(s for s in sites if s["id"] == "adot")
    assert adot["languages"] == ["vi", "lo", "en"]  # inherited
    devices = server.client.get("/api/v1/devices", headers=auth).json()
    assert {d["id"]: d["site_id"] for d in devices} == {
        "adot-hall-1": "adot-hall",
        "hongvan-1": "hongvan",
    }
    assert all(d["manifest_version"] for d in devices)
    playlists = server.client.get("/api/v1/playlists", headers=auth).json()
    assert len(playlists) == 4


def test_a_user_of_one_gate_sees_only_that_gate(server: Server) -> None:
    server.state.store.add_user(
        User("guard-adot", hash_password("a long password"), "editor", "adot"),
        format_time(server.clock[0]),
    )
    auth = sign_in(server, "guard-adot", "a long password")
    assert {s["id"] for s in server.client.get("/api/v1/sites", headers=auth).json()} == {
        "adot",
        "adot-hall",
    }
    assert [d["id"] for d in server.client.get("/api/v1/devices", headers=auth).json()] == [
        "adot-hall-1"
    ]
    assert {p["id"] for p in server.client.get("/api/v1/playlists", headers=auth).json()} == {
        "adot-welcome",
        "adot-hall-video",
    }


@pytest.mark.parametrize(("username", "password"), [("admin", "wrong"), ("nobody", "wrong")])
def test_a_wrong_password_is_401_and_audited(server: Server, username: str, password: str) -> None:
    r = server.client.post("/api/v1/auth/token", data={"username": username, "password": password})
    assert r.status_code == 401
    assert r.json()["detail"] == SIGN_IN_REFUSED
    last = server.state.store.audit_log()[-1]
    assert (last.user, last.action) == (username, "sign-in refused")


def test_admin_lists_need_a_valid_unexpired_token(server: Server, admin_password: str) -> None:
    assert server.client.get("/api/v1/sites").status_code == 401
    assert server.client.get("/api/v1/sites", headers=server.auth()).status_code == 401
    auth = sign_in(server, "admin", admin_password)
    assert server.client.get("/api/v1/sites", headers=auth).status_code == 200
    server.clock[0] += timedelta(minutes=server.settings.token_ttl_minutes + 1)
    r = server.client.get("/api/v1/sites", headers=auth)
    assert r.status_code == 401
    assert "expired" in r.json()["detail"]


def test_only_the_hash_of_a_token_is_stored(server: Server, admin_password: str) -> None:
    auth = sign_in(server, "admin", admin_password)
    token = auth["Authorization"].removeprefix("Bearer ")
    assert token not in server.state.store.dump()
    assert server.tokens["adot-hall-1"] not in server.state.store.dump()
