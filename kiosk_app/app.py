"""The Kivy app of the touch kiosk: browse, language, attract loop, alerts.

Everything here runs on the Kivy main thread. What to show is ``presenter``'s
decision (``Browser``); how it looks is ``screens``'s. The app wires them:

* a button's ``action`` (``home``, ``back``, ``open:<id>``, ``lang:<code>``,
  ``text-size``, ``contrast``) goes to ``act``, which asks the browser for the new
  view and puts its screen in place (``ScreenManager.switch_to``, no animation);
  every screen of the content is built ahead while the kiosk waits (one per frame,
  ``warm_up``) and kept, so a tap swaps screens instead of laying text out;
* every touch re-arms one ``Clock.schedule_once`` for ``idle_timeout_s``; when it
  fires, the attract loop starts: the player's ``SignageView`` plays the site's
  signage over everything, and language and page are reset for the next traveller.
  A touch stops it and shows home;
* new content from the runtime's worker thread and alerts from its MQTT thread are
  handed over with ``Clock.schedule_once``; the alert overlay (the player's) is the
  top widget, so an alert covers the browse screens and the attract loop alike and
  swallows touches while it shows;
* the window cannot be closed from the keyboard or the window manager: a technician
  stops the kiosk with systemd (docs/operations.md).

``on_screen(view)`` is dispatched each time a screen is in place, and
``on_attract(active)`` when the attract loop starts or stops (tests and the bench
listen to them). The bottom ``toolbar`` (``KioskRoot.toolbar``) holds the text-size
and contrast buttons; other buttons may be added to it with ``add_toolbar_button``.
The feedback button is one (``feedback_entry``: the form over every screen).
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from kivy.app import App
from kivy.clock import Clock, ClockEvent
from kivy.core.window import Window
from kivy.lang import Builder
from kivy.metrics import mm
from kivy.properties import (
    BooleanProperty,
    ColorProperty,
    DictProperty,
    NumericProperty,
    ObjectProperty,
    StringProperty,
)
from kivy.uix.floatlayout import FloatLayout
from kivy.uix.screenmanager import NoTransition

from device_runtime.clock import utc_now
from signage_player.alert_overlay import AlertOverlay
from signage_player.alert_overlay import load_kv as load_alert_kv
from signage_player.resources import resource_path

from . import feedback_entry, strings
from .config import KioskSettings
from .palette import PALETTES, TOUCH_TARGET_MM
from .presenter import Browser, View
from .screens import KioskButton, KioskScreen, build_screen
from .screens import load_kv as load_screens_kv

log = logging.getLogger(__name__)

TEXT_SCALES = (1.0, 1.3)


def save_screenshot(path: str | Path) -> Path:
    """Write what the window shows to ``path`` (PNG)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        written = Window.screenshot(name=str(Path(tmp) / "shot.png"))
        shutil.move(written, target)
    return target


class AttractLayer(FloatLayout):
    """Covers the kiosk while idle; holds the signage view. Invisible otherwise."""

    active = BooleanProperty(False)
    invitation = StringProperty(strings.TOUCH_TO_START)

    def on_touch_down(self, touch: Any) -> bool:
        return bool(self.active)  # hidden: touches go below (a disabled widget eats them)


class KioskRoot(FloatLayout):
    top_bar: Any = ObjectProperty(None)
    languages: Any = ObjectProperty(None)
    screens: Any = ObjectProperty(None)
    toolbar: Any = ObjectProperty(None)
    attract: Any = ObjectProperty(None)
    words = DictProperty(strings.words("vi"))
    can_go_back = BooleanProperty(False)

    def on_touch_down(self, touch: Any) -> bool:
        app: Any = App.get_running_app()
        if app is not None and app.touched():
            return True  # the touch that ends the attract loop opens nothing else
        return bool(super().on_touch_down(touch))


class KioskApp(App):
    """The touch kiosk over a device runtime (``device_runtime.runtime.Runtime``)."""

    title = "Border kiosk"
    # Sizes: 1 % of the window's height, the text-size factor, the smallest touch target.
    u = NumericProperty(7.2)
    text_scale = NumericProperty(TEXT_SCALES[0])
    touch_min = NumericProperty(34)
    high_contrast = BooleanProperty(False)
    bg = ColorProperty(PALETTES["normal"]["bg"])
    bar = ColorProperty(PALETTES["normal"]["bar"])
    surface = ColorProperty(PALETTES["normal"]["surface"])
    text = ColorProperty(PALETTES["normal"]["text"])
    dim = ColorProperty(PALETTES["normal"]["dim"])
    accent = ColorProperty(PALETTES["normal"]["accent"])
    accent_text = ColorProperty(PALETTES["normal"]["accent_text"])
    border = ColorProperty(PALETTES["normal"]["border"])

    def __init__(
        self,
        runtime: Any,
        kiosk: KioskSettings | None = None,
        *,
        now: Callable[[], datetime] = utc_now,
        screenshot: str | None = None,
        screenshot_after: float = 5.0,
        exit_after: float | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.register_event_type("on_screen")
        self.register_event_type("on_attract")
        self.runtime = runtime
        self.kiosk = kiosk or KioskSettings()
        self.now = now
        self.browser = Browser()
        self.content: Any = None
        self.root_widget: KioskRoot | None = None
        self.alert_overlay: AlertOverlay | None = None
        self.signage: Any = None  # the attract loop's SignageView, made at first use
        self.screen: KioskScreen | None = None
        self._idle: ClockEvent | None = None
        self._warm_queue: list[View] = []
        self._screens: dict[tuple[View, float], KioskScreen] = {}  # built, ready to show
        self._warm_event: ClockEvent | None = None
        self._screenshot = screenshot
        self._screenshot_after = screenshot_after
        self._exit_after = exit_after
        self._stopping = False

    # -- Kivy lifecycle ------------------------------------------------------------------

    def build(self) -> KioskRoot:
        load_alert_kv()
        load_screens_kv()
        Builder.load_file(str(resource_path("kiosk_app", "frame.kv")))
        self.touch_min = mm(TOUCH_TARGET_MM)
        Window.bind(size=self._on_window_size, on_request_close=self._refuse_close)
        self._on_window_size(Window, Window.size)
        root = KioskRoot()
        self.root_widget = root
        root.screens.transition = NoTransition()
        for button in (root.ids.home, root.ids.back, root.ids.text_size, root.ids.contrast):
            button.bind(on_release=self._button)
        self.alert_overlay = AlertOverlay()
        root.add_widget(self.alert_overlay)  # added last: over everything, the attract loop too
        return root

    def on_start(self) -> None:
        self.runtime.add_listener(self._content_from_worker)
        if hasattr(self.runtime, "add_alert_listener"):
            self.runtime.add_alert_listener(lambda _a: Clock.schedule_once(self.show_alerts))
        commands = getattr(self.runtime, "commands", None)
        if commands is not None:
            commands.screenshot_provider = self._screenshot_for_server
            commands.add_restart_listener(lambda: Clock.schedule_once(lambda _dt: self.stop()))
        self.feedback = feedback_entry.install(self)  # the feedback button, on every screen
        self.apply_content(self.runtime.current)
        self.show_alerts()
        self.touched()
        if self._screenshot:
            shot = self._screenshot
            Clock.schedule_once(lambda _dt: save_screenshot(shot), self._screenshot_after)
        if self._exit_after is not None:
            Clock.schedule_once(lambda _dt: self.stop(), self._exit_after)

    def on_stop(self) -> None:
        self._stopping = True
        for timer in (self._idle, self._warm_event):
            if timer is not None:
                timer.cancel()
        if self.alert_overlay is not None:
            self.alert_overlay.disarm()
        if self.signage is not None:
            self.signage.stop()

    def on_screen(self, view: View) -> None:
        """Event: the screen of ``view`` is in place."""

    def on_attract(self, active: bool) -> None:
        """Event: the attract loop started (True) or stopped (False)."""

    def _on_window_size(self, _window: Any, size: Any) -> None:
        self.u = max(4.0, float(size[1]) / 100)

    def _refuse_close(self, *_: Any, **__: Any) -> bool:
        """The window manager's close (Alt+F4, a close button): refused. systemd stops us."""
        return not self._stopping

    # -- toolbar, for buttons others add --------------------------------------------------

    def add_toolbar_button(self, text: str, on_press: Callable[[], None]) -> KioskButton:
        """A button in the bottom toolbar, sized and coloured like the others."""
        assert self.root_widget is not None
        button = KioskButton(text=text, action="custom")
        button.bind(on_release=lambda _b: on_press())
        self.root_widget.toolbar.add_widget(button)
        return button

    # -- content -----------------------------------------------------------------------

    def _content_from_worker(self, content: Any) -> None:
        """Runtime listener, called on a worker thread: hand over, touch nothing."""
        Clock.schedule_once(lambda _dt: self.apply_content(content) if not self._stopping else None)

    def apply_content(self, content: Any) -> None:
        """New content (main thread): the screens again, unless it is the manifest shown
        already (a traveller reading a page keeps their place and scroll)."""
        held = self.content
        same = (
            held is not None
            and content is not None
            and held.manifest.signed == content.manifest.signed
        )
        self.content = content
        if same:
            return
        self._screens.clear()
        manifest = content.manifest if content is not None else None
        pages = manifest.pages if manifest is not None else []
        langs = manifest.languages if manifest is not None else ()
        self.show(self.browser.load(pages, langs))
        self.warm_up()

    def warm_up(self) -> None:
        """Build every screen in every language ahead of time, one per frame, while the
        kiosk waits for a touch, and keep them: a touch then only swaps screens. The
        current language goes first; new content or another text size starts again."""
        b = self.browser
        order = [b.language, *(c for c in b.languages if c != b.language)]
        self._warm_queue = [v for code in order for v in b.every_view(code)]
        if self._warm_event is None:
            self._warm_event = Clock.schedule_interval(self._warm_next, 0)

    @property
    def warmed_up(self) -> bool:
        """Every screen of the current content has been laid out once."""
        return self._warm_event is None and self.content is not None

    def _warm_next(self, _dt: float) -> None:
        while self._warm_queue and (self._warm_queue[0], self.text_scale) in self._screens:
            self._warm_queue.pop(0)
        if not self._warm_queue or self.root_widget is None or self._stopping:
            if self._warm_event is not None:
                self._warm_event.cancel()
                self._warm_event = None
            return
        self.screen_for(self._warm_queue.pop(0))

    def screen_for(self, view: View) -> KioskScreen:
        """The screen of ``view`` at the current text size: built once, then kept."""
        key = (view, float(self.text_scale))
        screen = self._screens.get(key)
        if screen is None:
            assert self.root_widget is not None
            size = (self.root_widget.screens.width, self.root_widget.screens.height)
            screen = build_screen(view, self.act, self.image_path, size)
            self._screens[key] = screen
        return screen

    def image_path(self, sha256: str) -> Path | None:
        """The verified cached file of an image, or None (not cached, not listed, corrupt)."""
        if self.content is None:
            return None
        try:
            return Path(self.content.asset_path(sha256))
        except (KeyError, ValueError, OSError):
            return None

    # -- navigation ----------------------------------------------------------------------

    def _button(self, button: Any) -> None:
        self.act(button.action)

    def act(self, action: str) -> None:
        """What a button does (see the module docstring)."""
        b = self.browser
        if action == "home":
            self.show(b.home())
        elif action == "back":
            self.show(b.back())
        elif action.startswith("open:"):
            self.show(b.open(action.removeprefix("open:")))
        elif action.startswith("lang:"):
            self.show(b.set_language(action.removeprefix("lang:")))
        elif action == "text-size":
            i = TEXT_SCALES.index(self.text_scale) if self.text_scale in TEXT_SCALES else 0
            self.text_scale = TEXT_SCALES[(i + 1) % len(TEXT_SCALES)]
            self.show(b.view())
            self.warm_up()
        elif action == "contrast":  # colours only: the screen stays, scrolled as it was
            self.set_high_contrast(not self.high_contrast)
            self.dispatch("on_screen", b.view())

    def set_high_contrast(self, on: bool) -> None:
        self.high_contrast = on
        for key, colour in PALETTES["high_contrast" if on else "normal"].items():
            setattr(self, key, colour)

    def show(self, view: View) -> None:
        """Put the screen of ``view`` in place, and the bars in its language."""
        root = self.root_widget
        if root is None:
            return
        root.words = strings.words(view.language)
        root.can_go_back = view.name != "home"
        self._set_languages(self.browser.languages, view.language)
        screen = self.screen_for(view)
        scroll = screen.ids.get("scroll")
        if scroll is not None:
            scroll.scroll_y = 1  # a page opens at its top
        root.screens.switch_to(screen, transition=NoTransition())
        root.screens.transition.stop()  # the old screen goes now, not a frame later
        self.screen = screen
        self.dispatch("on_screen", view)

    def _set_languages(self, codes: tuple[str, ...], current: str) -> None:
        assert self.root_widget is not None
        bar = self.root_widget.languages
        shown = [(b.action, b.selected) for b in reversed(bar.children)]
        wanted = [(f"lang:{c}", c == current) for c in codes]
        if shown == wanted:
            return
        bar.clear_widgets()
        for code in codes:
            button = KioskButton(
                text=strings.language_name(code), action=f"lang:{code}", selected=code == current
            )
            button.bind(on_release=self._button)
            bar.add_widget(button)

    # -- idle and the attract loop ---------------------------------------------------------

    def touched(self) -> bool:
        """A touch: re-arm the idle timer; True when it ended the attract loop."""
        if self._idle is not None:
            self._idle.cancel()
        self._idle = Clock.schedule_once(self.start_attract, self.kiosk.idle_timeout_s)
        if self.root_widget is not None and self.root_widget.attract.active:
            self.stop_attract()
            return True
        return False

    def start_attract(self, *_: Any) -> None:
        """Nobody is here: reset for the next traveller and play the site's signage."""
        root = self.root_widget
        if root is None or self._stopping or root.attract.active:
            return
        self.text_scale = TEXT_SCALES[0]
        self.set_high_contrast(False)
        self.show(self.browser.reset())
        if self.signage is None:
            from signage_player.signage_view import SignageView

            self.signage = SignageView(self.runtime, now=self.now)
            root.attract.ids.holder.add_widget(self.signage)
        root.attract.active = True
        self.signage.start()
        self.dispatch("on_attract", True)

    def stop_attract(self) -> None:
        root = self.root_widget
        if root is None or not root.attract.active:
            return
        self.signage.stop()
        root.attract.active = False
        self.show(self.browser.home())
        self.dispatch("on_attract", False)

    # -- alerts and commands ---------------------------------------------------------------

    def show_alerts(self, *_: Any) -> None:
        """Show the runtime's active alerts over everything; re-armed for the next expiry."""
        if self._stopping or self.alert_overlay is None:
            return
        alerts = list(getattr(self.runtime, "alerts", []))
        manifest = self.content.manifest if self.content is not None else None
        languages = manifest.languages if manifest is not None else ()
        self.alert_overlay.show_until_expiry(alerts, languages, self.now(), self.show_alerts)

    def _screenshot_for_server(self, done: Callable[[bytes], None]) -> None:
        """The runtime's screenshot provider (any thread): capture on the main thread."""

        def capture(_dt: float) -> None:
            with tempfile.TemporaryDirectory() as tmp:
                done(save_screenshot(Path(tmp) / "screen.png").read_bytes())

        Clock.schedule_once(capture)
