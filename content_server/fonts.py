"""Can the devices draw this text? Font coverage of content, checked before publishing.

The devices ship Noto Sans and Noto Sans Lao, regular and bold, and the
fallback fonts Noto Sans Math and Noto Sans Symbols 2 (``assets/fonts``,
``coverage.FALLBACK_FONTS``). A text is cut into the player's font runs and
every character is looked up in its run's font (``signage_core.coverage``); a
character no shipped font can draw would be a box on the screen, so publishing
refuses it, naming the item, the language and the character. The cmaps are
read once per folder.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from signage_core.coverage import FALLBACK_FONTS, load_cmap, missing_glyphs

SOURCE_FONTS = Path(__file__).resolve().parents[1] / "assets" / "fonts"
_FACES = (
    ("NotoSansLao-Regular.ttf", "NotoSans-Regular.ttf"),
    ("NotoSansLao-Bold.ttf", "NotoSans-Bold.ttf"),
)


@dataclass(frozen=True)
class FontCoverage:
    faces: tuple[tuple[frozenset[int], frozenset[int]], ...]  # (lao, latin) per weight
    fallbacks: tuple[frozenset[int], ...] = ()  # one weight, used for both

    def missing(self, text: str) -> list[str]:
        """Characters some weight of the device fonts cannot draw, each once."""
        out: dict[str, None] = {}
        for lao, latin in self.faces:
            out.update(dict.fromkeys(missing_glyphs(text, lao, latin, self.fallbacks)))
        return list(out)


@lru_cache(maxsize=4)
def coverage(folder: Path | None) -> FontCoverage:
    root = folder or SOURCE_FONTS
    return FontCoverage(
        tuple((load_cmap(root / lao), load_cmap(root / latin)) for lao, latin in _FACES),
        # A folder of older device fonts without the fallbacks: their signs are refused.
        tuple(load_cmap(root / n) for n in FALLBACK_FONTS if (root / n).is_file()),
    )


def describe(ch: str) -> str:
    """``U+0E01 'ก' (Thai)``: the code point, the character and its script's name."""
    name = unicodedata.name(ch, "")
    script = name.split(" ")[0].title() if name else "unnamed"
    shown = ch if ch.isprintable() else "?"
    return f"U+{ord(ch):04X} '{shown}' ({script})"


def cannot_draw(where: str, chars: Iterable[str]) -> str:
    """The message for characters the device fonts cannot draw, ``where`` they are."""
    return f"{where}: {', '.join(describe(c) for c in chars)} cannot be drawn by the device fonts"
