"""Screen layouts as data: what a manifest's ``layout`` says, checked, and what its zones show.

A manifest may carry a ``layout`` (signed with the rest); without one a screen
shows today's full-screen card. Its form::

    {"orientation": "landscape" | "portrait",
     "header": true,                 # the site's name, the local date and a ticking clock
     "ticker": true,                 # short notices scrolling along the bottom
     "title": {"vi": "Cửa khẩu A Đớt", "lo": "ດ່ານ ອາເດີດ", "en": "A Dot Border Gate"},
     "notices": [{"id": "adot-notice-passport",
                  "texts": {"vi": "...", "lo": "...", "en": "..."},
                  "until": "2026-12-31T17:00:00Z" or null}]}

Here only pure decisions, each with the time as an argument: ``parse_layout``
checks the shape (``ManifestError``), ``header_text`` says what the header reads
at an instant, ``ticker_segments`` which notice texts scroll at an instant and in
which order, ``ticker_offset`` where the strip stands after some seconds, and
``next_second`` when the clock must next change. Sizes, fonts and drawing are the
player's; authoring and inheritance down the site tree are the server's.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from . import languages
from .errors import LanguageError, ManifestError
from .timefmt import format_time, parse_time

ORIENTATIONS = ("landscape", "portrait")
BILINGUAL_MODES = ("sequential", "side_by_side")
MAX_NOTICES = 20
# A notice is read while it passes: a sentence, not a paragraph. Also keeps each
# segment's texture well under a GPU's largest texture width.
MAX_NOTICE_CHARS = 160
MAX_TITLE_CHARS = 80
# The ticker moves this many of its own text heights per second: about 6 characters of
# Vietnamese a second, readable from the back of a queue (broadcast crawls run 4–8).
TICKER_HEIGHTS_PER_S = 3.0
SEPARATOR = "•"

# Weekday names, Monday first, per language; a language without its own names uses
# the first of its fallbacks that has them (``signage_core.languages``).
WEEKDAYS: dict[str, tuple[str, ...]] = {
    "vi": ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ Nhật"),
    "lo": ("ວັນຈັນ", "ວັນອັງຄານ", "ວັນພຸດ", "ວັນພະຫັດ", "ວັນສຸກ", "ວັນເສົາ", "ວັນອາທິດ"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}


@dataclass(frozen=True)
class Notice:
    id: str
    texts: dict[str, str]
    until: datetime | None = None

    def active(self, now: datetime) -> bool:
        return self.until is None or now < self.until


@dataclass(frozen=True)
class Layout:
    orientation: str
    header: bool
    ticker: bool
    title: dict[str, str]
    notices: tuple[Notice, ...]


@dataclass(frozen=True)
class HeaderText:
    """What the header reads at one instant."""

    title: tuple[tuple[str, str], ...]  # (language, the site's name), in the site's order
    clock: str  # "14:05:09", local time
    date: str  # "Thứ Tư · ວັນພຸດ · Wednesday · 02/12/2026"


@dataclass(frozen=True)
class Segment:
    """One notice in one language, as it scrolls past."""

    notice_id: str
    language: str
    text: str


def _texts(value: Any, where: str, max_chars: int) -> dict[str, str]:
    if not isinstance(value, dict) or not value:
        raise ManifestError(f"{where}: give the text per language, e.g. {{vi: ..., lo: ...}}")
    out: dict[str, str] = {}
    for code, text in value.items():
        if not isinstance(code, str) or not isinstance(text, str):
            raise ManifestError(f"{where}: each language's text must be a string")
        text = " ".join(text.split())  # one line: a ticker and a header never break lines
        if not text:
            raise ManifestError(f"{where}.{code}: the text is empty")
        if len(text) > max_chars:
            raise ManifestError(
                f"{where}.{code}: {len(text)} characters; keep it to {max_chars} or fewer"
            )
        if any(unicodedata.category(c) in ("Cc", "Cf") and c != "\u200b" for c in text):
            raise ManifestError(f"{where}.{code}: the text holds control characters")
        out[code] = text
    return out


def parse_notice(value: Any, where: str = "notice") -> Notice:
    if not isinstance(value, dict):
        raise ManifestError(f"{where}: must be an object")
    nid = value.get("id")
    if not isinstance(nid, str) or not nid:
        raise ManifestError(f"{where}: 'id' is missing")
    until = value.get("until")
    return Notice(
        id=nid,
        texts=_texts(value.get("texts"), f"{where} {nid}", MAX_NOTICE_CHARS),
        until=None if until is None else parse_time(until, f"{where} {nid}: until"),
    )


def parse_title(value: Any) -> dict[str, str]:
    """A header title ``{lang: name}``, checked (one line each); raise ``ManifestError``."""
    return _texts(value, "layout title", MAX_TITLE_CHARS)


def parse_layout(value: Any) -> Layout:
    """Check a manifest's ``layout``; raise ``ManifestError`` saying what is wrong."""
    if not isinstance(value, dict):
        raise ManifestError("layout: must be an object")
    unknown = set(value) - {"orientation", "header", "ticker", "title", "notices"}
    if unknown:
        raise ManifestError(f"layout: unknown key(s) {', '.join(sorted(unknown))}")
    orientation = value.get("orientation", "landscape")
    if orientation not in ORIENTATIONS:
        raise ManifestError(f"layout: orientation must be one of {', '.join(ORIENTATIONS)}")
    for key in ("header", "ticker"):
        if not isinstance(value.get(key, False), bool):
            raise ManifestError(f"layout: '{key}' must be true or false")
    notices = value.get("notices") or []
    if not isinstance(notices, list):
        raise ManifestError("layout: 'notices' must be a list")
    if len(notices) > MAX_NOTICES:
        raise ManifestError(f"layout: {len(notices)} notices; keep to {MAX_NOTICES} or fewer")
    parsed = tuple(parse_notice(n, f"layout notice #{i}") for i, n in enumerate(notices))
    ids = [n.id for n in parsed]
    if len(set(ids)) != len(ids):
        raise ManifestError("layout: two notices have the same id")
    title = value.get("title") or {}
    return Layout(
        orientation=orientation,
        header=bool(value.get("header", False)),
        ticker=bool(value.get("ticker", False)),
        title=parse_title(title) if title else {},
        notices=parsed,
    )


def layout_form(layout: Layout) -> dict[str, Any]:
    """The manifest form of ``layout`` (what ``parse_layout`` reads back)."""
    return {
        "orientation": layout.orientation,
        "header": layout.header,
        "ticker": layout.ticker,
        "title": dict(layout.title),
        "notices": [
            {
                "id": n.id,
                "texts": dict(n.texts),
                "until": None if n.until is None else format_time(n.until),
            }
            for n in layout.notices
        ],
    }


def _chain(code: str) -> tuple[str, ...]:
    try:
        return languages.chain(code)
    except LanguageError:
        return (code,)


def in_order(texts: Mapping[str, str], langs: Sequence[str]) -> list[tuple[str, str]]:
    """``(language, text)`` for each of ``langs`` (with fallback), each text at most once;
    a text in none of ``langs`` (nor their fallbacks) is left out unless nothing else is."""
    out: list[tuple[str, str]] = []
    seen: set[str] = set()
    for code in langs:
        for c in _chain(code):
            if c in texts:
                if c not in seen:
                    seen.add(c)
                    out.append((c, texts[c]))
                break
    if not out:
        out = list(texts.items())[:1]
    return out


def weekday(code: str, day: int) -> tuple[str, str] | None:
    """``(language, name)`` of weekday ``day`` (0 = Monday) in ``code`` or a fallback."""
    for c in _chain(code):
        if c in WEEKDAYS:
            return c, WEEKDAYS[c][day]
    return None


def local_time(now: datetime, timezone: str) -> datetime:
    try:
        return now.astimezone(ZoneInfo(timezone))
    except (ZoneInfoNotFoundError, ValueError):
        return now.astimezone(ZoneInfo("Asia/Ho_Chi_Minh"))


def header_text(
    title: Mapping[str, str],
    langs: Sequence[str],
    now: datetime,
    timezone: str,
    first: str | None = None,
) -> HeaderText:
    """The header at ``now`` (aware): the site's name in the site's languages (``first``,
    the language on screen, leads: the player shows it largest), the local time with
    seconds, and the weekday in each language with the day-first date."""
    local = local_time(now, timezone)
    names: list[str] = []
    for code in langs or ("vi",):
        picked = weekday(code, local.weekday())
        if picked is not None and picked[1] not in names:
            names.append(picked[1])
    date = f" {SEPARATOR} ".join([*names, local.strftime("%d/%m/%Y")])
    names_in_order = in_order(title, langs)
    if first is not None:
        lead = in_order(title, (first,))
        if lead and lead[0] in names_in_order:
            names_in_order.remove(lead[0])
            names_in_order.insert(0, lead[0])
    return HeaderText(
        title=tuple(names_in_order),
        clock=local.strftime("%H:%M:%S"),
        date=date,
    )


def next_second(now: datetime) -> float:
    """Seconds from ``now`` to the next whole second (when the clock must change)."""
    return 1.0 - now.microsecond / 1_000_000


def ticker_segments(
    notices: Sequence[Notice], langs: Sequence[str], now: datetime
) -> list[Segment]:
    """The notices still valid at ``now``, each in the site's languages in order."""
    return [
        Segment(n.id, code, text)
        for n in notices
        if n.active(now)
        for code, text in in_order(n.texts, langs)
    ]


def next_notice_change(notices: Sequence[Notice], now: datetime) -> datetime | None:
    """When the next notice valid at ``now`` runs out (the ticker must be rebuilt then)."""
    ends = [n.until for n in notices if n.until is not None and n.until > now]
    return min(ends) if ends else None


def ticker_offset(elapsed_s: float, speed: float, period: float, zone_width: float) -> float:
    """Where the strip's left edge stands in the zone ``elapsed_s`` after it entered from
    the right at ``speed`` (pixels a second). The strip is drawn again every ``period``
    pixels (its texts and the gap after them, ``ticker_copies`` times), so once its head
    has crossed the zone it loops without a gap: the offset stays in (-period, 0]."""
    if speed <= 0 or period <= 0:
        return 0.0
    travelled = elapsed_s * speed
    if travelled <= zone_width:
        return zone_width - travelled
    return -((travelled - zone_width) % period)


def ticker_copies(period: float, zone_width: float) -> int:
    """How many copies of a strip ``period`` pixels long fill a zone at every offset."""
    if period <= 0:
        return 1
    return int(zone_width // period) + 2


def ticker_speed(text_height: float) -> float:
    """Pixels a second for text ``text_height`` pixels tall: the same reading pace on a
    720p, 1080p and 4K screen."""
    return TICKER_HEIGHTS_PER_S * text_height


def bilingual_mode(playlist: Mapping[str, Any]) -> str:
    """A playlist's ``bilingual``: ``sequential`` (one language per card, in turn: the
    default) or ``side_by_side`` (the first two languages on one screen)."""
    mode = playlist.get("bilingual") or "sequential"
    if mode not in BILINGUAL_MODES:
        raise ManifestError(
            f"playlist {playlist.get('id')}: bilingual must be one of {', '.join(BILINGUAL_MODES)}"
        )
    return str(mode)
