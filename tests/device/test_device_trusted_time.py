"""Trusted time comes from signed data only: an HTTP ``Date`` of 2100 (a man in the
middle, a captive portal) expires nothing, now or after a reboot, and a device that
an older version let store such a date recovers."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from device_runtime import Runtime
from signage_core.alert import SCHEMA as ALERT_SCHEMA
from signage_core.signing import SigningKey, sign_envelope
from signage_core.timefmt import format_time
from tests.support.fault_server import FaultServer, device_settings
from tests.support.waiting import wait_until

pytestmark = pytest.mark.live

FORGED = datetime(2100, 1, 1, tzinfo=UTC)


def wait_for(check: Callable[[], Any], timeout: float = 20.0) -> Any:
    return wait_until(check, timeout, "the condition")


def _alert(key: SigningKey, version: int) -> dict[str, Any]:
    now = datetime.now(UTC).replace(microsecond=0)
    signed = {
        "schema": ALERT_SCHEMA, "id": f"flood-{version}", "site_id": "adot", "version": version,
        "issued_at": format_time(now - timedelta(minutes=1)),
        "expires_at": format_time(now + timedelta(hours=2)),
        "state": "active", "severity": "emergency",
        "texts": {"vi": {"title": "Lũ trên đường 49", "body": ""},
                  "lo": {"title": "ນ້ຳຖ້ວມ", "body": ""}},
    }  # fmt: skip
    return sign_envelope(signed, [key])


@contextmanager
def _running(root: Path, server: FaultServer, version: int) -> Iterator[Runtime]:
    """The device booted on ``root``, once it plays ``version``; stopped on leaving."""
    settings = device_settings(root, server, poll_interval_s=3600)
    rt = Runtime(settings, enable_mqtt=False)  # the real HttpFetcher, real loopback HTTP
    try:
        rt.start()
        wait_for(lambda: rt.current is not None and rt.current.manifest.version == version)
        yield rt
    finally:
        rt.stop()


def test_a_forged_date_of_2100_expires_nothing_across_a_reboot(tmp_path: Path) -> None:
    with FaultServer() as server:
        server.date = FORGED
        server.publish(1, b"PNG map " * 50, alerts=[_alert(server.key, 1)])

        with _running(tmp_path, server, 1) as rt:
            assert [a.id for a in rt.alerts] == ["flood-1"]
            skew = rt.status().clock_skew_s
            assert skew is not None and skew < -70 * 365 * 86400  # reported, not trusted
        trust = (tmp_path / "state" / "trust.json").read_text()
        assert "2100" not in trust

        # Reboot on the same data folder, as the same device: still 2100 on the wire.
        server.publish(2, b"PNG map " * 50, alerts=[_alert(server.key, 2)])
        with _running(tmp_path, server, 2) as rebooted:
            assert [a.id for a in rebooted.alerts] == ["flood-2"]


def test_a_device_that_stored_a_forged_date_recovers_after_a_reboot(tmp_path: Path) -> None:
    with FaultServer() as server:
        server.publish(1, b"PNG map " * 50)
        with _running(tmp_path, server, 1):
            pass
        # What an older version left on disk after one answer dated 2100.
        path = tmp_path / "state" / "trust.json"
        doc = json.loads(path.read_text())
        doc["server_date"] = format_time(FORGED)
        path.write_text(json.dumps(doc))

        server.publish(2, b"PNG map " * 50, alerts=[_alert(server.key, 1)])
        with _running(tmp_path, server, 2) as rebooted:
            assert [a.id for a in rebooted.alerts] == ["flood-1"]
        assert "server_date" not in json.loads(path.read_text())
