"""Font coverage: which characters of a text the screen's fonts cannot draw.

A character the run's font lacks is drawn as a box (tofu), and the renderer
falls back to no other font by itself. The devices ship, besides Noto Sans and
Noto Sans Lao, the fallback fonts ``FALLBACK_FONTS`` (arrows and math signs
from Noto Sans Math, pictographic signs from Noto Sans Symbols 2), and the
player draws each character its script's font lacks with the first fallback
that has it. ``missing_glyphs`` cuts the text into the same font runs the
player draws (``text.font_runs``) and checks each character against the cmap
of its run's font. Content checks and tests call it before a border guard's
text reaches a screen.

Reading a font file is the only I/O here (``load_cmap``, with fontTools); the
caller decides which files.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence, Set
from os import PathLike

from fontTools.ttLib import TTFont

from .text import LAO_BLOCK, Script, font_runs

# Fallback fonts shipped with the devices (``assets/fonts``), in order of preference; one
# weight each: bold text borrows their regular glyphs.
FALLBACK_FONTS = ("NotoSansMath-Regular.ttf", "NotoSansSymbols2-Regular.ttf")

# Layout characters: line breaks and tabs are handled by the layout, never drawn.
LAYOUT_CHARACTERS = frozenset("\n\r\t\u2028\u2029")


def load_cmap(path: str | PathLike[str]) -> frozenset[int]:
    """The code points a font file maps to glyphs."""
    with TTFont(path, lazy=True) as font:
        cmap = font.getBestCmap()
    return frozenset(cmap or ())


def shared_characters(lao_cmap: Set[int], latin_cmap: Set[int]) -> frozenset[str]:
    """Characters outside the Lao block that both fonts draw (they may join either run)."""
    return frozenset(
        chr(cp)
        for cp in lao_cmap & latin_cmap
        if cp not in LAO_BLOCK and unicodedata.category(chr(cp)) != "Cc"
    )


def missing_glyphs(
    text: str, lao_cmap: Set[int], latin_cmap: Set[int], fallbacks: Sequence[Set[int]] = ()
) -> list[str]:
    """Characters of ``text`` no font of its run has, each once, in order of appearance.

    ``fallbacks`` are the cmaps of the fallback fonts, in the player's order.
    """
    shared = shared_characters(lao_cmap, latin_cmap)
    missing: dict[str, None] = {}
    own: dict[Script, Set[int]] = {"Laoo": lao_cmap, "Latn": latin_cmap}
    for run in font_runs(text, own, fallbacks, shared):
        cmap = own[run.script] if run.fallback is None else fallbacks[run.fallback]
        for ch in run.text:
            if ch not in LAYOUT_CHARACTERS and ord(ch) not in cmap:
                missing[ch] = None
    return list(missing)
