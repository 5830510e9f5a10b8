"""Text layout decisions for screens: script runs and line breaking.

Two problems of drawing Vietnamese and Lao with the toolkit's text renderer:

* It has no per-glyph font fallback, and Noto Sans Lao has no Latin letters,
  digits or hyphen. ``script_runs`` cuts a string into runs, each drawn with one
  font: ``"Laoo"`` (Noto Sans Lao) for the Lao block, ``"Latn"`` (Noto Sans) for
  everything else. A character both fonts draw (a space, a no-break space, the
  zero-width joiners, the kip sign) joins the run next to it instead of cutting
  ``ລາວ ຫວຽດ`` in three. ``font_runs`` cuts these runs again where the script's
  font has no glyph (→, ≈, ✓) and a fallback font does.
* Lao writes no spaces between words, and the renderer would wrap it between any
  two letters. ``wrap`` fills lines greedily, breaking only where the caller's
  break opportunities allow (a word segmenter finds them; this module does not),
  and splits a single word only when it is wider than the line — then between
  grapheme-like clusters, never between a Lao consonant and its vowel or tone mark.

Measuring text (which font, which size) and finding break opportunities
(the ICU Lao dictionary) are the caller's job; both come in as arguments.
"""

from __future__ import annotations

import bisect
import itertools
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence, Set
from dataclasses import dataclass
from typing import Literal

Script = Literal["Laoo", "Latn"]

LAO_BLOCK = range(0x0E80, 0x0F00)
# Lao vowel and tone marks written above or below their consonant.
LAO_COMBINING = frozenset({0x0EB1, *range(0x0EB4, 0x0EBD), *range(0x0EC8, 0x0ECE)})
# Lao AM (U+0EB3) draws its circle over the preceding consonant: it stays with it.
LAO_SPACING_MARKS = frozenset({0x0EB3})
# Lao vowels written before the consonant they follow in speech (ເ ແ ໂ ໃ ໄ).
LAO_PREPOSED = frozenset(range(0x0EC0, 0x0EC5))
ZWJ = "\u200d"

# Characters outside the Lao block that Noto Sans Lao draws too (its cmap, read with
# fontTools; ``coverage.shared_characters`` recomputes it from the fonts and a test
# checks the two agree). Carriage return is left out: it is a line break, not drawn.
LAO_FONT_SHARED = frozenset(" \u00a0\u200b\u200c\u200d\u20ad\u25cc")

_HARD_BREAK = re.compile(r"\r\n|[\n\r\u2028\u2029]")


@dataclass(frozen=True)
class Run:
    """A piece of text drawn with one font."""

    text: str
    script: Script


def is_lao(ch: str) -> bool:
    return ord(ch) in LAO_BLOCK


def script_runs(text: str, shared: frozenset[str] = LAO_FONT_SHARED) -> list[Run]:
    """Cut ``text`` into runs of one script each, in order; joined they give back ``text``.

    A character of ``shared`` (drawn by both fonts) joins the run before it, or the
    run after it at the start of the text; text made only of such characters is
    one ``"Latn"`` run. Line breaks and tabs count as shared: they are not drawn.
    """
    runs: list[Run] = []
    pending = ""  # shared characters before the first run
    current = ""
    script: Script | None = None
    for ch in text:
        if ch in shared or ch in "\n\r\t":
            if script is None:
                pending += ch
            else:
                current += ch
            continue
        ch_script: Script = "Laoo" if is_lao(ch) else "Latn"
        if script is None:
            script, current, pending = ch_script, pending + ch, ""
        elif ch_script == script:
            current += ch
        else:
            runs.append(Run(current, script))
            script, current = ch_script, ch
    if script is None:
        return [Run(pending, "Latn")] if pending else []
    runs.append(Run(current, script))
    return runs


@dataclass(frozen=True)
class FontRun:
    """A piece of text drawn with one font file.

    ``script`` is the run's script (and HarfBuzz script tag); ``fallback`` is None
    for the script's own font, or the index of the fallback font that draws it.
    """

    text: str
    script: Script
    fallback: int | None = None


def font_runs(
    text: str,
    own: Mapping[Script, Set[int]],
    fallbacks: Sequence[Set[int]] = (),
    shared: frozenset[str] = LAO_FONT_SHARED,
) -> list[FontRun]:
    """``script_runs`` cut further where the script's own font has no glyph.

    ``own`` maps each script to the cmap of its font; ``fallbacks`` are the cmaps of
    the fallback fonts, in order of preference. A character its script's font lacks
    goes to the first fallback that has it; a mark follows its base character when
    that font has it too. A character no font has stays with its script's font (it
    would be a box: ``coverage.missing_glyphs`` refuses it before it is published).
    Joined, the runs give back ``text``.
    """
    out: list[FontRun] = []
    for run in script_runs(text, shared):
        cmap = own[run.script]
        pieces: list[tuple[str, int | None]] = []
        for ch in run.text:
            cp = ord(ch)
            target: int | None = None
            if ch not in "\n\r\t" and cp not in cmap:
                last = pieces[-1][1] if pieces else None
                if last is not None and _joins_previous(ch) and cp in fallbacks[last]:
                    target = last
                else:
                    target = next((i for i, f in enumerate(fallbacks) if cp in f), None)
            if pieces and pieces[-1][1] == target:
                pieces[-1] = (pieces[-1][0] + ch, target)
            else:
                pieces.append((ch, target))
        out.extend(FontRun(piece, run.script, target) for piece, target in pieces)
    return out


def _joins_previous(ch: str) -> bool:
    cp = ord(ch)
    if cp in LAO_COMBINING or cp in LAO_SPACING_MARKS:
        return True
    return unicodedata.category(ch) in ("Mn", "Mc", "Me") or 0xFE00 <= cp <= 0xFE0F


def clusters(text: str) -> list[str]:
    """Split ``text`` into grapheme-like clusters that a forced line break must not cut.

    A cluster is a character with the marks that follow it (Lao vowel and tone
    marks, Vietnamese combining accents, variation selectors); a Lao preposed
    vowel or a zero-width joiner also holds on to the character after it.
    """
    out: list[str] = []
    glue_next = False
    for ch in text:
        if out and (glue_next or _joins_previous(ch)):
            out[-1] += ch
        else:
            out.append(ch)
        glue_next = ch == ZWJ or ord(ch) in LAO_PREPOSED
    return out


def _paragraphs(text: str) -> Iterator[tuple[int, int]]:
    start = 0
    for m in _HARD_BREAK.finditer(text):
        yield start, m.start()
        start = m.end()
    yield start, len(text)


def wrap(
    text: str,
    max_width: float,
    measure: Callable[[str], float],
    break_opportunities: Iterable[int],
) -> list[str]:
    """Break ``text`` into lines no wider than ``max_width`` as ``measure`` sees them.

    ``break_opportunities`` are indexes into ``text`` where a new line may start
    (``text[:i]`` ends a line, ``text[i:]`` begins the next). Hard line breaks
    (``\\n``, ``\\r\\n``, U+2028, U+2029) always break; an empty paragraph gives an
    empty line. Lines carry no leading or trailing whitespace. Greedy: each line
    takes as many words as fit. A word wider than the line is split between
    ``clusters``; a line is wider than ``max_width`` only if it is one cluster.
    """
    breaks = sorted({i for i in break_opportunities if 0 < i < len(text)})
    lines: list[str] = []
    for start, end in _paragraphs(text):
        cuts = breaks[bisect.bisect_right(breaks, start) : bisect.bisect_left(breaks, end)]
        edges = [start, *cuts, end]
        units = [text[a:b] for a, b in itertools.pairwise(edges)]
        lines.extend(_fill(units, max_width, measure))
    return lines


def _fill(units: list[str], max_width: float, measure: Callable[[str], float]) -> list[str]:
    lines: list[str] = []
    line = ""
    for unit in units:
        candidate = (line + unit).lstrip()
        if not candidate.strip() or measure(candidate.rstrip()) <= max_width:
            line = candidate
            continue
        if line.strip():
            lines.append(line.rstrip())
            candidate = unit.lstrip()
            if measure(candidate.rstrip()) <= max_width:
                line = candidate
                continue
        *done, line = _split(candidate, max_width, measure)
        lines.extend(done)
    lines.append(line.strip())
    return lines


def _split(word: str, max_width: float, measure: Callable[[str], float]) -> list[str]:
    """Cut a word wider than the line between clusters; the last piece stays open."""
    pieces: list[str] = []
    piece = ""
    for cluster in clusters(word):
        if not piece.strip():  # nothing visible yet: whitespace after a break is dropped
            piece = (piece + cluster).lstrip()
        elif measure((piece + cluster).rstrip()) > max_width:
            pieces.append(piece.rstrip())
            piece = cluster.lstrip()
        else:
            piece += cluster
    pieces.append(piece)
    return pieces
