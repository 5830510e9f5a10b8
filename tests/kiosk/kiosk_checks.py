"""What every drawn kiosk screen must satisfy, from the driver's report (no Kivy here):
text inside its box, no glyph the fonts lack, touch targets of 9 mm at least."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from signage_core.coverage import FALLBACK_FONTS, load_cmap, missing_glyphs

FONTS = Path(__file__).resolve().parents[2] / "assets" / "fonts"
MM_PER_INCH = 25.4


@lru_cache(maxsize=1)
def cmaps() -> tuple[frozenset[int], frozenset[int], list[frozenset[int]]]:
    lao = load_cmap(FONTS / "NotoSansLao-Regular.ttf")
    latin = load_cmap(FONTS / "NotoSans-Regular.ttf")
    return lao, latin, [load_cmap(FONTS / name) for name in FALLBACK_FONTS]


def text_problems(texts: list[dict[str, Any]]) -> list[str]:
    """Texts that overflow or are clipped, and characters drawn as boxes."""
    lao, latin, fallbacks = cmaps()
    out = []
    for t in texts:
        x, y, w, h = t["rect"]
        px, py, pw, ph = t["parent"]
        if x < px - 1 or y < py - 1 or x + w > px + pw + 1 or y + h > py + ph + 1:
            out.append(f"outside its widget ({t['rect']} not in {t['parent']}): {t['text'][:40]!r}")
        if t["content_width"] > w + 1:
            out.append(f"too wide ({t['content_width']} > {w}): {t['text'][:40]!r}")
        if t["fit"] and t["content_height"] > h + 1:
            out.append(f"too tall ({t['content_height']} > {h}): {t['text'][:40]!r}")
        if not t["lines"]:
            out.append(f"not laid out: {t['text'][:40]!r}")
        missing = missing_glyphs(t["text"], lao, latin, fallbacks)
        if missing:
            out.append(f"no glyph for {missing!r} in {t['text'][:40]!r}")
    return out


def small_targets(drawn: dict[str, Any]) -> list[str]:
    """Buttons smaller than 9 mm at the screen's DPI on either side."""
    nine_mm = 9 / MM_PER_INCH * drawn["dpi"]
    assert abs(drawn["touch_min"] - nine_mm) < 1, (drawn["touch_min"], nine_mm)
    return [
        f"{t['action']} is {t['rect'][2]}x{t['rect'][3]} px, less than 9 mm ({nine_mm:.0f} px)"
        for t in drawn["targets"]
        if min(t["rect"][2], t["rect"][3]) < nine_mm - 0.5
    ]


def check_screen(drawn: dict[str, Any]) -> None:
    problems = text_problems(drawn["texts"]) + small_targets(drawn)
    assert not problems, (drawn["screen"], drawn["language"], drawn.get("id"), problems)


def has_lao(text: str) -> bool:
    return any("\u0e80" <= ch <= "\u0eff" for ch in text)
