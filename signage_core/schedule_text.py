"""A schedule in plain words, Vietnamese or English: "Thứ Hai–Thứ Sáu, 07:00–11:30".

For the editor's schedule form and the playlist list, so a border guard can
check at a glance what the fields say. ``summary(schedule, "vi" | "en")``:

- weekdays: a run of three or more days is a range (Thứ Hai–Thứ Sáu; a run may
  wrap past Sunday), all seven are "Hằng ngày", five or six days that are not one
  run inside the week (Monday to Sunday) read "Hằng ngày trừ Thứ Tư" (every day
  except Wednesday);
- windows: ``07:00–11:30``; one across midnight says so ("22:00–02:00 hôm sau");
  no windows is "cả ngày" (all day);
- dates: "từ 01/12/2026 đến 31/01/2027" (inclusive).

Pure: no clock, no I/O; the schedule is ``schedule.Schedule``.
"""

from __future__ import annotations

from datetime import date

from .schedule import Schedule, Window

_DAYS = {
    "vi": ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ Nhật"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}
_WORDS = {
    "vi": {
        "always": "Luôn luôn",
        "every_day": "Hằng ngày",
        "except": "Hằng ngày trừ {days}",
        "and": " và ",
        "all_day": "cả ngày",
        "next_day": "{start}–{end} hôm sau",
        "from_to": "từ {start} đến {end}",
        "from": "từ {start}",
        "until": "đến hết {end}",
    },
    "en": {
        "always": "Always",
        "every_day": "Every day",
        "except": "Every day except {days}",
        "and": " and ",
        "all_day": "all day",
        "next_day": "{start}–{end} the next day",
        "from_to": "from {start} to {end}",
        "from": "from {start}",
        "until": "until {end}",
    },
}
_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
LANGUAGES = tuple(_DAYS)


def _runs(days: frozenset[int]) -> list[list[int]]:
    """Consecutive runs of weekdays (0 = Monday), a run may wrap from Sunday to Monday."""
    if len(days) == 7:
        return [list(range(7))]
    start = next(d for d in range(7) if d in days and (d - 1) % 7 not in days)
    runs: list[list[int]] = []
    for k in range(7):
        d = (start + k) % 7
        if d not in days:
            continue
        if runs and (runs[-1][-1] + 1) % 7 == d:
            runs[-1].append(d)
        else:
            runs.append([d])
    return runs


def _join(parts: list[str], lang: str) -> str:
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + _WORDS[lang]["and"] + parts[-1]


def _weekdays(days: frozenset[int] | None, lang: str) -> str:
    names, words = _DAYS[lang], _WORDS[lang]
    if days is None or len(days) == 7:
        return words["every_day"]
    runs = _runs(days)
    if len(days) >= 5 and (len(runs) > 1 or runs[0][0] > runs[0][-1]):
        missing = [names[d] for d in range(7) if d not in days]
        return words["except"].format(days=_join(missing, lang))
    parts = []
    for run in runs:
        if len(run) >= 3:
            parts.append(f"{names[run[0]]}–{names[run[-1]]}")
        else:
            parts.extend(names[d] for d in run)
    return ", ".join(parts)


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _window(w: Window, lang: str) -> str:
    if w.end == 0:  # "until 24:00", stored as midnight
        return f"{_hhmm(w.start)}–24:00"
    if w.crosses_midnight:
        return _WORDS[lang]["next_day"].format(start=_hhmm(w.start), end=_hhmm(w.end))
    return f"{_hhmm(w.start)}–{_hhmm(w.end)}"


def format_date(d: date, lang: str) -> str:
    """``01/12/2026`` in Vietnamese, ``1 Dec 2026`` in English."""
    if lang == "vi":
        return d.strftime("%d/%m/%Y")
    return f"{d.day} {_MONTHS_EN[d.month - 1]} {d.year}"


def summary(schedule: Schedule, lang: str = "vi") -> str:
    """The schedule in plain words; ``lang`` is ``vi`` or ``en`` (others: ``ValueError``)."""
    if lang not in _WORDS:
        raise ValueError(f"no schedule wording for {lang!r}; one of {', '.join(LANGUAGES)}")
    words = _WORDS[lang]
    if schedule == Schedule():
        return words["always"]
    times = (
        ", ".join(_window(w, lang) for w in sorted(schedule.windows, key=lambda w: w.start))
        or words["all_day"]
    )
    text = f"{_weekdays(schedule.weekdays, lang)}, {times}"
    start, end = schedule.start_date, schedule.end_date
    if start and end:
        text += "; " + words["from_to"].format(
            start=format_date(start, lang), end=format_date(end, lang)
        )
    elif start:
        text += "; " + words["from"].format(start=format_date(start, lang))
    elif end:
        text += "; " + words["until"].format(end=format_date(end, lang))
    return text
