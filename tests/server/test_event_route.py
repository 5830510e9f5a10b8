"""POST /api/v1/devices/{id}/events: records stored once, whole batches or nothing."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.server.content_server_kit import Server

URL = "/api/v1/devices/{}/events"


def play(**extra: Any) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "kind": "play",
        "ts": "2026-11-26T12:00:05+07:00",
        "playlist": "adot-welcome",
        "item": "welcome",
        "language": "lo",
        **extra,
    }


def test_a_batch_is_stored_and_a_resend_is_counted_as_duplicates(server: Server) -> None:
    batch = [play(), play(), {**play(), "kind": "feedback", "rating": 4, "language": "lo"}]
    r = server.client.post(URL.format("adot-hall-1"), json={"events": batch}, headers=server.auth())
    assert r.status_code == 200
    assert r.json() == {"accepted": 3, "duplicates": 0}

    again = [*batch, play()]
    r = server.client.post(URL.format("adot-hall-1"), json={"events": again}, headers=server.auth())
    assert r.json() == {"accepted": 1, "duplicates": 3}

    stored = server.state.store.events("adot-hall-1")
    assert len(stored) == 4
    feedback = next(e for e in stored if e["kind"] == "feedback")
    assert feedback["rating"] == 4  # fields beyond the schema are kept
    assert stored[0]["ts"] == "2026-11-26T05:00:05Z"  # normalised to UTC


def test_the_same_id_twice_in_one_batch_is_stored_once(server: Server) -> None:
    event = play()
    r = server.client.post(
        URL.format("adot-hall-1"), json={"events": [event, event]}, headers=server.auth()
    )
    assert r.json() == {"accepted": 1, "duplicates": 1}


@pytest.mark.parametrize(
    "body",
    [
        {"events": [play(), {**play(), "id": "not-a-uuid"}]},
        {"events": [play(), {**play(), "kind": "click"}]},
        {"events": [play(), {**play(), "ts": "2026-11-26 12:00"}]},
        {"events": [play(), {k: v for k, v in play().items() if k != "ts"}]},
        {"events": [play() for _ in range(501)]},
        {"records": [play()]},
        [play()],
    ],
    ids=["bad id", "unknown kind", "time without zone", "no time", "too many", "wrong key", "list"],
)
def test_a_malformed_batch_is_422_and_nothing_is_stored(server: Server, body: object) -> None:
    r = server.client.post(URL.format("adot-hall-1"), json=body, headers=server.auth())
    assert r.status_code == 422
    problem = r.json()
    assert r.headers["content-type"] == "application/problem+json"
    assert problem["status"] == 422 and problem["errors"]
    assert server.state.store.events("adot-hall-1") == []


def test_broken_json_is_422(server: Server) -> None:
    r = server.client.post(
        URL.format("adot-hall-1"),
        content=b'{"events": [',
        headers={**server.auth(), "Content-Type": "application/json"},
    )
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"


def test_a_device_cannot_write_another_devices_records(server: Server) -> None:
    r = server.client.post(
        URL.format("hongvan-1"), json={"events": [play()]}, headers=server.auth("adot-hall-1")
    )
    assert r.status_code == 403
    assert server.state.store.events("hongvan-1") == []
    assert server.state.store.events("adot-hall-1") == []


def test_records_need_a_device_token(server: Server) -> None:
    r = server.client.post(URL.format("adot-hall-1"), json={"events": [play()]})
    assert r.status_code == 401
