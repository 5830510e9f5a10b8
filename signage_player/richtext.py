"""A Kivy widget that draws Vietnamese, Lao and English text, wrapped by words.

Kivy's SDL2 text provider shapes Lao with HarfBuzz but draws a whole label with
one font, Noto Sans Lao has no Latin letters, digits or hyphen, and neither font
has arrows or math signs (→, ≈). ``RichText`` therefore lays the text out itself:

1. lines from ``signage_core.text.wrap`` with ICU break opportunities
   (``linebreak``), measuring each candidate line run by run in its own font;
2. each line cut into ``font_runs``: script runs, cut again where the script's
   font lacks a glyph and a shipped fallback font (``coverage.FALLBACK_FONTS``)
   has it. Each run is rendered to a texture by a ``CoreLabel`` with its font —
   and with its HarfBuzz script: without ``font_script_name="Laoo"`` a tone mark
   collides with the vowel below it (ນ້ຳ, ເຂົ້າ) — and the runs are placed side by
   side on a common baseline.

Text from content is never parsed as markup. The widget either takes the
height its lines need (``fit=False``: give it ``size_hint_y: None``), or keeps
the height it is given and lowers the font size until the lines fit (``fit=True``),
so a long paragraph never overflows or gets clipped.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from kivy.clock import Clock
from kivy.core.text import Label as CoreLabel
from kivy.graphics import Color, InstructionGroup, Rectangle
from kivy.graphics.texture import Texture
from kivy.properties import (
    BooleanProperty,
    ColorProperty,
    ListProperty,
    NumericProperty,
    OptionProperty,
    StringProperty,
)
from kivy.uix.widget import Widget

from signage_core.coverage import FALLBACK_FONTS, load_cmap, shared_characters
from signage_core.text import LAO_FONT_SHARED, FontRun, Script, font_runs, script_runs, wrap

from .linebreak import break_opportunities
from .resources import resource_path


@dataclass(frozen=True)
class FontSet:
    """Font files per script, regular and bold, the characters both draw, and the
    fallback fonts (one weight) with the cmaps that decide which runs they draw."""

    regular: dict[Script, str]
    bold: dict[Script, str]
    shared: frozenset[str] = LAO_FONT_SHARED
    cmaps: dict[Script, frozenset[int]] | None = None  # None: no fallback is ever used
    fallbacks: tuple[str, ...] = ()
    fallback_cmaps: tuple[frozenset[int], ...] = ()

    def path(self, script: Script, bold: bool) -> str:
        return (self.bold if bold else self.regular)[script]

    def run_path(self, run: FontRun, bold: bool) -> str:
        if run.fallback is None:
            return self.path(run.script, bold)
        return self.fallbacks[run.fallback]

    def runs(self, text: str) -> list[FontRun]:
        if self.cmaps is None:
            return [FontRun(r.text, r.script) for r in script_runs(text, self.shared)]
        return font_runs(text, self.cmaps, self.fallback_cmaps, self.shared)


@lru_cache(maxsize=1)
def default_fonts() -> FontSet:
    """Noto Sans, Noto Sans Lao and the fallback fonts from ``assets/fonts``."""

    def font(name: str) -> str:
        return str(resource_path("assets", "fonts", name))

    regular: dict[Script, str] = {
        "Latn": font("NotoSans-Regular.ttf"),
        "Laoo": font("NotoSansLao-Regular.ttf"),
    }
    bold: dict[Script, str] = {
        "Latn": font("NotoSans-Bold.ttf"),
        "Laoo": font("NotoSansLao-Bold.ttf"),
    }
    cmaps: dict[Script, frozenset[int]] = {s: load_cmap(p) for s, p in regular.items()}
    shared = shared_characters(cmaps["Laoo"], cmaps["Latn"])
    fallbacks = tuple(font(name) for name in FALLBACK_FONTS)
    fallback_cmaps = tuple(load_cmap(p) for p in fallbacks)
    return FontSet(regular, bold, shared, cmaps, fallbacks, fallback_cmaps)


@lru_cache(maxsize=64)
def _measurer(font_path: str, size: int, script: Script) -> Any:
    # The ISO 15924 code is also HarfBuzz's script tag: "Laoo" makes marks stack right.
    return CoreLabel(font_name=font_path, font_size=size, font_script_name=script)


@lru_cache(maxsize=8192)
def _extents(font_path: str, size: int, script: Script, text: str) -> tuple[int, int]:
    w, h = _measurer(font_path, size, script).get_extents(text)
    return int(w), int(h)


@dataclass(frozen=True)
class FontMetrics:
    ascent: int
    height: int  # of a rendered line texture


@lru_cache(maxsize=64)
def _metrics(font_path: str, size: int, script: Script) -> FontMetrics:
    label = _measurer(font_path, size, script)
    return FontMetrics(int(label.get_ascent()), _extents(font_path, size, script, " ")[1])


class TextMeasure:
    """Widths and vertical metrics of mixed-script text at one size."""

    def __init__(self, fonts: FontSet, size: int, bold: bool) -> None:
        self.fonts, self.size, self.bold = fonts, size, bold

    def run_width(self, run: FontRun) -> int:
        path = self.fonts.run_path(run, self.bold)
        return _extents(path, self.size, run.script, run.text)[0] if run.text else 0

    def width(self, text: str) -> float:
        return float(sum(self.run_width(r) for r in self.fonts.runs(text)))

    def metrics(self, run: FontRun) -> FontMetrics:
        return _metrics(self.fonts.run_path(run, self.bold), self.size, run.script)


@dataclass(frozen=True)
class PlacedRun:
    texture: Texture
    x: int  # from the line's left edge
    width: int
    ascent: int


@dataclass(frozen=True)
class Layout:
    font_size: int
    lines: list[str]
    runs: list[list[PlacedRun]]  # per line
    line_widths: list[int]
    line_height: int  # glyph_height * line_spacing
    glyph_height: int  # of the tallest font used
    ascent: int  # of the tallest font used

    @property
    def height(self) -> int:
        return self.line_height * len(self.lines)


def normalize(text: str) -> str:
    """NFC (Vietnamese typed with combining accents), tabs as spaces."""
    return unicodedata.normalize("NFC", text).replace("\t", " ")


def layout_text(
    text: str,
    width: float,
    size: int,
    *,
    bold: bool = False,
    line_spacing: float = 1.1,
    fonts: FontSet | None = None,
    breaks: Callable[[str], list[int]] = break_opportunities,
    render: bool = True,
) -> Layout:
    """Wrap ``text`` to ``width`` at font size ``size`` and (if ``render``) render its runs
    in white; the widget tints them with its colour."""
    fonts = fonts or default_fonts()
    measure = TextMeasure(fonts, size, bold)
    lines = wrap(text, width, measure.width, breaks(text))
    kinds = {FontRun("", r.script, r.fallback) for line in lines for r in fonts.runs(line)}
    metrics = [measure.metrics(k) for k in kinds or {FontRun("", "Latn")}]
    ascent = max(m.ascent for m in metrics)
    glyph_height = max(m.height for m in metrics)
    line_height = round(glyph_height * line_spacing)
    placed: list[list[PlacedRun]] = []
    widths: list[int] = []
    for line in lines:
        x = 0
        row: list[PlacedRun] = []
        for run in fonts.runs(line):
            w = measure.run_width(run)
            if render and run.text.strip():
                label = CoreLabel(
                    text=run.text,
                    font_name=fonts.run_path(run, bold),
                    font_size=size,
                    font_script_name=run.script,
                )
                label.refresh()
                if label.texture is not None:
                    row.append(PlacedRun(label.texture, x, w, measure.metrics(run).ascent))
            x += w
        placed.append(row)
        widths.append(x)
    return Layout(size, lines, placed, widths, line_height, glyph_height, ascent)


# Properties whose change needs a new layout (position and alignment only need a redraw).
_LAYOUT_PROPERTIES = (
    "text",
    "font_size",
    "min_font_size",
    "bold",
    "line_spacing",
    "fit",
    "wrap",
)


class RichText(Widget):
    """Multi-script wrapped text; see the module docstring."""

    text = StringProperty("")
    font_size = NumericProperty(32)
    min_font_size = NumericProperty(12)
    bold = BooleanProperty(False)
    color = ColorProperty([1, 1, 1, 1])
    halign = OptionProperty("left", options=["left", "center", "right"])
    valign = OptionProperty("top", options=["top", "middle", "bottom"])
    line_spacing = NumericProperty(1.1)
    fit = BooleanProperty(False)
    wrap = BooleanProperty(True)  # False: one line per paragraph, however wide
    # Read-only results, for tests and for parents that size around the text.
    lines = ListProperty([])
    used_font_size = NumericProperty(0)
    content_height = NumericProperty(0)
    content_width = NumericProperty(0)

    def __init__(self, **kwargs: Any) -> None:
        self._layout: Layout | None = None
        self._group = InstructionGroup()
        self._relayout = Clock.create_trigger(self._do_layout, -1)
        self._redraw = Clock.create_trigger(self._draw, -1)
        super().__init__(**kwargs)
        self.canvas.add(self._group)
        for prop in _LAYOUT_PROPERTIES:
            self.fbind(prop, self._relayout)
        self.fbind("width", self._on_width)
        self.fbind("height", self._on_height)
        self.fbind("pos", self._redraw)
        self.fbind("halign", self._redraw)
        self.fbind("color", self._redraw)
        self.fbind("valign", self._redraw)
        self._relayout()

    def _on_width(self, *_: Any) -> None:
        if self.wrap:
            self._relayout()
        else:
            self._redraw()

    def _on_height(self, *_: Any) -> None:
        if self.fit:
            self._relayout()
        else:
            self._redraw()

    def _do_layout(self, *_: Any) -> None:
        text = normalize(self.text)
        size = max(1, int(self.font_size))
        width = self.width if self.wrap else float("inf")
        while True:
            fitting = self.fit and size > self.min_font_size
            layout = layout_text(
                text,
                width,
                size,
                bold=self.bold,
                line_spacing=self.line_spacing,
                render=not fitting,
            )
            if not fitting or layout.height <= self.height:  # type: ignore[has-type]  # Kivy: untyped
                break
            size = max(int(self.min_font_size), int(size * 0.92))
        if fitting:  # the size that fits was measured, not yet rendered
            layout = layout_text(text, width, size, bold=self.bold, line_spacing=self.line_spacing)
        self._layout = layout
        self.lines = layout.lines
        self.used_font_size = layout.font_size
        self.content_height = layout.height
        self.content_width = max(layout.line_widths, default=0)
        if not self.fit:
            self.height = layout.height
        self._draw()

    def _draw(self, *_: Any) -> None:
        group = self._group
        group.clear()
        layout = self._layout
        if layout is None or not layout.lines:
            return
        group.add(Color(*self.color))
        free = max(0.0, self.height - layout.height)
        top = self.top - free * {"top": 0.0, "middle": 0.5, "bottom": 1.0}[self.valign]
        pad = (layout.line_height - layout.glyph_height) / 2
        for i, (row, line_width) in enumerate(zip(layout.runs, layout.line_widths, strict=True)):
            baseline = top - i * layout.line_height - pad - layout.ascent
            free_x = self.width - line_width
            x0 = self.x + {"left": 0.0, "center": free_x / 2, "right": free_x}[self.halign]
            for run in row:
                tex = run.texture
                y = baseline - (tex.height - run.ascent)
                group.add(Rectangle(texture=tex, size=tex.size, pos=(round(x0 + run.x), round(y))))


__all__ = ["FontSet", "Layout", "RichText", "TextMeasure", "default_fonts", "layout_text"]
