"""The kiosk's browse screens (home, category, page) and the buttons they are made of.

A screen is built from a presenter view (``presenter.HomeView`` ...) and shows it;
switching language builds the current screen again from the new view. Sizes come
from the app: ``app.u`` (1 % of the window's height), ``app.text_scale`` (the
text-size toggle) and ``app.touch_min`` (9 mm at the screen's DPI: no touch target
is smaller). Colours come from the app's palette (normal or high contrast). Rules
are in ``screens.kv``, loaded by ``load_kv()`` from ``App.build``.

Text is drawn with the player's ``RichText`` (Lao shaped with its own font and
broken between words; never parsed as markup). An image comes from the verified
cache only (``Content.asset_path``), a QR code from ``qr.qr_png``.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kivy.core.image import Image as CoreImage
from kivy.lang import Builder
from kivy.properties import BooleanProperty, ObjectProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.image import Image
from kivy.uix.screenmanager import Screen
from kivy.uix.scrollview import ScrollView

from signage_player.resources import resource_path
from signage_player.richtext import Layout, RichText

from . import strings
from .presenter import CategoryView, HomeView, Localized, PageView, View, fallback_note
from .qr import is_official_link, qr_png

log = logging.getLogger(__name__)
_KV_LOADED = False


def load_kv() -> None:
    global _KV_LOADED
    if not _KV_LOADED:
        Builder.load_file(str(resource_path("kiosk_app", "screens.kv")))
        _KV_LOADED = True


class KioskButton(ButtonBehavior, BoxLayout):
    """A big touch target with a label; ``action`` names what it does (``home``,
    ``back``, ``lang:lo``, ``open:<page id>``, ``text-size``, ``contrast``)."""

    text = StringProperty("")
    action = StringProperty("")
    selected = BooleanProperty(False)


class TileBase(ButtonBehavior, BoxLayout):
    """Something to open, as a big tile; ``action`` as for ``KioskButton``."""

    title = StringProperty("")
    body = StringProperty("")
    action = StringProperty("")


class Tile(TileBase):
    """A category: its title and its short body."""


class PageTile(TileBase):
    """A page: its title only (its body is the page itself)."""


class KioskText(RichText):
    """``RichText`` that reuses a layout made before for the same text, box and style.

    Going back home, or switching to a language seen before, then costs no new
    line breaking nor text rendering: the textures of the lines are shared.
    """

    def _do_layout(self, *args: Any) -> None:
        key = (
            self.text,
            round(self.width) if self.wrap else None,
            round(self.height) if self.fit else None,
            int(self.font_size),
            int(self.min_font_size),
            self.bold,
            self.line_spacing,
            self.fit,
            self.wrap,
        )
        layout = _LAYOUTS.get(key)
        if layout is None:
            super()._do_layout(*args)
            if self._layout is not None:
                _LAYOUTS[key] = self._layout
                while len(_LAYOUTS) > MAX_LAYOUTS:
                    _LAYOUTS.pop(next(iter(_LAYOUTS)))
            return
        self._layout = layout
        self.lines = layout.lines
        self.used_font_size = layout.font_size
        self.content_height = layout.height
        self.content_width = max(layout.line_widths, default=0)
        if not self.fit:
            self.height = layout.height
        self._draw()


# Layouts kept, oldest dropped first: a site's pages in its languages at two text sizes.
MAX_LAYOUTS = 4000
_LAYOUTS: dict[tuple[Any, ...], Layout] = {}


class ScreenText(KioskText):
    """Text in a scrolling column: as tall as its lines (``fit`` off), wrapped to its width."""


class KioskScreen(Screen):
    """A browse screen; ``on_action(action)`` is the app's handler of every button."""

    heading = StringProperty("")
    view: Any = ObjectProperty(None)

    def __init__(self, on_action: Callable[[str], None], **kwargs: Any) -> None:
        self.on_action = on_action
        super().__init__(**kwargs)

    def button_pressed(self, button: Any) -> None:
        self.on_action(button.action)

    def fill_tiles(self, tiles: tuple[Localized, ...], *, bodies: bool = True) -> None:
        """A tile per category (its title and its short body) or page (its title only:
        a page's body is the page itself)."""
        grid = self.ids.tiles
        grid.clear_widgets()
        for item in tiles:
            kind = Tile if bodies else PageTile
            t = kind(title=item.title, body=item.body, action=f"open:{item.id}")
            t.bind(on_release=self.button_pressed)
            grid.add_widget(t)


class HomeScreen(KioskScreen):
    def show(self, view: HomeView, **_: Any) -> None:
        self.view = view
        self.heading = strings.words(view.language)["welcome"]
        self.ids.note.text = "" if view.tiles else strings.words(view.language)["loading"]
        self.fill_tiles(view.tiles)


class CategoryScreen(KioskScreen):
    def show(self, view: CategoryView, **_: Any) -> None:
        self.view = view
        self.heading = view.category.title
        words = strings.words(view.language)
        self.ids.note.text = fallback_note(view.category) or (
            "" if view.tiles else words["no_pages"]
        )
        self.fill_tiles(view.tiles, bodies=False)


class PageScreen(KioskScreen):
    has_link = BooleanProperty(False)

    def show(self, view: PageView, *, image_path: Callable[[str], Path | None], **_: Any) -> None:
        self.view = view
        page = view.page
        self.heading = page.title
        self.ids.note.text = fallback_note(page)
        self.ids.body.text = page.body
        picture = self.ids.picture
        path = image_path(page.image) if page.image else None
        picture.source = str(path) if path is not None else ""
        link = page.link if page.link and is_official_link(page.link) else None
        self.has_link = link is not None
        if link is None:
            return
        texture = CoreImage(io.BytesIO(qr_png(link)), ext="png").texture
        texture.mag_filter = "nearest"  # sharp modules, however large
        self.ids.qr.texture = texture
        self.ids.qr_caption.text = strings.words(view.language)["scan"]
        self.ids.qr_link.text = link


SCREENS: dict[str, type[KioskScreen]] = {
    "home": HomeScreen,
    "category": CategoryScreen,
    "page": PageScreen,
}


def build_screen(
    view: View,
    on_action: Callable[[str], None],
    image_path: Callable[[str], Path | None],
    size: tuple[float, float],
) -> KioskScreen:
    """A new screen showing ``view``, laid out at ``size`` (the browse area's)."""
    screen = SCREENS[view.name](on_action, name=f"{view.name}-{id(view)}", size=size)
    screen.show(view, image_path=image_path)
    # Lay the tree out now, parents first, so every text is wrapped once at its real
    # width (a RichText lays out on the next frame at whatever width it has by then).
    for w in screen.walk():
        if isinstance(w, ScrollView):  # it sizes its child only when it scrolls
            for child in w.children:
                if child.size_hint_x is not None:
                    child.width = w.width * child.size_hint_x
        elif hasattr(w, "do_layout"):
            w.do_layout()
    return screen


__all__ = [
    "Image",
    "KioskButton",
    "KioskScreen",
    "PageTile",
    "Tile",
    "TileBase",
    "build_screen",
    "load_kv",
]
