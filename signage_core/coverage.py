"""Font coverage: which characters of a text the screen's fonts cannot draw.

A character the run's font lacks is drawn as a box (tofu), and the renderer
falls back to no other font. ``missing_glyphs`` cuts the text into the same
script runs the player draws (``text.script_runs``) and checks each character
against the cmap of its run's font. Content checks and tests call it before a
border guard's text reaches a screen.

Reading a font file is the only I/O here (``load_cmap``, with fontTools); the
caller decides which files.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Set
from os import PathLike

from fontTools.ttLib import TTFont

from .text import LAO_BLOCK, script_runs

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


def missing_glyphs(text: str, lao_cmap: Set[int], latin_cmap: Set[int]) -> list[str]:
    """Characters of ``text`` its run's font has no glyph for, each once, in order of appearance."""
    shared = shared_characters(lao_cmap, latin_cmap)
    missing: dict[str, None] = {}
    for run in script_runs(text, shared):
        cmap = lao_cmap if run.script == "Laoo" else latin_cmap
        for ch in run.text:
            if ch not in LAYOUT_CHARACTERS and ord(ch) not in cmap:
                missing[ch] = None
    return list(missing)
