"""Schedules, and what plays now and until when.

A schedule (all fields optional; an empty schedule is "always")::

    {"start_date": "2026-12-01", "end_date": "2027-01-31",      # inclusive, local dates
     "weekdays": ["mon", "tue", "wed", "thu", "fri"],
     "windows": [{"start": "07:00", "end": "17:00"},            # [start, end) local time
                 {"start": "22:00", "end": "02:00"}]}           # across midnight

A window across midnight belongs to the day it starts on: a Monday-only
22:00–02:00 window covers Tuesday 01:00. Times are local to the manifest's
timezone (``Asia/Ho_Chi_Minh``). ``evaluate(playlists, now, tz)`` answers
``Slot(playlist_ids, next_change_at)``: the highest-priority playlists active
now (or the fallback ones when none is), and the next instant the answer can
change. The player arms one timer for that instant.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from .errors import ScheduleError

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
_KEYS = {"start_date", "end_date", "weekdays", "windows"}
DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"
# How far ahead next_change_at is searched for window and weekday edges.
_HORIZON_DAYS = 8


def _minutes(value: Any, field: str, allow_24: bool = False) -> int:
    if allow_24 and value == "24:00":
        return 24 * 60
    m = _HHMM.match(value) if isinstance(value, str) else None
    if not m:
        raise ScheduleError(f"{field}: expected a time like 07:30, got {value!r}")
    return int(m.group(1)) * 60 + int(m.group(2))


def _date(value: Any, field: str) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError) as e:
        raise ScheduleError(f"{field}: expected a date like 2026-12-01, got {value!r}") from e


@dataclass(frozen=True)
class Window:
    start: int  # minutes after local midnight
    end: int  # minutes after local midnight; < start means "the next day"

    @property
    def crosses_midnight(self) -> bool:
        return self.end < self.start


@dataclass(frozen=True)
class Schedule:
    start_date: date | None = None
    end_date: date | None = None
    weekdays: frozenset[int] | None = None  # 0 = Monday
    windows: tuple[Window, ...] = ()

    @classmethod
    def from_dict(cls, d: Any) -> Schedule:
        if d is None:
            return cls()
        if not isinstance(d, Mapping):
            raise ScheduleError(
                "a schedule must be a mapping of start_date, end_date, weekdays, windows"
            )
        unknown = set(d) - _KEYS
        if unknown:
            raise ScheduleError(
                f"unknown schedule field(s) {sorted(unknown)}; allowed: {sorted(_KEYS)}"
            )
        start = _date(d["start_date"], "start_date") if d.get("start_date") is not None else None
        end = _date(d["end_date"], "end_date") if d.get("end_date") is not None else None
        if start and end and end < start:
            raise ScheduleError(f"the schedule ends ({end}) before it starts ({start})")
        weekdays = None
        if d.get("weekdays") is not None:
            raw = d["weekdays"]
            if not isinstance(raw, list) or not raw:
                raise ScheduleError("weekdays: give a non-empty list such as [mon, tue]")
            days = set()
            for w in raw:
                if not isinstance(w, str) or w.lower() not in WEEKDAYS:
                    raise ScheduleError(f"weekdays: {w!r} is not one of {', '.join(WEEKDAYS)}")
                days.add(WEEKDAYS.index(w.lower()))
            weekdays = frozenset(days)
        windows = []
        raw_windows = d.get("windows") or []
        if not isinstance(raw_windows, list):
            raise ScheduleError("windows: give a list of {start: 'HH:MM', end: 'HH:MM'}")
        for i, w in enumerate(raw_windows):
            if not isinstance(w, Mapping) or set(w) != {"start", "end"}:
                raise ScheduleError(
                    f"windows[{i}]: give exactly start and end, like 07:00 and 17:00"
                )
            s = _minutes(w["start"], f"windows[{i}].start")
            e = _minutes(w["end"], f"windows[{i}].end", allow_24=True)
            if e == s:
                raise ScheduleError(f"windows[{i}]: the window ends when it starts ({w['start']})")
            windows.append(Window(s, e % (24 * 60) if e == 24 * 60 else e))
        return cls(start, end, weekdays, tuple(windows))

    def to_dict(self) -> dict[str, Any]:
        def hhmm(m: int) -> str:
            return f"{m // 60:02d}:{m % 60:02d}"

        out: dict[str, Any] = {}
        if self.start_date:
            out["start_date"] = self.start_date.isoformat()
        if self.end_date:
            out["end_date"] = self.end_date.isoformat()
        if self.weekdays is not None:
            out["weekdays"] = [WEEKDAYS[i] for i in sorted(self.weekdays)]
        if self.windows:
            out["windows"] = [{"start": hhmm(w.start), "end": hhmm(w.end)} for w in self.windows]
        return out

    def _day_matches(self, day: date) -> bool:
        if self.start_date and day < self.start_date:
            return False
        if self.end_date and day > self.end_date:
            return False
        return self.weekdays is None or day.weekday() in self.weekdays

    def is_active(self, local: datetime) -> bool:
        """Whether the schedule covers the local wall-clock time ``local``."""
        day = local.date()
        minute = local.hour * 60 + local.minute
        if not self.windows:
            return self._day_matches(day)
        for w in self.windows:
            if w.crosses_midnight:
                # 24:00 ends at midnight: stored as end 0, which "crosses" with nothing after.
                if self._day_matches(day) and minute >= w.start:
                    return True
                if w.end and self._day_matches(day - timedelta(days=1)) and minute < w.end:
                    return True
            elif self._day_matches(day) and w.start <= minute < w.end:
                return True
        return False

    def edges(self, around: date) -> Iterable[tuple[date, int]]:
        """Local (day, minute) instants near ``around`` where activity may change."""
        for offset in range(-1, _HORIZON_DAYS + 1):
            day = around + timedelta(days=offset)
            yield day, 0
            for w in self.windows:
                yield day, w.start
                yield day, w.end
        for d in (self.start_date, self.end_date and self.end_date + timedelta(days=1)):
            if d:
                yield d, 0


@dataclass(frozen=True)
class Slot:
    playlist_ids: tuple[str, ...]
    next_change_at: datetime | None  # None: nothing changes within the horizon


def _local(day: date, minute: int, tz: tzinfo) -> datetime:
    return datetime.combine(day, time(minute // 60, minute % 60), tzinfo=tz)


def _choose(
    playlists: Sequence[Mapping[str, Any]], schedules: Sequence[Schedule], local: datetime
) -> tuple[str, ...]:
    active = [
        p
        for p, s in zip(playlists, schedules, strict=True)
        if not p.get("fallback") and s.is_active(local)
    ]
    if not active:
        return tuple(str(p["id"]) for p in playlists if p.get("fallback"))
    top = max(int(p.get("priority", 0)) for p in active)
    return tuple(str(p["id"]) for p in active if int(p.get("priority", 0)) == top)


def evaluate(
    playlists: Sequence[Mapping[str, Any]], now: datetime, tz: str | tzinfo = DEFAULT_TIMEZONE
) -> Slot:
    """What plays at ``now`` (aware) and until when. Playlists are manifest playlist dicts."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    zone = ZoneInfo(tz) if isinstance(tz, str) else tz
    local = now.astimezone(zone).replace(second=0, microsecond=0)
    schedules = [Schedule.from_dict(p.get("schedule")) for p in playlists]
    current = _choose(playlists, schedules, local)
    now_local = now.astimezone(zone)
    candidates = sorted(
        {_local(day, minute, zone) for s in schedules for day, minute in s.edges(local.date())}
        | {_local(local.date() + timedelta(days=k), 0, zone) for k in range(1, _HORIZON_DAYS + 1)}
    )
    for at in candidates:
        if at <= now_local:
            continue
        if _choose(playlists, schedules, at) != current:
            return Slot(current, at.astimezone(now.tzinfo))
    return Slot(current, None)
