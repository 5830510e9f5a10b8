"""The kiosk's on-screen keyboard: Vietnamese (QWERTY with Telex composition, plus
keys for â ă ê ô ơ ư đ and the five tones for people who do not know Telex), Lao
(the standard Kedmanee layout, with shift) and English.

What a key does is ``feedback_model.Typist``'s decision; this widget draws the keys
``Typist.rows()`` lists and hands each tap to it. Labels are drawn with the
player's ``RichText`` (script runs: Noto Sans Lao has no Latin letters, digits or
arrows; ⇧ and ⌫ come from a fallback font), and a combining Lao vowel or tone is
shown on a dotted circle. No key is smaller than ``key_min`` (9 mm at the screen's
DPI) in either direction. Nothing typed is logged.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kivy.graphics import Color, Line, RoundedRectangle
from kivy.metrics import mm
from kivy.properties import (
    BooleanProperty,
    ColorProperty,
    NumericProperty,
    StringProperty,
)
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.widget import Widget

from signage_player.richtext import RichText

from .feedback_model import Key, Typist
from .palette import PALETTES, TOUCH_TARGET_MM

KEY_MIN_MM = TOUCH_TARGET_MM
# The kiosk's normal colours; the app passes its high-contrast ones.
NORMAL = PALETTES["normal"]


class Tap(ButtonBehavior, BoxLayout):
    """A touch target: a rounded rectangle with a centred label; ``action`` says what it does."""

    text = StringProperty("")
    action = StringProperty("")
    selected = BooleanProperty(False)
    face = ColorProperty((0.16, 0.33, 0.52, 1))
    face_selected = ColorProperty((0.95, 0.79, 0.30, 1))
    ink = ColorProperty((1, 1, 1, 1))
    ink_selected = ColorProperty((0.05, 0.16, 0.29, 1))
    edge = ColorProperty((0, 0, 0, 0))
    font_size = NumericProperty(24)
    bold = BooleanProperty(False)

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("padding", (4, 2))
        super().__init__(**kwargs)
        with self.canvas.before:
            self._face_color = Color(*self.face)
            self._rect = RoundedRectangle(radius=[6])
            self._edge_color = Color(*self.edge)
            self._line = Line(width=1.5)
        self.label = RichText(
            text=self.text,
            font_size=self.font_size,
            min_font_size=10,
            bold=self.bold,
            halign="center",
            valign="middle",
            fit=True,
        )
        self.add_widget(self.label)
        self.bind(pos=self._paint, size=self._paint, selected=self._paint, state=self._paint)
        self.bind(face=self._paint, face_selected=self._paint, ink=self._paint, edge=self._paint)
        self.bind(text=self._label, font_size=self._label, bold=self._label)
        self._paint()

    def style(self, palette: Mapping[str, Any]) -> None:
        """Colours from a palette with the kiosk's names (surface, text, accent, ...)."""
        self.face, self.ink = palette["surface"], palette["text"]
        self.face_selected, self.ink_selected = palette["accent"], palette["accent_text"]
        self.edge = palette["border"]

    def _label(self, *_: Any) -> None:
        self.label.text = self.text
        self.label.font_size = self.font_size
        self.label.bold = self.bold

    def _paint(self, *_: Any) -> None:
        on = self.selected or self.state == "down"
        self._face_color.rgba = self.face_selected if on else self.face
        self.label.color = self.ink_selected if on else self.ink
        self._rect.pos = (self.x + 2, self.y + 2)
        self._rect.size = (max(0, self.width - 4), max(0, self.height - 4))
        self._edge_color.rgba = self.edge
        self._line.rounded_rectangle = (
            self.x + 2,
            self.y + 2,
            max(1, self.width - 4),
            max(1, self.height - 4),
            6,
        )


class KeyButton(Tap):
    key: Key | None = None


class OnScreenKeyboard(BoxLayout):
    """Keys in rows; ``text`` mirrors the typist's text (bind to it)."""

    text = StringProperty("")
    layout = StringProperty("vi")
    refused = BooleanProperty(False)  # the last key was refused (500 characters reached)
    key_min = NumericProperty(0)

    def __init__(
        self,
        typist: Typist | None = None,
        palette: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("orientation", "vertical")
        self.palette = {**NORMAL, **(palette or {})}
        kwargs.setdefault("spacing", 4)
        super().__init__(**kwargs)
        self.key_min = mm(KEY_MIN_MM)
        self.typist = typist or Typist()
        self.keys: list[KeyButton] = []
        self._shape: list[list[float]] = []
        self.bind(size=self._resize)
        self.rebuild()

    def set_layout(self, layout: str) -> None:
        self.typist.layout = layout
        self.typist.shift = False
        self.rebuild()

    def rebuild(self) -> None:
        rows = self.typist.rows()
        shape = [[k.width for k in row] for row in rows]
        if self.keys and shape == self._shape:  # shift: same keys, new labels
            for button, key in zip(self.keys, (k for row in rows for k in row), strict=True):
                button.key = key
                button.text, button.action = key.label, key.action
                button.selected = key.action == "shift" and self.typist.shift
            self.layout = self.typist.layout
            self.text = self.typist.text
            self._resize()
            return
        self._shape = shape
        self.clear_widgets()
        self.keys = []
        widest = max(sum(k.width for k in row) for row in rows)
        for row in rows:
            line = BoxLayout(orientation="horizontal", spacing=4)
            spare = (widest - sum(k.width for k in row)) / 2
            if spare > 0:
                line.add_widget(Widget(size_hint_x=spare / widest))
            for key in row:
                button = KeyButton(
                    text=key.label, action=key.action, size_hint_x=key.width / widest
                )
                button.key = key
                button.style(self.palette)
                button.selected = key.action == "shift" and self.typist.shift
                button.bind(on_release=self._pressed)
                line.add_widget(button)
                self.keys.append(button)
            if spare > 0:
                line.add_widget(Widget(size_hint_x=spare / widest))
            self.add_widget(line)
        self.layout = self.typist.layout
        self.text = self.typist.text
        self._resize()

    def _resize(self, *_: Any) -> None:
        rows = max(1, len(self.children))
        size = max(12.0, min(self.height / rows * 0.42, 34.0))
        for button in self.keys:
            button.font_size = size * (0.8 if len(button.text) > 3 else 1.0)

    def _pressed(self, button: KeyButton) -> None:
        changed = self.typist.act(button.action)
        self.refused = self.typist.full
        if button.action in ("shift", "layout") or (
            button.action.startswith("char:") and not self.typist.shift and _had_shift(self)
        ):
            self.rebuild()
            return
        if changed:
            self.text = self.typist.text


def _had_shift(keyboard: OnScreenKeyboard) -> bool:
    """Shift was shown as on: a letter typed since turns it off, so draw the keys again."""
    return any(k.action == "shift" and k.selected for k in keyboard.keys)


__all__ = ["KEY_MIN_MM", "NORMAL", "KeyButton", "OnScreenKeyboard", "Tap"]
