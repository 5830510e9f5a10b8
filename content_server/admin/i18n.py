"""The admin's languages: Babel message catalogs, and dates and numbers the local way.

Vietnamese is the default, English is available (the switch in the page header
sets a cookie). Message ids are English; ``locale/vi/LC_MESSAGES/messages.po``
holds the Vietnamese. Catalogs are read from the ``.po`` files when the app
starts (no compiled ``.mo`` to forget to rebuild). A message missing from the
catalog is shown in English; ``tests/admin/test_catalog.py`` fails on any.

Times are shown in the gates' time zone (``admin_timezone``), whatever the
server's clock zone, with ``babel.dates``; numbers with ``babel.numbers``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale
from babel.dates import format_datetime, format_timedelta
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from markupsafe import Markup

from signage_core.timefmt import parse_time

from ..errors import InvalidInputError

LOCALE_DIR = Path(__file__).parent / "locale"
LANGUAGES = {"vi": "Tiếng Việt", "en": "English"}
DEFAULT_LANGUAGE = "vi"


def N_(message: str) -> str:
    """Mark a string for the catalog; it is translated where it is shown."""
    return message


def load_catalogs(folder: Path = LOCALE_DIR) -> dict[str, dict[str, str]]:
    """``{language: {msgid: msgstr}}`` for every catalog in ``folder``; English is the ids."""
    catalogs: dict[str, dict[str, str]] = {"en": {}}
    # messages.po, plus one file per part of the admin (content.po: media, playlists, reports)
    for po in sorted(folder.glob("*/LC_MESSAGES/*.po")):
        lang = po.parts[-3]
        with po.open("rb") as f:
            catalog = read_po(f, locale=lang)
        catalogs.setdefault(lang, {}).update(
            (str(m.id), str(m.string))
            for m in catalog
            if m.id and isinstance(m.id, str) and m.string and not m.fuzzy
        )
    return catalogs


@dataclass(frozen=True)
class Translator:
    """Everything a page needs to speak one language: messages, dates, numbers."""

    lang: str
    messages: Mapping[str, str]
    zone: ZoneInfo

    @property
    def locale(self) -> Locale:
        return Locale.parse(self.lang)

    def gettext(self, message: str, **params: Any) -> str:
        """The message in this language; ``%(name)s`` filled with ``params``."""
        text = self.messages.get(message) or message
        return text % params if params else text

    def markup(self, message: str, **params: Any) -> Markup:
        """For templates: like ``gettext``, the params escaped (``Markup`` % escapes)."""
        text = Markup(self.messages.get(message) or message)
        return text % params if params else text

    def when(self, value: datetime | str | None, *, seconds: bool = False) -> str:
        """A moment in the gates' time zone, like ``02/12/2026 15:04``."""
        if value is None or value == "":
            return "—"
        moment = parse_time(value) if isinstance(value, str) else value
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        pattern = "dd/MM/yyyy HH:mm:ss" if seconds else "dd/MM/yyyy HH:mm"
        if self.lang == "en":
            pattern = "d MMM yyyy HH:mm:ss" if seconds else "d MMM yyyy HH:mm"
        return format_datetime(moment, pattern, tzinfo=self.zone, locale=self.lang)

    def ago(self, value: datetime | str | None, now: datetime) -> str:
        """How long ago, in words: ``3 phút``."""
        if value is None or value == "":
            return "—"
        moment = parse_time(value) if isinstance(value, str) else value
        delta = max(now - moment, timedelta(0))
        return format_timedelta(-delta, threshold=1.5, add_direction=True, locale=self.lang)

    def number(self, value: float | int | None, digits: int = 0) -> str:
        if value is None:
            return "—"
        fmt = "#,##0" + ("." + "0" * digits if digits else "")
        return format_decimal(value, format=fmt, locale=self.lang)

    def size(self, n_bytes: int | None) -> str:
        """Bytes in the units people read: ``1,5 GB``."""
        if n_bytes is None:
            return "—"
        value = float(n_bytes)
        for unit in ("B", "KB", "MB", "GB"):
            if value < 1000 or unit == "GB":
                break
            value /= 1000
        return f"{self.number(value, 0 if unit == 'B' else 1)} {unit}"


class Languages:
    """The catalogs, loaded once per app."""

    def __init__(self, zone: str, folder: Path = LOCALE_DIR) -> None:
        self.catalogs = load_catalogs(folder)
        try:
            self.zone = ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError) as e:
            raise InvalidInputError(
                f"CONTENT_SERVER_ADMIN_TIMEZONE {zone!r} is not a time zone; "
                "use a name like Asia/Ho_Chi_Minh"
            ) from e

    def translator(self, lang: str | None) -> Translator:
        chosen = lang if lang in LANGUAGES else DEFAULT_LANGUAGE
        return Translator(chosen, self.catalogs.get(chosen, {}), self.zone)
