"""The schedule in plain words (the editor shows it under the schedule form)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from signage_core.schedule import WEEKDAYS, Schedule
from signage_core.schedule_text import summary


def text(d: dict[str, Any] | None, lang: str = "vi") -> str:
    return summary(Schedule.from_dict(d), lang)


WEEK = ["mon", "tue", "wed", "thu", "fri"]


@pytest.mark.parametrize(
    ("schedule", "vi", "en"),
    [
        (None, "Luôn luôn", "Always"),
        ({"weekdays": WEEK, "windows": [{"start": "07:00", "end": "11:30"}]},
         "Thứ Hai–Thứ Sáu, 07:00–11:30", "Monday–Friday, 07:00–11:30"),
        ({"windows": [{"start": "13:30", "end": "17:00"}, {"start": "07:00", "end": "11:30"}]},
         "Hằng ngày, 07:00–11:30, 13:30–17:00", "Every day, 07:00–11:30, 13:30–17:00"),
        ({"weekdays": ["fri", "sat"], "windows": [{"start": "22:00", "end": "02:00"}]},
         "Thứ Sáu, Thứ Bảy, 22:00–02:00 hôm sau", "Friday, Saturday, 22:00–02:00 the next day"),
        ({"weekdays": ["sat", "sun", "mon"]}, "Thứ Bảy–Thứ Hai, cả ngày",
         "Saturday–Monday, all day"),
        ({"weekdays": ["mon", "tue", "thu", "fri", "sat", "sun"]},
         "Hằng ngày trừ Thứ Tư, cả ngày", "Every day except Wednesday, all day"),
        ({"weekdays": ["mon", "wed", "fri", "sat", "sun"]},
         "Hằng ngày trừ Thứ Ba và Thứ Năm, cả ngày",
         "Every day except Tuesday and Thursday, all day"),
        ({"weekdays": ["mon", "wed", "fri"]}, "Thứ Hai, Thứ Tư, Thứ Sáu, cả ngày",
         "Monday, Wednesday, Friday, all day"),
        ({"windows": [{"start": "18:00", "end": "24:00"}]}, "Hằng ngày, 18:00–24:00",
         "Every day, 18:00–24:00"),
        ({"start_date": "2026-12-01", "end_date": "2027-01-31", "weekdays": WEEK,
          "windows": [{"start": "07:00", "end": "17:00"}]},
         "Thứ Hai–Thứ Sáu, 07:00–17:00; từ 01/12/2026 đến 31/01/2027",
         "Monday–Friday, 07:00–17:00; from 1 Dec 2026 to 31 Jan 2027"),
        ({"start_date": "2027-02-10"}, "Hằng ngày, cả ngày; từ 10/02/2027",
         "Every day, all day; from 10 Feb 2027"),
        ({"end_date": "2027-02-16"}, "Hằng ngày, cả ngày; đến hết 16/02/2027",
         "Every day, all day; until 16 Feb 2027"),
    ],
)  # fmt: skip
def test_plain_words(schedule: dict[str, Any] | None, vi: str, en: str) -> None:
    assert text(schedule, "vi") == vi
    assert text(schedule, "en") == en


def test_an_unknown_language_is_refused() -> None:
    with pytest.raises(ValueError, match="vi, en"):
        text(None, "lo")


@given(st.sets(st.sampled_from(WEEKDAYS), min_size=1))
def test_every_weekday_set_reads_back_to_the_same_days(days: set[str]) -> None:
    """Each day the schedule plays is named (or covered by a range or "every day"), and a
    day it does not play is never named as playing."""
    names = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
    words = text({"weekdays": sorted(days)}, "en").removesuffix(", all day")
    if words == "Every day":
        assert len(days) == 7
        return
    if words.startswith("Every day except "):
        excluded = {n for n in names if n in words}
        assert {WEEKDAYS[names.index(n)] for n in excluded} == set(WEEKDAYS) - days
        return
    covered: set[str] = set()
    for part in words.split(", "):
        if "–" in part:
            a, b = (names.index(x) for x in part.split("–"))
            k = a
            while True:
                covered.add(WEEKDAYS[k])
                if k == b:
                    break
                k = (k + 1) % 7
        else:
            covered.add(WEEKDAYS[names.index(part)])
    assert covered == days
