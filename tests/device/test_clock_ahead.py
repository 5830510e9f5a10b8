"""A device clock a year ahead: commands and alerts still expire, by the signed time.

The clock is not trusted (``clock_suspect``), so expiry is judged by the newest signed
``issued_at`` plus the time counted since by the monotonic clock: a fresh command is
obeyed, the same command an hour later is refused as expired.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

from device_runtime.alerts import AlertKeeper
from device_runtime.commands import CommandHandler
from device_runtime.state import TrustState
from signage_core.alert import SCHEMA as ALERT_SCHEMA
from signage_core.command import command_body
from signage_core.manifest import parse_manifest
from signage_core.signing import sign_envelope
from signage_core.timefmt import format_time
from tests.device.fake_signage_server import DEVICE, NOW, FakeServer, device_settings, make_signed

AHEAD = NOW + timedelta(days=365)


def test_a_device_a_year_ahead_obeys_fresh_commands_and_refuses_expired_ones(
    tmp_path: Path,
) -> None:
    server = FakeServer()
    signed = make_signed(version=4)  # issued an hour before NOW, for 30 days
    mono = [5000.0]
    writer = TrustState(tmp_path / "state", DEVICE, {server.key.keyid: server.key.public})
    writer.store_manifest(server.publish(signed), parse_manifest(signed), '"4"')
    trust = TrustState(tmp_path / "state", DEVICE, writer.trusted_keys, monotonic=lambda: mono[0])
    trust.load(AHEAD)
    woken: list[str] = []
    handler = CommandHandler(
        device_settings(tmp_path, server),
        sync_now=lambda: woken.append("sync"),
        trusted_keys=lambda: trust.trusted_keys,
        trusted_now=lambda: trust.trusted_now(AHEAD + timedelta(seconds=mono[0] - 5000)),
        sync_later=lambda _s: woken.append("later"),
        draw=lambda: 0.0,
    )

    def command() -> dict[str, object]:
        body = command_body("sync", f"c-{uuid.uuid4().hex[:16]}", DEVICE, NOW, timedelta(minutes=5))
        return sign_envelope(body, [server.key])

    handler(command())  # issued at NOW; by the device clock a year old
    assert woken == ["sync"] and handler.refused == 0
    assert trust.trusted(AHEAD).clock_suspect

    mono[0] += 70 * 60  # 70 minutes counted: the floor is now 10 minutes past NOW
    handler(command())
    assert woken == ["sync"]
    assert handler.last_refusal is not None and handler.last_refusal.startswith("expired")


def test_an_alert_shown_by_a_device_a_year_ahead_still_ends(tmp_path: Path) -> None:
    server = FakeServer()
    signed = make_signed(version=4)
    mono = [0.0]
    writer = TrustState(tmp_path / "state", DEVICE, {server.key.keyid: server.key.public})
    writer.store_manifest(server.publish(signed), parse_manifest(signed), '"4"')
    trust = TrustState(tmp_path / "state", DEVICE, writer.trusted_keys, monotonic=lambda: mono[0])
    trust.load(AHEAD)
    keeper = AlertKeeper(
        lambda: trust.trusted_keys,
        lambda: trust.trusted_now(AHEAD + timedelta(seconds=mono[0])),
    )
    keeper.set_sites(["adot-hall", "adot", "hue"])
    alert = {
        "schema": ALERT_SCHEMA, "id": "flood", "site_id": "adot", "version": 1,
        "issued_at": format_time(NOW - timedelta(minutes=5)),
        "expires_at": format_time(NOW + timedelta(minutes=30)),
        "state": "active", "severity": "emergency",
        "texts": {"vi": {"title": "Lũ", "body": ""}, "lo": {"title": "ນ້ຳຖ້ວມ", "body": ""}},
    }  # fmt: skip

    keeper.offer(sign_envelope(alert, [server.key]), "adot", "mqtt")

    assert [a.id for a in keeper.showing()] == ["flood"]  # the clock says a year later
    mono[0] += 2 * 3600  # two hours counted by the monotonic clock: past its end
    assert keeper.showing() == []
