"""Every error is application/problem+json with type, title, status and detail; no traces."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.server.content_server_kit import Server

PROBLEM_KEYS = {"type", "title", "status", "detail"}


def assert_problem(r: Any, status: int) -> dict[str, Any]:
    assert r.status_code == status
    assert r.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = r.json()
    assert set(body) >= PROBLEM_KEYS
    assert body["status"] == status
    return body


def test_an_unknown_address_is_a_404_problem(server: Server) -> None:
    body = assert_problem(server.client.get("/api/v1/nothing"), 404)
    assert body["type"] == "about:blank"
    assert body["title"] == "Not Found"
    assert body["detail"] == "nothing here: GET /api/v1/nothing"


def test_a_wrong_method_is_a_405_problem_with_allow(server: Server) -> None:
    r = server.client.delete("/api/v1/keys")
    assert_problem(r, 405)
    assert r.headers["allow"] == "GET"


def test_a_validation_error_lists_where_and_what(server: Server) -> None:
    r = server.client.post(
        "/api/v1/devices/adot-hall-1/events",
        json={"events": [{"id": "x", "kind": "play", "ts": "2026-11-26T05:00:00Z"}]},
        headers=server.auth(),
    )
    body = assert_problem(r, 422)
    (error,) = body["errors"]
    assert error["loc"] == ["body", "events", 0, "id"]
    assert "UUID" in error["msg"]
    assert "body.events.0.id" in str(body["detail"])


def test_an_unexpected_error_is_a_500_problem_that_gives_nothing_away(server: Server) -> None:
    @server.app.get("/boom")
    def boom() -> None:
        raise RuntimeError("secret path /var/lib/border-signage/keys/signing.key")

    with TestClient(server.app, raise_server_exceptions=False) as client:
        r = client.get("/boom")
    body = assert_problem(r, 500)
    assert "secret" not in r.text and "Traceback" not in r.text
    assert body["detail"] == "an unexpected error happened; the details are in the server's log"


def test_the_openapi_document_lists_the_device_contract(server: Server) -> None:
    paths = server.client.get("/openapi.json").json()["paths"]
    assert {
        "/api/v1/devices/{device_id}/manifest",
        "/api/v1/devices/{device_id}/events",
        "/api/v1/assets/{sha256}",
        "/api/v1/keys",
        "/api/v1/auth/token",
    } <= set(paths)


def test_health(server: Server) -> None:
    assert server.client.get("/healthz").json() == {"status": "ok"}
