"""How heartbeats become uptime: gaps within the stale limit count whole, a silence
does not, an "offline" status breaks the run, midnight splits a credit."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from content_server.health import DeviceHealth
from content_server.uptime import credit, split_by_day

T = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)  # 10:00 in Huế


def heard(at: datetime, **kw: object) -> DeviceHealth:
    return DeviceHealth("d", heartbeat_at=at, **kw)  # type: ignore[arg-type]


def test_a_first_heartbeat_vouches_for_one_interval() -> None:
    assert credit(None, T, 30) == [(date(2026, 12, 1), 30.0)]
    assert credit(DeviceHealth("d"), T, 30) == [(date(2026, 12, 1), 30.0)]


def test_a_lost_heartbeat_costs_nothing_but_a_silence_does() -> None:
    assert credit(heard(T - timedelta(seconds=60)), T, 30) == [(date(2026, 12, 1), 60.0)]
    assert credit(heard(T - timedelta(seconds=90)), T, 30) == [(date(2026, 12, 1), 90.0)]
    assert credit(heard(T - timedelta(seconds=91)), T, 30) == [(date(2026, 12, 1), 30.0)]
    assert credit(heard(T - timedelta(hours=5)), T, 30) == [(date(2026, 12, 1), 30.0)]


def test_an_offline_status_after_the_last_heartbeat_breaks_the_run() -> None:
    prev = heard(
        T - timedelta(seconds=60), status_state="offline", status_at=T - timedelta(seconds=50)
    )
    assert credit(prev, T, 30) == [(date(2026, 12, 1), 30.0)]
    back = heard(T - timedelta(seconds=60), status_state="online", status_at=T - timedelta(days=1))
    assert credit(back, T, 30) == [(date(2026, 12, 1), 60.0)]


def test_a_credit_across_local_midnight_is_split() -> None:
    midnight_hue = datetime(2026, 12, 1, 17, 0, tzinfo=UTC)  # 00:00 on 2 December in Huế
    got = credit(
        heard(midnight_hue - timedelta(seconds=40)), midnight_hue + timedelta(seconds=20), 30
    )
    assert got == [(date(2026, 12, 1), 40.0), (date(2026, 12, 2), 20.0)]
    whole = split_by_day(
        datetime(2026, 12, 1, 17, tzinfo=UTC), datetime(2026, 12, 3, 17, tzinfo=UTC)
    )
    assert whole == [(date(2026, 12, 2), 86400.0), (date(2026, 12, 3), 86400.0)]
