"""The zones a layout adds around the card: a header with the site's name, the local date
and a ticking clock, and a ticker of notices scrolling right to left.

What they say is ``signage_core.layout``'s decision (``header_text``, ``ticker_segments``,
``ticker_offset``: pure, the time an argument); these widgets only draw it, with
``RichText`` (script runs, word breaks, never markup), sized from their own height so a
720p, 1080p and 4K screen show the same picture. They are told what to show by
``SignageView`` on the Kivy main thread and arm nothing themselves: the view's clock
and ticker events drive ``HeaderZone.show`` and ``TickerZone.move_to``.

The ticker draws each notice in each language as its own ``RichText`` (one texture per
script run, well under a GPU's widest texture), placed side by side once; scrolling
only changes one ``Translate`` instruction, and a ``StencilView`` keeps the strip inside
its zone. Rules are in ``zones.kv``, loaded by ``load_kv()``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kivy.clock import Clock
from kivy.graphics import PopMatrix, PushMatrix, Translate
from kivy.lang import Builder
from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.stencilview import StencilView
from kivy.uix.widget import Widget

from signage_core.layout import SEPARATOR, HeaderText, Segment, ticker_copies

from .resources import resource_path
from .richtext import RichText

_KV_LOADED = False


def load_kv() -> None:
    global _KV_LOADED
    if not _KV_LOADED:
        Builder.load_file(str(resource_path("signage_player", "zones.kv")))
        _KV_LOADED = True


class HeaderZone(BoxLayout):
    """The site's name (one line per language), the date and the clock."""

    title = StringProperty("")  # in the language on screen, large
    others = StringProperty("")  # in the site's other languages, smaller
    clock = StringProperty("")
    date = StringProperty("")
    portrait = BooleanProperty(False)

    def show(self, header: HeaderText) -> None:
        names = [name for _lang, name in header.title]
        title, others = (names[0] if names else ""), f" {SEPARATOR} ".join(names[1:])
        if title != self.title:
            self.title = title
        if others != self.others:
            self.others = others
        if header.date != self.date:
            self.date = header.date
        self.clock = header.clock


class TickerText(RichText):
    """One notice in one language on the strip."""


class TickerSeparator(RichText):
    """The mark between two texts on the strip."""


class TickerZone(StencilView):
    """A strip of notices moved right to left by ``move_to``; nothing drawn outside it.

    The strip (each text followed by a separator) is drawn ``ticker_copies`` times, one
    ``period`` apart, so that it loops without an empty stretch."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.segments: list[Segment] = []
        self.texts: list[RichText] = []  # the first copy's texts (not the separators)
        self._copies: list[list[RichText]] = []
        self.period = 0.0
        self._place_soon = Clock.create_trigger(self._place, -1)
        # StencilView's own rules are already in canvas.before/after: the strip's shift
        # goes after its StencilUse and is undone before its StencilUnUse.
        with self.canvas.before:
            PushMatrix()
            self._shift = Translate(0, 0)
        self.canvas.after.insert(0, PopMatrix())
        self.fbind("size", self._place_soon)
        self.fbind("pos", self._place_soon)

    @property
    def text_height(self) -> float:
        return max(8.0, float(self.height) * 0.52)

    @property
    def strip_width(self) -> float:
        """One copy's width: its texts and separators."""
        return self.period

    def show(self, segments: Sequence[Segment]) -> None:
        """Put ``segments`` on the strip (a no-op when they are the ones already there)."""
        if list(segments) == self.segments and self._copies:
            return
        self.segments = list(segments)
        self.clear_widgets()
        self._copies = []
        self.texts = []
        if self.segments:
            self._add_copy()
            self.texts = [w for w in self._copies[0] if isinstance(w, TickerText)]
        self._place()

    def _add_copy(self) -> None:
        size = self.text_height
        copy: list[RichText] = []
        for seg in self.segments:
            copy.append(TickerText(text=seg.text, font_size=size, min_font_size=size))
            copy.append(TickerSeparator(text=SEPARATOR, font_size=size, min_font_size=size))
        for label in copy:
            label.fbind("content_width", self._place_soon)  # laid out a frame later
            label.fbind("content_height", self._place_soon)
            self.add_widget(label)
        self._copies.append(copy)

    def _place(self, *_: Any) -> None:
        """Lay each copy out from x = 0 of the zone, one period apart (the Translate
        moves them all); add copies until they fill the zone at every offset."""
        if not self._copies:
            self.period = 0.0
            return
        size = self.text_height
        gap = size * 0.9
        for copy in self._copies:
            x = self.x
            for label in copy:
                label.font_size = size
                label.min_font_size = size
                label.width = label.content_width
                label.pos = (x, self.y + (self.height - label.height) / 2)
                x += label.width + gap
            self.period = x - self.x
        if self.period > 0:
            for k, copy in enumerate(self._copies):
                for label in copy:
                    label.x += k * self.period
            measured = all(label.content_width > 0 for label in self._copies[0])
            if measured and len(self._copies) < ticker_copies(self.period, self.width):
                self._add_copy()
                self._place_soon()

    def move_to(self, offset: float) -> None:
        """Put the strip's left edge ``offset`` pixels right of the zone's left edge."""
        self._shift.x = offset


class ZoneFrame(Widget):
    """A thin line between two zones."""


__all__ = ["HeaderZone", "TickerZone", "ZoneFrame", "load_kv"]
