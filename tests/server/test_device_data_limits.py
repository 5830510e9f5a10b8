"""A device's records are bounded: per-device rate and size on the events route, and
retention. Everything here runs on the app's injected clock (no real time)."""

from __future__ import annotations

import math
import time
import uuid
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from content_server import ratelimit
from content_server.app import create_app
from content_server.ratelimit import TokenBuckets
from content_server.settings import Settings
from signage_core.timefmt import format_time
from tests.server.api_kit import add_user, sign_in
from tests.server.content_server_kit import Server, data_folder

URL = "/api/v1/devices/{}/events"


@pytest.fixture
def settings(tmp_path: Any) -> Settings:
    """Small limits: 60 records an hour (one a minute) after a first batch of 500."""
    return data_folder(
        tmp_path, events_per_hour=60, event_burst=500, event_max_bytes=1024, event_retention_days=30
    )


def plays(server: Server, n: int, **extra: Any) -> list[dict[str, Any]]:
    at = format_time(server.clock[0] - timedelta(minutes=5))
    return [
        {"id": str(uuid.uuid4()), "kind": "play", "ts": at, "playlist_id": "adot-welcome",
         "item_id": "welcome", "language": "lo", "duration_ms": 1000, **extra}
        for _ in range(n)
    ]  # fmt: skip


def post(server: Server, device: str, events: list[dict[str, Any]]) -> Any:
    return server.client.post(
        URL.format(device), json={"events": events}, headers=server.auth(device)
    )


def stored(server: Server, device: str = "adot-hall-1") -> int:
    return len(server.state.store.events(device))


def test_a_device_past_its_allowance_gets_429_with_retry_after_and_nothing_is_stored(
    server: Server,
) -> None:
    assert post(server, "adot-hall-1", plays(server, 500)).status_code == 200  # the burst

    r = post(server, "adot-hall-1", plays(server, 2))
    assert r.status_code == 429, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.headers["Retry-After"] == "120"  # two records at one a minute
    assert "Retry-After" in r.json()["detail"]
    assert stored(server) == 500

    # Another device has its own allowance.
    assert post(server, "hongvan-1", plays(server, 3)).status_code == 200

    # Two minutes later (the server's clock), the same batch goes in.
    server.clock[0] += timedelta(minutes=2)
    r = post(server, "adot-hall-1", plays(server, 2))
    assert r.status_code == 200 and r.json()["accepted"] == 2
    assert stored(server) == 502


def test_a_record_over_the_size_limit_is_413_and_the_batch_is_not_stored(server: Server) -> None:
    batch = plays(server, 3)
    batch[1]["comment"] = "ມ" * 400  # 1200 bytes in UTF-8
    r = post(server, "adot-hall-1", batch)
    assert r.status_code == 413, r.text
    assert batch[1]["id"] in r.json()["detail"] and "1024" in r.json()["detail"]
    assert stored(server) == 0
    assert post(server, "adot-hall-1", [batch[0], batch[2]]).status_code == 200


def _play_count(server: Server) -> int:
    auth = sign_in(server, "viewer-hue")  # a sign-in lasts hours; the test skips days
    day = (server.clock[0] + timedelta(hours=7)).date()
    r = server.client.get(
        "/api/v1/reports/plays",
        params={"since": str(day - timedelta(days=40)), "until": str(day)},
        headers=auth,
    )
    assert r.status_code == 200, r.text
    return sum(row["plays"] for row in r.json())


def _two_batches_31_and_11_days_old(server: Server) -> list[dict[str, Any]]:
    add_user(server, "viewer-hue", "viewer", "hue")
    old = plays(server, 4)
    assert post(server, "adot-hall-1", old).status_code == 200
    server.clock[0] += timedelta(days=20)
    assert post(server, "adot-hall-1", plays(server, 3)).status_code == 200
    server.clock[0] += timedelta(days=11)  # the first batch is now 31 days old
    assert _play_count(server) == 7
    return old


def test_records_older_than_the_retention_are_pruned_by_the_servers_clock(
    server: Server,
) -> None:
    old = _two_batches_31_and_11_days_old(server)
    assert server.state.prune_events(server.clock[0]) == 4
    kept = {e["id"] for e in server.state.store.events("adot-hall-1")}
    assert len(kept) == 3 and kept.isdisjoint(e["id"] for e in old)
    assert _play_count(server) == 3  # reports count what the window keeps

    # Records kept exactly as long as the setting says, judged by the server's clock only.
    server.clock[0] += timedelta(days=19) - timedelta(minutes=1)  # 30 days less a minute
    assert server.state.prune_events(server.clock[0]) == 0
    server.clock[0] += timedelta(minutes=2)
    assert server.state.prune_events(server.clock[0]) == 3


@pytest.mark.live  # waits on a real clock for the app's background task
def test_a_running_server_prunes_old_records_by_itself(server: Server, settings: Settings) -> None:
    _two_batches_31_and_11_days_old(server)
    # The server prunes at start and every hour after: a restart on the same data.
    clock = [server.clock[0]]
    with TestClient(create_app(settings, clock=lambda: clock[0])):
        deadline = time.monotonic() + 20
        while stored(server) != 3 and time.monotonic() < deadline:
            time.sleep(0.05)
    assert stored(server) == 3


def test_the_buckets_refill_with_time_never_backwards_and_stay_bounded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    buckets = TokenBuckets(rate_per_s=1.0, burst=3)
    assert [buckets.take("a", 1, 100.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert buckets.take("a", 2, 100.0) == 2.0  # seconds to wait, nothing spent
    assert buckets.take("a", 1, 50.0) == 1.0  # a clock set back refills nothing
    assert buckets.take("a", 1, 101.0) == 0.0
    assert buckets.take("a", 4, 1e9) == math.inf  # more than a burst never passes

    monkeypatch.setattr(ratelimit, "MAX_KEYS", 10)
    for n in range(25):
        buckets.take(f"device-{n}", 1, 200.0 + n)
    assert len(buckets._buckets) <= 10
