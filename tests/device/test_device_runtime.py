"""The ``Runtime`` facade with its worker thread, against the in-memory server."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from device_runtime import Content, Runtime
from signage_core import topics
from tests.device.fake_signage_server import NOW, FakeServer, device_settings, sha
from tests.support.waiting import free_port, wait_until

pytestmark = pytest.mark.live

MAP = b"PNG gate map " * 200
HOURS = b"PNG opening hours " * 100


def wait_for(check: Callable[[], Any], timeout: float = 5.0) -> Any:
    return wait_until(check, timeout, "the condition")


class Announced:
    def __init__(self) -> None:
        self.items: list[Content] = []
        self.threads: set[str] = set()
        self.event = threading.Event()

    def __call__(self, content: Content) -> None:
        self.items.append(content)
        self.threads.add(threading.current_thread().name)
        self.event.set()

    def versions(self) -> list[int]:
        return [c.manifest.version for c in self.items]


@pytest.fixture
def server() -> FakeServer:
    return FakeServer()


@pytest.fixture
def runtimes() -> Iterator[list[Runtime]]:
    started: list[Runtime] = []
    yield started
    for rt in started:
        rt.stop()


def make(tmp_path: Path, server: FakeServer, runtimes: list[Runtime], **kw: Any) -> Runtime:
    settings = device_settings(tmp_path, server, poll_interval_s=3600, **kw)
    rt = Runtime(settings, "signage-player", "0.1.0", fetcher=server, enable_mqtt=False)
    runtimes.append(rt)
    return rt


def playing(tmp_path: Path, server: FakeServer, runtimes: list[Runtime]) -> Runtime:
    """A runtime, started, once it plays what the server published."""
    rt = make(tmp_path, server, runtimes)
    rt.start()
    wait_for(lambda: rt.current)
    return rt


def announcing(
    tmp_path: Path, server: FakeServer, runtimes: list[Runtime]
) -> tuple[Runtime, Announced]:
    """A runtime whose announcements are recorded, started."""
    rt = make(tmp_path, server, runtimes)
    announced = Announced()
    rt.add_listener(announced)
    rt.start()
    return rt, announced


def test_runtime_syncs_in_the_background_and_announces(
    tmp_path: Path, server: FakeServer, runtimes: list[Runtime]
) -> None:
    server.publish_assets(1, MAP)

    rt, announced = announcing(tmp_path, server, runtimes)

    assert announced.event.wait(5)
    assert announced.versions() == [1] and announced.threads == {"sync-worker"}
    assert rt.current is announced.items[0]
    assert rt.current.asset_path(sha(MAP)).read_bytes() == MAP
    wait_for(lambda: rt.status().state == "idle")


def test_sync_now_wakes_the_worker(
    tmp_path: Path, server: FakeServer, runtimes: list[Runtime]
) -> None:
    server.publish_assets(1, MAP)
    rt, announced = announcing(tmp_path, server, runtimes)
    wait_for(lambda: announced.versions() == [1])
    server.publish_assets(2, MAP, HOURS)

    rt.sync_now()  # the poll interval is an hour

    wait_for(lambda: announced.versions() == [1, 2])
    assert rt.current is not None and rt.current.manifest.version == 2


def test_runtime_plays_the_last_good_manifest_with_the_server_unreachable(
    tmp_path: Path, server: FakeServer, runtimes: list[Runtime]
) -> None:
    server.publish_assets(5, MAP)
    playing(tmp_path, server, runtimes).stop()

    url = f"http://127.0.0.1:{free_port()}"  # nothing listens: the link is down
    settings = device_settings(tmp_path, server, server_url=url, request_timeout_s=2)
    rt = Runtime(settings, enable_mqtt=False)  # the real HTTP fetcher
    runtimes.append(rt)
    started = time.monotonic()
    rt.start()

    current = wait_for(lambda: rt.current, timeout=1.0)
    assert time.monotonic() - started < 1.0
    assert current.manifest.version == 5 and not current.expired
    assert current.asset_path(sha(MAP)).read_bytes() == MAP
    status = wait_for(lambda: rt.status() if rt.status().state == "offline" else None)
    assert status.offline_since is not None and "cannot be reached" in status.last_error


def test_proof_of_play_reaches_the_server(
    tmp_path: Path, server: FakeServer, runtimes: list[Runtime]
) -> None:
    server.publish_assets(1, MAP)
    rt = playing(tmp_path, server, runtimes)

    record_id = rt.record_play(
        playlist_id="welcome",
        item_id="img-0",
        language="lo",
        started_at=NOW,
        duration_ms=8000,
        manifest_version=1,
    )
    rt.sync_now()

    event = wait_for(lambda: server.events.get(record_id))
    assert event["kind"] == "play" and event["manifest_version"] == 1
    assert rt.records is not None and rt.records.pending() == 0


def test_heartbeat_says_what_the_device_does(
    tmp_path: Path, server: FakeServer, runtimes: list[Runtime]
) -> None:
    server.publish_assets(1, MAP, expires_at=datetime.now(UTC) + timedelta(days=1))
    rt = make(tmp_path, server, runtimes)
    rt.start()
    wait_for(lambda: rt.status().last_ok)
    rt.set_now_playing("welcome", "img-0", "lo")

    body = rt.heartbeat()

    payload = topics.check_heartbeat({"seq": 1, "ts": "2026-11-26T05:00:00Z", **body})
    optional = set(topics.HEARTBEAT_OPTIONAL)
    assert set(topics.HEARTBEAT_FIELDS) <= set(payload) <= set(topics.HEARTBEAT_FIELDS) | optional
    assert payload["manifest_version"] == 1
    assert payload["now_playing"] == {"playlist": "welcome", "item": "img-0", "language": "lo"}
    assert payload["cache"] == {"bytes": len(MAP), "files": 1, "missing": 0}
    assert payload["app"] == {"name": "signage-player", "version": "0.1.0"}
    assert payload["sync"]["state"] == "idle" and payload["sync"]["last_error"] is None
    assert payload["disk_free_bytes"] > 0
    assert isinstance(payload["clock_skew_s"], int)


def test_an_expired_manifest_is_flagged_in_the_heartbeat(
    tmp_path: Path, server: FakeServer, runtimes: list[Runtime]
) -> None:
    server.date = None  # no server Date: the device clock alone decides
    server.publish_assets(1, MAP, issued_at=NOW - timedelta(days=40), expires_at=NOW)
    now, mono = [NOW - timedelta(days=1)], [1000.0]
    rt = make(tmp_path, server, runtimes)
    rt.clock, rt.monotonic = (lambda: now[0]), (lambda: mono[0])
    rt.start()
    wait_for(lambda: rt.current)
    server.offline = True
    now[0] += timedelta(days=31)  # a month without a link, the device up all along
    mono[0] += 31 * 86400
    rt.sync_now()

    wait_for(lambda: rt.status().state == "offline")
    wait_for(lambda: rt.current is not None and rt.current.expired)
    assert rt.current is not None and rt.current.asset_path(sha(MAP)).read_bytes() == MAP
    beat = rt.heartbeat()
    assert beat["sync"]["last_error"].startswith("manifest_expired: version 1")
    assert beat["clock_suspect"] is False


def test_after_a_reboot_a_month_on_the_device_says_its_clock_is_suspect(
    tmp_path: Path, server: FakeServer, runtimes: list[Runtime]
) -> None:
    # Rebooted, nothing counts the month: a clock a month ahead and a month offline look
    # the same. It keeps playing and says so (docs/architecture.md, trust rules).
    server.date = None
    server.publish_assets(1, MAP, issued_at=NOW - timedelta(days=40), expires_at=NOW)
    rt = make(tmp_path, server, runtimes)
    rt.clock = lambda: NOW - timedelta(days=1)
    rt.start()
    wait_for(lambda: rt.current)
    rt.stop()

    later = Runtime(rt.settings, fetcher=FakeServer(offline=True), enable_mqtt=False)
    later.clock = lambda: NOW + timedelta(days=30)
    runtimes.append(later)
    later.start()

    assert later.current is not None
    assert later.current.asset_path(sha(MAP)).read_bytes() == MAP
    wait_for(lambda: later.status().state == "offline")
    assert later.heartbeat()["clock_suspect"] is True


def test_a_clock_reset_to_1970_does_not_bring_back_an_expired_alert(
    tmp_path: Path, server: FakeServer, runtimes: list[Runtime]
) -> None:
    from signage_core.alert import SCHEMA as ALERT_SCHEMA
    from signage_core.signing import sign_envelope
    from signage_core.timefmt import format_time

    server.publish_assets(1, MAP)  # the server's Date header says NOW
    settings = device_settings(tmp_path, server, poll_interval_s=3600)
    rt = Runtime(
        settings,
        fetcher=server,
        enable_mqtt=False,
        clock=lambda: datetime(1970, 1, 1, tzinfo=UTC),  # the RTC battery died
    )
    runtimes.append(rt)
    rt.start()
    wait_for(lambda: rt.status().state == "idle")
    expired = {
        "schema": ALERT_SCHEMA, "id": "flood", "site_id": "adot", "version": 1,
        "issued_at": format_time(NOW - timedelta(hours=2)),
        "expires_at": format_time(NOW - timedelta(hours=1)),
        "state": "active", "severity": "emergency",
        "texts": {"vi": {"title": "Lũ", "body": ""}, "lo": {"title": "ນ້ຳຖ້ວມ", "body": ""}},
    }  # fmt: skip

    rt.alert_keeper.offer(sign_envelope(expired, [server.key]), "adot", "mqtt")

    assert rt.alert_keeper.showing() == []
