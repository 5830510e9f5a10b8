"""GET /api/v1/devices/{id}/manifest: signed, for this device only, cheap when unchanged."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from content_server.accounts import token_hash
from content_server.app import create_app
from content_server.fastpath import ManifestFastPath
from content_server.keys import load_signing_key
from content_server.publishing import publish
from signage_core.errors import RefusedError
from signage_core.signing import PublicKey
from signage_core.timefmt import format_time
from signage_core.trust import TrustContext, accept_manifest
from tests.server.content_server_kit import NOW, CliResult, Server, cli_add_device

URL = "/api/v1/devices/{}/manifest"


def trusted(server: Server) -> dict[str, PublicKey]:
    spec = server.client.get("/api/v1/keys").json()["keys"][0]["spec"]
    key = PublicKey.parse(spec)
    return {key.keyid: key}


def test_the_manifest_verifies_for_its_device_and_holds_its_sites_content(server: Server) -> None:
    r = server.client.get(URL.format("adot-hall-1"), headers=server.auth())
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    assert r.headers["cache-control"] == "no-cache"
    manifest = accept_manifest(r.json(), TrustContext("adot-hall-1", trusted(server), None, NOW))
    assert r.headers["etag"] == f'"{manifest.version}"'
    # Its own site's playlist and those of every ancestor, highest priority first.
    assert [p["id"] for p in manifest.playlists] == [
        "adot-welcome",
        "adot-hall-video",
        "hue-fallback",
    ]
    assert manifest.languages == ("vi", "lo", "en")  # inherited from hue
    assert manifest.timezone == "Asia/Ho_Chi_Minh"
    assert {a["media_type"] for a in manifest.assets.values()} == {"image/png", "video/mp4"}
    assert manifest.expires_at - manifest.issued_at == timedelta(days=30)

    with pytest.raises(RefusedError) as refused:
        accept_manifest(r.json(), TrustContext("hongvan-1", trusted(server), None, NOW))
    assert refused.value.reason == "wrong_device"


def test_the_body_is_the_stored_envelope_bytes(server: Server) -> None:
    r = server.client.get(URL.format("hongvan-1"), headers=server.auth("hongvan-1"))
    version = int(r.headers["etag"].strip('"'))
    assert r.content == server.state.store.manifest_envelope("hongvan-1", version)
    assert r.json()["signed"]["languages"] == ["vi", "lo"]


def test_if_none_match_with_the_current_version_gives_304(server: Server) -> None:
    first = server.client.get(URL.format("adot-hall-1"), headers=server.auth())
    etag = first.headers["etag"]
    r = server.client.get(
        URL.format("adot-hall-1"), headers={**server.auth(), "If-None-Match": etag}
    )
    assert r.status_code == 304
    assert r.content == b""
    assert r.headers["etag"] == etag
    stale = server.client.get(
        URL.format("adot-hall-1"), headers={**server.auth(), "If-None-Match": '"0", "1x"'}
    )
    assert stale.status_code == 200


def test_the_fast_path_and_the_route_answer_byte_for_byte_the_same(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    answered: list[bool] = []
    real = ManifestFastPath._answer

    async def spy(self: ManifestFastPath, *args: object) -> bool:
        answered.append(await real(self, *args))
        return answered[-1]

    monkeypatch.setattr(ManifestFastPath, "_answer", spy)
    routed = create_app(server.settings, clock=lambda: server.clock[0])
    routed.user_middleware = [m for m in routed.user_middleware if m.cls is not ManifestFastPath]
    etag = server.client.get(URL.format("adot-hall-1"), headers=server.auth()).headers["etag"]
    with TestClient(routed) as route_client:
        for extra in ({}, {"If-None-Match": etag}, {"If-None-Match": '"0", W/' + etag}):
            headers = {**server.auth(), **extra}
            answered.clear()
            fast = server.client.get(URL.format("adot-hall-1"), headers=headers)
            assert answered == [True]
            slow = route_client.get(URL.format("adot-hall-1"), headers=headers)
            assert answered == [True]  # the second app has no fast path
            assert fast.status_code == slow.status_code == (200 if not extra else 304)
            assert fast.headers.raw == slow.headers.raw
            assert fast.content == slow.content


def test_a_publish_raises_the_version_and_the_route_serves_it(server: Server) -> None:
    before = int(
        server.client.get(URL.format("adot-hall-1"), headers=server.auth())
        .headers["etag"]
        .strip('"')
    )
    key = load_signing_key(server.settings.signing_key_path)
    result = publish(
        server.state.store,
        [key],
        NOW + timedelta(hours=1),
        timedelta(days=30),
        user="test",
        address="",
        reason="test",
    )
    server.state.remember(result)
    r = server.client.get(
        URL.format("adot-hall-1"), headers={**server.auth(), "If-None-Match": f'"{before}"'}
    )
    assert r.status_code == 200
    manifest = accept_manifest(
        r.json(), TrustContext("adot-hall-1", trusted(server), before, NOW + timedelta(hours=1))
    )
    assert manifest.version == result.version
    assert manifest.version > before


def test_a_publish_by_another_process_is_served_within_a_few_seconds(
    server: Server, run_cli: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    before = server.state.manifests["adot-hall-1"].version
    result = run_cli("publish", "--data-dir", server.settings.data_dir)
    assert result.returncode == 0, result.stderr
    deadline = time.monotonic() + 5 * server.settings.reload_interval_s
    while True:  # the app's background task notices the other process's commit
        r = server.client.get(URL.format("adot-hall-1"), headers=server.auth())
        if int(r.headers["etag"].strip('"')) > before:
            break
        assert time.monotonic() < deadline, "the new manifest was not picked up"
        time.sleep(0.05)
    assert not server.state.reload_if_changed()


def test_another_devices_manifest_is_forbidden(server: Server) -> None:
    r = server.client.get(URL.format("hongvan-1"), headers=server.auth("adot-hall-1"))
    assert r.status_code == 403
    assert r.headers["content-type"] == "application/problem+json"
    assert "adot-hall-1" in r.json()["detail"]


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic YWRtaW46YWRtaW4="}],
    ids=["none", "wrong", "not bearer"],
)
def test_no_or_a_wrong_token_is_401(server: Server, headers: dict[str, str]) -> None:
    r = server.client.get(URL.format("adot-hall-1"), headers=headers)
    assert r.status_code == 401
    assert r.headers["www-authenticate"].startswith("Bearer")
    assert r.json()["status"] == 401


def test_a_user_token_is_not_a_device_token(server: Server, admin_password: str) -> None:
    login = server.client.post(
        "/api/v1/auth/token", data={"username": "admin", "password": admin_password}
    )
    token = login.json()["access_token"]
    r = server.client.get(URL.format("adot-hall-1"), headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401


def test_a_device_without_a_manifest_gets_a_clear_404(server: Server) -> None:
    token = "x" * 43
    server.state.device_tokens = {**server.state.device_tokens, token_hash(token): "new-1"}
    r = server.client.get(URL.format("new-1"), headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 404
    assert "no manifest has been published for device 'new-1'" in r.json()["detail"]


def test_a_re_enrolled_devices_old_token_stops_working(
    server: Server, cli: Callable[..., CliResult], tmp_path: Path
) -> None:
    out = tmp_path / "again.toml"
    result = cli_add_device(cli, server.settings, out, "--replace")
    assert result.returncode == 0, result.stderr
    server.state.reload()
    r = server.client.get(URL.format("adot-hall-1"), headers=server.auth())
    assert r.status_code == 401


def test_manifests_are_renewed_before_they_expire(server: Server) -> None:
    version = server.state.manifests["adot-hall-1"].version
    assert server.state.refresh_expiring(NOW + timedelta(days=10)) is None
    result = server.state.refresh_expiring(NOW + timedelta(days=16))
    assert result is not None and result.version is not None and result.version > version
    assert server.state.manifests["adot-hall-1"].version == result.version
    r = server.client.get(URL.format("adot-hall-1"), headers=server.auth())
    accept_manifest(
        r.json(), TrustContext("adot-hall-1", trusted(server), version, NOW + timedelta(days=40))
    )


def test_renewal_follows_each_sites_own_manifest_lifetime(server: Server) -> None:
    """A.Đớt's manifests last 4 days, Hồng Vân's 90 (the server's default: 30): each is
    renewed at half its own lifetime, not every hour nor too late."""
    state = server.state
    state.store.set_site_ttl("adot", 4)  # adot-hall inherits it
    state.store.set_site_ttl("hongvan", 90)
    devices = ["adot-hall-1", "hongvan-1"]
    state.remember(
        publish(state.store, state.keys, NOW, state.manifest_ttl, user="t", address="",
                reason="site lifetimes", device_ids=devices)
    )  # fmt: skip
    expires = {d: state.manifests[d].expires_at for d in devices}
    assert expires == {"adot-hall-1": format_time(NOW + timedelta(days=4)),
                       "hongvan-1": format_time(NOW + timedelta(days=90))}  # fmt: skip

    def renewed(at: timedelta) -> list[str]:
        result = state.refresh_expiring(NOW + at)
        return [] if result is None else sorted(m.device_id for m in result.manifests)

    assert renewed(timedelta(hours=1)) == []  # a 4-day manifest is not re-signed hourly
    assert renewed(timedelta(days=2, minutes=1)) == ["adot-hall-1"]
    assert state.manifests["adot-hall-1"].expires_at == format_time(
        NOW + timedelta(days=6, minutes=1)
    )
    assert renewed(timedelta(days=44)) == ["adot-hall-1"]  # long expired by now
    assert renewed(timedelta(days=45, minutes=1)) == ["hongvan-1"]  # half of 90 days
