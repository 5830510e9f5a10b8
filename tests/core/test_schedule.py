"""Schedules: parsing errors a guard can act on, and "what now, until when"."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from signage_core.errors import ScheduleError
from signage_core.schedule import Schedule, evaluate

VN = timedelta(hours=7)


def at(local: str) -> datetime:
    """A UTC instant from a Huế wall-clock time."""
    return datetime.fromisoformat(local).replace(tzinfo=UTC) - VN


PLAYLISTS: list[dict[str, Any]] = [
    {"id": "open", "priority": 10, "schedule": {"windows": [{"start": "07:00", "end": "17:00"}]}},
    {
        "id": "closed",
        "priority": 10,
        "schedule": {"windows": [{"start": "17:00", "end": "07:00"}]},
    },
    {
        "id": "tet",
        "priority": 20,
        "schedule": {"start_date": "2027-02-05", "end_date": "2027-02-09"},
    },
    {"id": "weekend", "priority": 5, "schedule": {"weekdays": ["sat", "sun"]}},
    {"id": "welcome", "priority": 0, "fallback": True},
]


def test_daily_window_and_its_end() -> None:
    slot = evaluate(PLAYLISTS, at("2026-11-26T09:30"))
    assert slot.playlist_ids == ("open",)
    assert slot.next_change_at == at("2026-11-26T17:00")


def test_window_across_midnight() -> None:
    slot = evaluate(PLAYLISTS, at("2026-11-26T23:00"))
    assert slot.playlist_ids == ("closed",)
    assert slot.next_change_at == at("2026-11-27T07:00")
    assert evaluate(PLAYLISTS, at("2026-11-27T03:00")).playlist_ids == ("closed",)


def test_weekday_window_across_midnight_belongs_to_the_day_it_starts() -> None:
    s = Schedule.from_dict({"weekdays": ["mon"], "windows": [{"start": "22:00", "end": "02:00"}]})
    tz = UTC
    assert s.is_active(datetime(2026, 11, 30, 23, 0, tzinfo=tz))  # Monday night
    assert s.is_active(datetime(2026, 12, 1, 1, 0, tzinfo=tz))  # Tuesday 01:00
    assert not s.is_active(datetime(2026, 11, 30, 1, 0, tzinfo=tz))  # Monday 01:00


def test_higher_priority_date_range_wins() -> None:
    assert evaluate(PLAYLISTS, at("2027-02-06T10:00")).playlist_ids == ("tet",)
    assert evaluate(PLAYLISTS, at("2027-02-04T20:00")).next_change_at == at("2027-02-05T00:00")


def test_fallback_plays_when_nothing_is_scheduled() -> None:
    only = [PLAYLISTS[0], PLAYLISTS[-1]]
    slot = evaluate(only, at("2026-11-26T20:00"))
    assert slot.playlist_ids == ("welcome",)
    assert slot.next_change_at == at("2026-11-27T07:00")


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"start_date": "2027-01-31", "end_date": "2026-12-01"}, "ends .* before it starts"),
        ({"windows": [{"start": "7h", "end": "17:00"}]}, "expected a time like 07:30"),
        ({"windows": [{"start": "07:00", "end": "07:00"}]}, "ends when it starts"),
        ({"weekdays": ["monday"]}, "is not one of"),
        ({"weekday": ["mon"]}, "unknown schedule field"),
        ({"start_date": "31/12/2026"}, "expected a date like"),
        ("always", "must be a mapping"),
    ],
)
def test_malformed_schedules_are_refused_with_a_reason(raw: Any, message: str) -> None:
    with pytest.raises(ScheduleError, match=message):
        Schedule.from_dict(raw)


def test_schedule_round_trips() -> None:
    raw = {
        "start_date": "2026-12-01",
        "end_date": "2027-01-31",
        "weekdays": ["mon", "fri"],
        "windows": [{"start": "22:00", "end": "02:00"}, {"start": "07:00", "end": "24:00"}],
    }
    s = Schedule.from_dict(raw)
    assert Schedule.from_dict(s.to_dict()) == s


times = st.sampled_from([f"{h:02d}:{m:02d}" for h in range(24) for m in (0, 15, 30, 45)])
schedules = st.fixed_dictionaries(
    {},
    optional={
        "weekdays": st.lists(
            st.sampled_from(["mon", "tue", "wed", "thu", "fri", "sat", "sun"]),
            min_size=1,
            unique=True,
        ),
        "windows": st.lists(
            st.tuples(times, times)
            .filter(lambda w: w[0] != w[1])
            .map(lambda w: {"start": w[0], "end": w[1]}),
            max_size=3,
        ),
    },
)
instants = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2028, 1, 1), timezones=st.just(UTC)
)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.tuples(schedules, st.integers(0, 3)), min_size=1, max_size=4),
    instants,
    st.floats(0, 1),
)
def test_the_answer_holds_until_next_change(
    specs: list[tuple[dict[str, Any], int]], now: datetime, fraction: float
) -> None:
    playlists = [
        {"id": f"p{i}", "priority": prio, "schedule": spec} for i, (spec, prio) in enumerate(specs)
    ] + [{"id": "fallback", "priority": 0, "fallback": True}]
    slot = evaluate(playlists, now)
    horizon = slot.next_change_at or now + timedelta(days=7)
    probe = now + (horizon - now) * fraction
    if probe < horizon:
        assert evaluate(playlists, probe).playlist_ids == slot.playlist_ids
    if slot.next_change_at is not None:
        assert slot.next_change_at > now
        assert evaluate(playlists, slot.next_change_at).playlist_ids != slot.playlist_ids
