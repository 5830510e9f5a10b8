"""Line break opportunities from ICU, for ``signage_core.text.wrap``.

ICU's line breaker finds Lao word boundaries with its Lao dictionary (Lao has no
spaces between words) and applies the usual rules to Vietnamese and English.
ICU counts in UTF-16 code units; this adapter returns Python string indexes.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

from icu4py.breakers import LineBreaker

DEFAULT_LOCALE = "lo"


def break_opportunities(text: str, locale: str = DEFAULT_LOCALE) -> list[int]:
    """Indexes of ``text`` where a new line may start (0 and ``len(text)`` excluded)."""
    return list(_cached(text, locale))


@lru_cache(maxsize=512)
def _cached(text: str, locale: str) -> tuple[int, ...]:
    if not text:
        return ()
    to_index = _utf16_to_index(text)
    out = []
    for start, _end in LineBreaker(text, locale).segments():
        index = to_index(start)
        if 0 < index < len(text):
            out.append(index)
    return tuple(out)


def _utf16_to_index(text: str) -> Callable[[int], int]:
    if all(ord(ch) <= 0xFFFF for ch in text):
        return int
    table: dict[int, int] = {}
    offset = 0
    for i, ch in enumerate(text):
        table[offset] = i
        offset += 2 if ord(ch) > 0xFFFF else 1
    table[offset] = len(text)
    return table.__getitem__
