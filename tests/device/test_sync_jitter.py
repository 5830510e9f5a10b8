"""A ``sync`` command is answered within its window, spread by the device's random draw.

A publish sends every changed screen a ``sync`` at once; each screen waits a random
part of the window (the command's signed ``window_s``, else ``sync_jitter_s``) so
they do not all ask the server in the same second.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from device_runtime import Content, Runtime
from device_runtime.commands import CommandHandler
from device_runtime.errors import SettingsError
from device_runtime.settings import settings_from_mapping
from signage_core.canonical import canonical_json
from signage_core.command import command_body, parse_command, sync_delay_s
from signage_core.errors import ManifestError
from signage_core.signing import SigningKey, sign_envelope
from tests.device.fake_signage_server import FakeServer, device_settings

MAP = b"PNG gate map " * 200
HOURS = b"PNG opening hours " * 100


def sync_command(
    key: SigningKey, device_id: str, now: datetime, window_s: int | None = None, cmd: str = "sync"
) -> dict[str, Any]:
    signed = command_body(
        cmd, f"c-{uuid.uuid4().hex[:16]}", device_id, now, timedelta(minutes=5), window_s
    )
    decoded: dict[str, Any] = json.loads(canonical_json(sign_envelope(signed, [key])))
    return decoded


# -- the pure rule -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("window", "draw", "delay"),
    [(30, 0.0, 0.0), (30, 0.5, 15.0), (60, 0.25, 15.0), (0, 0.99, 0.0), (-5, 0.5, 0.0)],
)
def test_the_delay_is_the_draw_of_the_window(window: float, draw: float, delay: float) -> None:
    assert sync_delay_s(window, draw) == pytest.approx(delay)


@pytest.mark.parametrize("draw", [-0.1, 1.0, 1.5])
def test_a_draw_outside_zero_to_one_is_a_mistake(draw: float) -> None:
    with pytest.raises(ValueError):
        sync_delay_s(30, draw)


@given(st.floats(0, 3600), st.floats(0, 1, exclude_max=True))
def test_every_delay_falls_inside_the_window(window: float, draw: float) -> None:
    delay = sync_delay_s(window, draw)
    assert 0 <= delay <= window


def test_draws_spread_evenly_put_one_device_per_slice_of_the_window() -> None:
    delays = [sync_delay_s(50, i / 1000) for i in range(1000)]  # 1,000 screens, even draws
    per_second = [sum(1 for d in delays if s <= d < s + 1) for s in range(50)]
    assert sum(per_second) == 1000  # 20 a second instead of 1,000 in the same one
    assert max(per_second) <= 21


# -- the signed window -----------------------------------------------------------------------


def test_a_sync_carries_its_window_signed_and_checked() -> None:
    now = datetime.now(UTC)
    assert (
        parse_command(command_body("sync", "c-1", "d", now, timedelta(minutes=5))).window_s is None
    )
    assert (
        parse_command(command_body("sync", "c-1", "d", now, timedelta(minutes=5), 45)).window_s
        == 45
    )
    for bad in (True, -1, 3601, 2.5, "30"):
        signed = command_body("sync", "c-1", "d", now, timedelta(minutes=5))
        signed["window_s"] = bad
        with pytest.raises(ManifestError, match="window_s"):
            parse_command(signed)
    with pytest.raises(ManifestError, match="sync command only"):
        parse_command(command_body("restart", "c-1", "d", now, timedelta(minutes=5), 10))


def test_sync_jitter_is_a_device_setting(tmp_path: Path) -> None:
    server = FakeServer()
    base = {
        "device_id": server.device_id, "token": "t", "server_url": "http://127.0.0.1:9",
        "trusted_keys": [server.key.public.spec()], "mqtt_url": "mqtt://127.0.0.1:9",
        "mqtt_password": "p", "data_dir": str(tmp_path),
    }  # fmt: skip
    assert settings_from_mapping(base).sync_jitter_s == 30.0
    assert settings_from_mapping({**base, "sync_jitter_s": 0}).sync_jitter_s == 0.0
    for bad in (-1, 3601, "10", True):
        with pytest.raises(SettingsError, match="sync_jitter_s"):
            settings_from_mapping({**base, "sync_jitter_s": bad})


# -- the device's handler, on injected draws --------------------------------------------------


def handler(
    tmp_path: Path, server: FakeServer, draws: list[float], **kw: Any
) -> tuple[CommandHandler, list[str], list[float]]:
    now = datetime.now(UTC)
    woken: list[str] = []
    later: list[float] = []
    settings = device_settings(tmp_path, server, **kw)
    h = CommandHandler(
        settings,
        sync_now=lambda: woken.append("now"),
        trusted_now=lambda: now,
        sync_later=later.append,
        draw=iter(draws).__next__,
    )
    return h, woken, later


def test_a_sync_waits_the_drawn_part_of_the_signed_window(tmp_path: Path) -> None:
    server = FakeServer()
    h, woken, later = handler(tmp_path, server, [0.25, 0.5, 0.9], sync_jitter_s=30)
    now = datetime.now(UTC)

    h(sync_command(server.key, server.device_id, now, window_s=40))
    h(sync_command(server.key, server.device_id, now))  # no window: the device's own
    h(sync_command(server.key, server.device_id, now, window_s=0))  # by hand: at once

    assert later == [pytest.approx(10.0), pytest.approx(15.0)]
    assert woken == ["now"]
    assert h.refused == 0


def test_a_device_set_to_zero_jitter_answers_at_once(tmp_path: Path) -> None:
    server = FakeServer()
    h, woken, later = handler(tmp_path, server, [0.7], sync_jitter_s=0)
    h(sync_command(server.key, server.device_id, datetime.now(UTC)))
    assert woken == ["now"] and later == []


def test_a_forged_window_is_refused_like_any_forged_command(tmp_path: Path) -> None:
    server = FakeServer()
    h, woken, later = handler(tmp_path, server, [0.5])
    envelope = sync_command(server.key, server.device_id, datetime.now(UTC), window_s=10)
    envelope["signed"]["window_s"] = 3600  # a broker account stretching the fleet's sync
    h(envelope)
    assert h.last_refusal is not None and h.last_refusal.startswith("bad_signature")
    assert woken == [] and later == []


# -- real runtimes: every device reaches the new version within the window --------------------


@pytest.mark.live
def test_every_device_has_the_new_version_within_the_window(tmp_path: Path) -> None:
    window_s = 4
    draws = [0.05, 0.3, 0.55, 0.8, 0.95]
    fleet: list[tuple[Runtime, FakeServer, float]] = []
    arrived: dict[int, float] = {}
    lock = threading.Lock()
    try:
        for i, draw in enumerate(draws):
            server = FakeServer()
            server.publish_assets(1, MAP)
            settings = device_settings(tmp_path / f"d{i}", server, poll_interval_s=3600)
            rt = Runtime(settings, fetcher=server, enable_mqtt=False)
            rt.commands.draw = lambda d=draw: d

            def on_new(content: Content, i: int = i) -> None:
                if content.manifest.version == 2:
                    with lock:
                        arrived[i] = time.monotonic()

            rt.add_listener(on_new)
            rt.start()
            fleet.append((rt, server, draw))
        deadline = time.monotonic() + 10
        while any(rt.current is None for rt, _, _ in fleet) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert all(rt.current is not None for rt, _, _ in fleet)

        now = datetime.now(UTC)
        for _, server, _ in fleet:
            server.publish_assets(2, MAP, HOURS)  # the poll interval is an hour
        sent = time.monotonic()
        for rt, server, _ in fleet:
            rt.commands(sync_command(server.key, server.device_id, now, window_s=window_s))

        deadline = sent + window_s + 10  # generous: two busy cores
        while len(arrived) < len(fleet) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert sorted(arrived) == list(range(len(fleet))), "a device never took version 2"
        for i, (_, _, draw) in enumerate(fleet):
            took = arrived[i] - sent
            assert took >= sync_delay_s(window_s, draw) - 0.05, f"device {i} asked early"
        # Within the window (plus the fetch itself, on a busy machine).
        assert max(arrived.values()) - sent < window_s + 5
        # Spread: the first and the last asked seconds apart, not at once.
        assert arrived[len(fleet) - 1] - arrived[0] > 0.5 * window_s
    finally:
        for rt, _, _ in fleet:
            rt.stop()
