"""The full-screen playback view: text cards, image cards, the empty state, the status corner.

Its rules live in ``playback.kv`` beside this file; ``load_kv()`` loads them once and
must run (from ``App.build``) before a ``PlaybackView`` is made. The view only
draws what it is told: which card comes next is ``presenter``'s business, and
which file holds an image is the runtime's (a verified cache path). The kiosk's
attract loop can reuse the view as it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kivy.lang import Builder
from kivy.properties import BooleanProperty, ObjectProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.floatlayout import FloatLayout
from kivy.uix.widget import Widget

from signage_core import languages
from signage_core.errors import LanguageError

from .presenter import Card
from .resources import resource_path
from .richtext import RichText

_KV_LOADED = False


def load_kv() -> None:
    """Load ``playback.kv`` (once per process)."""
    global _KV_LOADED
    if not _KV_LOADED:
        Builder.load_file(str(resource_path("signage_player", "playback.kv")))
        _KV_LOADED = True


def language_name(code: str) -> str:
    """The language's name in itself (``ພາສາລາວ``), or its code if unknown."""
    try:
        return languages.get(code).name
    except LanguageError:
        return code.upper()


class LanguageTab(RichText):
    current = BooleanProperty(False)


class TextCard(BoxLayout):
    title = StringProperty("")
    body = StringProperty("")


class ImageCard(BoxLayout):
    source = StringProperty("")
    caption = StringProperty("")


class EmptyCard(BoxLayout):
    pass


class PlaybackView(FloatLayout):
    """What a passive screen shows. Set by the app on the Kivy main thread only."""

    card_area = ObjectProperty(None)
    language_bar = ObjectProperty(None)
    status = ObjectProperty(None)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.card: Widget | None = None
        self.show_empty()

    def _set_card(self, widget: Widget) -> None:
        self.card_area.clear_widgets()
        self.card_area.add_widget(widget)
        self.card = widget

    def _set_languages(self, codes: Sequence[str], current: str | None) -> None:
        bar = self.language_bar
        bar.clear_widgets()
        for code in codes:
            bar.add_widget(LanguageTab(text=language_name(code), current=code == current))

    def show_card(self, card: Card, languages: Sequence[str], image: Path | None = None) -> None:
        """Show ``card``; ``languages`` are the site's, for the bar; ``image`` for image cards."""
        self._set_languages(languages, card.language)
        if card.kind == "image":
            self._set_card(ImageCard(source=str(image or ""), caption=card.caption))
        else:
            self._set_card(TextCard(title=card.title, body=card.body))

    def show_empty(self) -> None:
        """The empty state: nothing to play yet (first start, or nothing scheduled)."""
        self._set_languages((), None)
        self._set_card(EmptyCard())

    def set_status(self, text: str) -> None:
        self.status.text = text
