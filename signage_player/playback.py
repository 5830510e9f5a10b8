"""The full-screen playback view: text, image and video cards, the empty state, the status corner.

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

from kivy.graphics.texture import Texture
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
from .video import Frame

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


class VideoCard(BoxLayout):
    """A video's picture (a texture the app fills frame by frame) and its caption."""

    caption = StringProperty("")
    picture = ObjectProperty(None)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._texture: Texture | None = None

    def set_frame(self, frame: Frame) -> None:
        """Upload one RGBA frame (main thread); the texture is made at the first frame's size."""
        height, width = int(frame.shape[0]), int(frame.shape[1])
        texture = self._texture
        if texture is None or tuple(texture.size) != (width, height):
            texture = Texture.create(size=(width, height), colorfmt="rgba", bufferfmt="ubyte")
            texture.flip_vertical()  # OpenCV rows run top to bottom, OpenGL's bottom to top
            self._texture = texture
        texture.blit_buffer(frame.reshape(-1), colorfmt="rgba", bufferfmt="ubyte")
        if self.picture.texture is not texture:
            self.picture.texture = texture
        self.picture.canvas.ask_update()


class EmptyCard(BoxLayout):
    pass


class PairCard(BoxLayout):
    """Two text cards on one screen, side by side (above each other when the card area
    is taller than wide), a thin line between them."""

    def __init__(self, first: Widget, second: Widget, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.divider = PairDivider()
        for widget in (first, self.divider, second):
            self.add_widget(widget)
        self.fbind("size", self._arrange)
        self._arrange()

    def _arrange(self, *_: Any) -> None:
        stacked = self.height > self.width
        self.orientation = "vertical" if stacked else "horizontal"
        line = max(2, round(min(self.width, self.height) * 0.004))
        self.spacing = (self.height if stacked else self.width) * 0.025
        if stacked:
            self.divider.size_hint = (1, None)
            self.divider.height = line
        else:
            self.divider.size_hint = (None, 1)
            self.divider.width = line


class PairDivider(Widget):
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

    def _set_languages(self, codes: Sequence[str], current: Sequence[str]) -> None:
        bar = self.language_bar
        bar.clear_widgets()
        for code in codes:
            bar.add_widget(LanguageTab(text=language_name(code), current=code in current))

    def build_card(self, card: Card, image: Path | None = None) -> BoxLayout:
        """The widget of ``card``, laid out at the card area's size but not yet on screen.

        Made ahead of time while the card before it plays: an image's texture is loaded
        (and cached by Kivy) and text is laid out here, so the switch is one swap.
        A video card comes without a picture: the app sets its first frame.
        """
        widget: BoxLayout
        if card.beside is not None:
            widget = PairCard(
                TextCard(title=card.title, body=card.body),
                TextCard(title=card.beside.title, body=card.beside.body),
            )
        elif card.kind == "image":
            widget = ImageCard(source=str(image or ""), caption=card.caption)
        elif card.kind == "video":
            widget = VideoCard(caption=card.caption)
        else:
            widget = TextCard(title=card.title, body=card.body)
        widget.size_hint = (1, 1)
        widget.size = self.card_area.size
        widget.pos = self.card_area.pos
        widget.do_layout()
        return widget

    def show_card(
        self,
        card: Card,
        languages: Sequence[str],
        image: Path | None = None,
        widget: Widget | None = None,
    ) -> None:
        """Show ``card`` (``widget``: made before by ``build_card``); ``languages`` are the
        site's, for the bar; ``image`` for image cards."""
        self._set_languages(languages, card.languages)
        self._set_card(widget if widget is not None else self.build_card(card, image))

    def show_empty(self) -> None:
        """The empty state: nothing to play yet (first start, or nothing scheduled)."""
        self._set_languages((), ())
        self._set_card(EmptyCard())

    def set_status(self, text: str) -> None:
        self.status.text = text
