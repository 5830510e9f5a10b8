"""Security headers on every answer (errors, the device fast path, a 500 and a 413
included), HSTS only over TLS, and the API documentation that a setting turns off."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from fastapi.testclient import TestClient

from content_server.app import create_app
from content_server.settings import Settings
from tests.server.content_server_kit import Server
from tests.server.live_server_kit import LiveServer, serve

EXPECTED = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "content-security-policy": "frame-ancestors 'none'",
    "referrer-policy": "no-referrer",
}


def _assert_guarded(headers: object, what: str) -> None:
    for name, value in EXPECTED.items():
        assert headers[name] == value, f"{what}: {name}"  # type: ignore[index]


def test_every_kind_of_answer_carries_the_headers(server: Server) -> None:
    c = server.client
    answers = {
        "health": c.get("/healthz"),
        "device fast path": c.get("/api/v1/devices/adot-hall-1/manifest", headers=server.auth()),
        "device 304": c.get(
            "/api/v1/devices/adot-hall-1/manifest",
            headers={**server.auth(), "If-None-Match": "*"},
        ),
        "401": c.get("/api/v1/devices"),
        "404": c.get("/no/such/page"),
        "405": c.delete("/healthz"),
        "413": c.post("/api/v1/playlists", content=b"[" + b"0," * 200_000 + b"0]"),
        "422": c.post("/api/v1/auth/token", data={}),
        "docs": c.get("/docs"),
    }
    assert answers["device fast path"].status_code == 200
    assert answers["device 304"].status_code == 304
    assert answers["413"].status_code == 413
    for what, r in answers.items():
        _assert_guarded(r.headers, what)
        assert "strict-transport-security" not in r.headers, f"{what}: HSTS over plain HTTP"


def test_an_unexpected_failure_carries_them_too(server: Server) -> None:
    def boom() -> None:
        raise RuntimeError("a bug")

    server.app.add_api_route("/boom", boom)
    with TestClient(server.app, raise_server_exceptions=False) as client:
        r = client.get("/boom")
    assert r.status_code == 500
    assert r.headers["content-type"] == "application/problem+json"
    _assert_guarded(r.headers, "500")


def test_hsts_is_sent_only_over_tls(server: Server) -> None:
    with TestClient(server.app, base_url="https://signage.example") as client:
        r = client.get("/healthz")
    assert r.headers["strict-transport-security"] == "max-age=31536000"
    _assert_guarded(r.headers, "https")


@pytest.mark.parametrize(("setting", "status"), [(True, 200), (False, 404)])
def test_api_docs_can_be_switched_off(settings: Settings, setting: bool, status: int) -> None:
    app = create_app(settings.model_copy(update={"api_docs": setting}))
    with TestClient(app) as client:
        for path in ("/docs", "/redoc", "/openapi.json"):
            r = client.get(path)
            assert r.status_code == status, path
            _assert_guarded(r.headers, path)
        assert client.get("/healthz").status_code == 200


@pytest.fixture
def live(settings: Settings, content_dir: Path) -> Iterator[LiveServer]:
    with serve(settings, content_dir, CONTENT_SERVER_API_DOCS="false") as server:
        yield server


@pytest.mark.live
def test_over_real_http_hsts_follows_a_local_proxys_https(live: LiveServer) -> None:
    plain = requests.get(f"{live.url}/healthz", timeout=30)
    _assert_guarded(plain.headers, "plain HTTP")
    assert "strict-transport-security" not in plain.headers
    # A reverse proxy on the same host that terminated TLS says so; uvicorn trusts
    # X-Forwarded-Proto from 127.0.0.1 only (--forwarded-allow-ips).
    proxied = requests.get(
        f"{live.url}/healthz", headers={"X-Forwarded-Proto": "https"}, timeout=30
    )
    assert proxied.headers["strict-transport-security"] == "max-age=31536000"
    fast = requests.get(
        f"{live.url}/api/v1/devices/adot-hall-1/manifest",
        headers={"Authorization": f"Bearer {live.device_token}"},
        timeout=30,
    )
    assert fast.status_code == 200
    _assert_guarded(fast.headers, "fast path")
    assert requests.get(f"{live.url}/openapi.json", timeout=30).status_code == 404
