"""The Kivy app of the signage player: a window filled by one ``SignageView``.

What plays, when, and how (presenter, prepared cards, video, alerts, status mark) is
``signage_view.SignageView``'s business, shared with the kiosk's attract loop. The
app adds what only a whole player has: the window, the server's ``screenshot``,
``restart`` and ``overlay`` commands wired to it, the maintenance key (F2 or M shows
the maintenance overlay, pressed again hides it), and (for demos and tests) a
screenshot timer and an exit timer. Everything here runs on the Kivy main thread.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from kivy.app import App
from kivy.clock import Clock

from device_runtime.clock import utc_now

from .alert_overlay import AlertOverlay
from .playback import PlaybackView
from .presenter import Card
from .signage_view import (
    MAX_PROBLEMS,
    RETRY_UNPLAYABLE_S,
    STATUS_REFRESH_S,
    VIDEO_OPEN_TIMEOUT_S,
    VIDEO_POLL_S,
    VIDEO_STALL_S,
    ContentLike,
    RuntimeLike,
    SignageView,
    save_screenshot,
)

__all__ = [
    "MAX_PROBLEMS",
    "RETRY_UNPLAYABLE_S",
    "STATUS_REFRESH_S",
    "VIDEO_OPEN_TIMEOUT_S",
    "VIDEO_POLL_S",
    "VIDEO_STALL_S",
    "ContentLike",
    "PlayerApp",
    "RuntimeLike",
    "save_screenshot",
]


log = logging.getLogger(__name__)
# F2 (SDL keycode 283); "m" arrives as its text.
MAINTENANCE_KEYS = (283,)


class PlayerApp(App):
    """Plays the runtime's current content full screen."""

    title = "Border signage"

    def __init__(
        self,
        runtime: RuntimeLike,
        *,
        now: Callable[[], datetime] = utc_now,
        screenshot: str | None = None,
        screenshot_after: float = 5.0,
        screenshot_every: float | None = None,
        exit_after: float | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.register_event_type("on_card")
        self.runtime = runtime
        self.now = now
        self.signage: SignageView | None = None
        self._screenshot = screenshot
        self._screenshot_after = screenshot_after
        self._screenshot_every = screenshot_every
        self._shots_taken = 0
        self._exit_after = exit_after

    # What tests and tools read: the widgets and the problems of the one SignageView.
    @property
    def view(self) -> PlaybackView | None:
        return self.signage.playback if self.signage is not None else None

    @property
    def alert_overlay(self) -> AlertOverlay | None:
        return self.signage.alert_overlay if self.signage is not None else None

    @property
    def problems(self) -> list[str]:
        return self.signage.problems if self.signage is not None else []

    # -- Kivy lifecycle ------------------------------------------------------

    def build(self) -> SignageView:
        self.signage = SignageView(self.runtime, now=self.now)
        self.signage.bind(on_card=lambda _view, card: self.dispatch("on_card", card))
        self.signage.bind(on_layout=self._orient)
        return self.signage

    def on_start(self) -> None:
        assert self.signage is not None
        self.signage.start()
        commands = getattr(self.runtime, "commands", None)
        if commands is not None:
            commands.screenshot_provider = self.signage.screenshot_for_server
            commands.add_restart_listener(lambda: Clock.schedule_once(lambda _dt: self.stop()))
            if hasattr(commands, "add_overlay_listener"):
                commands.add_overlay_listener(self._overlay_from_server)
        from kivy.core.window import Window  # the window exists once the app runs

        Window.bind(on_key_down=self._on_key_down)
        if self._screenshot:
            Clock.schedule_once(self._take_screenshot, self._screenshot_after)
        if self._exit_after is not None:
            Clock.schedule_once(lambda _dt: self.stop(), self._exit_after)

    def _orient(self, _view: Any, layout: Any) -> None:
        """A portrait layout on a screen X still drives as landscape (a screen hung
        vertically): turn the picture a quarter turn (``portrait_rotation`` of the
        device's settings, 90 or 270); anything else: upright."""
        from kivy.core.window import Window

        width, height = Window.system_size
        portrait = layout is not None and layout.orientation == "portrait"
        settings = getattr(self.runtime, "settings", None)
        turn = int(getattr(settings, "portrait_rotation", 90))
        rotation = turn if portrait and width > height else 0
        if Window.rotation != rotation:
            log.info("screen: rotating the picture to %d degrees for a %s layout", rotation,
                     layout.orientation if layout is not None else "full-screen")  # fmt: skip
            Window.rotation = rotation

    def _overlay_from_server(self) -> None:
        """The ``overlay`` command (paho's thread): hand over to the main thread."""
        Clock.schedule_once(self._show_maintenance)

    def _show_maintenance(self, _dt: float) -> None:
        if self.signage is not None:
            self.signage.show_maintenance()

    def _on_key_down(self, _window: Any, key: int, _scancode: int, text: Any, _mods: Any) -> bool:
        if key in MAINTENANCE_KEYS or text in ("m", "M"):
            if self.signage is not None:
                self.signage.show_maintenance(toggle=True)
            return True
        return False

    def _take_screenshot(self, _dt: float) -> None:
        # "{n}" in the path numbers the shots (1, 2, ...); otherwise each replaces the last.
        self._shots_taken += 1
        save_screenshot((self._screenshot or "").replace("{n}", str(self._shots_taken)))
        if self._screenshot_every:
            Clock.schedule_once(self._take_screenshot, self._screenshot_every)

    def on_stop(self) -> None:
        if self.signage is not None:
            self.signage.stop()

    def on_card(self, card: Card | None) -> None:
        """Event: ``card`` is now on screen (None: the empty state)."""
