"""The Kivy app of the signage player: timers, threads, proof of play.

Everything here runs on the Kivy main thread. Three timers, each one
``Clock.schedule_once``, re-armed, never a sleep loop:

* the card timer ends the card on screen after its ``duration_s`` (or, when every
  scheduled card waits for an image still downloading, looks again a little later);
* the schedule timer fires at the presenter's ``next_change_at``;
* (for demos and tests) a screenshot and an exit timer;

and one interval that refreshes the status corner while nothing else changes.

New content arrives from the runtime's worker thread; the listener only hands
it to the main thread with ``Clock.schedule_once``. When a card leaves the
screen its play is recorded through the runtime (``record_play``), with the
time it was actually shown. What to show is ``presenter``'s decision; how it
looks is ``playback``'s.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any, Protocol

from kivy.app import App
from kivy.clock import Clock, ClockEvent

from device_runtime.clock import utc_now
from signage_core.manifest import Manifest

from . import strings
from .alert_overlay import AlertOverlay
from .alert_overlay import load_kv as load_alert_kv
from .playback import PlaybackView, load_kv
from .presenter import Card, Presenter

log = logging.getLogger(__name__)
# When every scheduled card waits for an asset still downloading, look again this often.
RETRY_UNPLAYABLE_S = 10.0
# The status corner (offline, expired) is also refreshed between cards this often.
STATUS_REFRESH_S = 15.0


class ContentLike(Protocol):
    """The part of ``device_runtime.content.Content`` the player uses."""

    manifest: Manifest
    expired: bool

    def asset_path(self, sha256: str) -> Path: ...


class RuntimeLike(Protocol):
    """The part of ``device_runtime.runtime.Runtime`` the player uses."""

    @property
    def current(self) -> Any: ...

    def add_listener(self, cb: Callable[[Any], None]) -> None: ...

    def set_now_playing(
        self, playlist_id: str | None, item_id: str | None, language: str | None
    ) -> None: ...

    def record_play(
        self,
        *,
        playlist_id: str,
        item_id: str,
        language: str,
        started_at: datetime,
        duration_ms: int,
        manifest_version: int,
    ) -> object: ...

    def status(self) -> Any: ...


@dataclass
class _Showing:
    card: Card
    started_at: datetime
    manifest_version: int


def save_screenshot(path: str | os.PathLike[str]) -> Path:
    """Write what the window shows to ``path`` (PNG)."""
    from kivy.core.window import Window  # the window exists once the app runs

    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        # Window.screenshot numbers its files: let it, then move the file into place.
        written = Window.screenshot(name=str(Path(tmp) / "shot.png"))
        shutil.move(written, target)
    return target


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
        self.presenter = Presenter()
        self.content: Any = None
        self.view: PlaybackView | None = None
        self._showing: _Showing | None = None
        self._card_timer: ClockEvent | None = None
        self._schedule_timer: ClockEvent | None = None
        self._status_timer: ClockEvent | None = None
        self._alert_timer: ClockEvent | None = None
        self.alert_overlay: AlertOverlay | None = None
        self._screenshot = screenshot
        self._screenshot_after = screenshot_after
        self._screenshot_every = screenshot_every
        self._shots_taken = 0
        self._exit_after = exit_after
        self._stopping = False

    # -- Kivy lifecycle ------------------------------------------------------

    def build(self) -> PlaybackView:
        load_kv()
        load_alert_kv()
        self.view = PlaybackView()
        self.alert_overlay = AlertOverlay()
        self.view.add_widget(self.alert_overlay)  # added last: drawn over everything
        return self.view

    def on_start(self) -> None:
        self.runtime.add_listener(self._content_from_worker)
        self.apply_content(self.runtime.current)
        self._connect_alerts_and_commands()
        self._status_timer = Clock.schedule_interval(self._update_status, STATUS_REFRESH_S)
        if self._screenshot:
            Clock.schedule_once(self._take_screenshot, self._screenshot_after)
        if self._exit_after is not None:
            Clock.schedule_once(lambda _dt: self.stop(), self._exit_after)

    def _take_screenshot(self, _dt: float) -> None:
        # "{n}" in the path numbers the shots (1, 2, ...); otherwise each replaces the last.
        self._shots_taken += 1
        save_screenshot((self._screenshot or "").replace("{n}", str(self._shots_taken)))
        if self._screenshot_every:
            Clock.schedule_once(self._take_screenshot, self._screenshot_every)

    def on_stop(self) -> None:
        self._stopping = True
        self._finish_card()
        for timer in (
            self._card_timer,
            self._schedule_timer,
            self._status_timer,
            self._alert_timer,
        ):
            if timer is not None:
                timer.cancel()

    def on_card(self, card: Card | None) -> None:
        """Event: ``card`` is now on screen (None: the empty state)."""

    # -- content and schedule ------------------------------------------------

    def _content_from_worker(self, content: Any) -> None:
        """Runtime listener, called on a worker thread: hand over, touch nothing."""
        Clock.schedule_once(partial(self._content_on_main, content))

    def _content_on_main(self, content: Any, _dt: float) -> None:
        if not self._stopping:
            self.apply_content(content)

    def apply_content(self, content: Any) -> None:
        """Take new content (main thread): replan, and cut the card on screen if it is gone."""
        self.content = content
        manifest = content.manifest if content is not None else None
        replace = self.presenter.update(manifest, self.now())
        self._arm_schedule_timer()
        if replace:
            self.next_card()
        else:
            self._update_status()

    def _arm_schedule_timer(self) -> None:
        if self._schedule_timer is not None:
            self._schedule_timer.cancel()
            self._schedule_timer = None
        at = self.presenter.next_change_at
        if at is not None:
            delay = max(0.0, (at - self.now()).total_seconds())
            self._schedule_timer = Clock.schedule_once(self._on_schedule_change, delay)

    def _on_schedule_change(self, _dt: float) -> None:
        self._schedule_timer = None
        manifest = self.content.manifest if self.content is not None else None
        if self.presenter.update(manifest, self.now()):
            self.next_card()
        self._arm_schedule_timer()

    # -- alerts and commands from the server -----------------------------------

    def _connect_alerts_and_commands(self) -> None:
        runtime: Any = self.runtime
        if hasattr(runtime, "add_alert_listener"):
            runtime.add_alert_listener(lambda _alerts: Clock.schedule_once(self.show_alerts))
            self.show_alerts()
        commands = getattr(runtime, "commands", None)
        if commands is not None:
            commands.screenshot_provider = self._screenshot_for_server
            commands.add_restart_listener(lambda: Clock.schedule_once(lambda _dt: self.stop()))

    def show_alerts(self, *_: Any) -> None:
        """Show the runtime's active alerts (main thread); re-armed for the next expiry."""
        if self._stopping or self.alert_overlay is None:
            return
        alerts = list(getattr(self.runtime, "alerts", []))
        manifest = self.content.manifest if self.content is not None else None
        languages = manifest.languages if manifest is not None else ()
        self.alert_overlay.show(alerts, languages)
        if self._alert_timer is not None:
            self._alert_timer.cancel()
            self._alert_timer = None
        if alerts:
            ends = min(a.expires_at for a in alerts)
            delay = max(0.5, (ends - self.now()).total_seconds())
            self._alert_timer = Clock.schedule_once(self.show_alerts, delay)

    def _screenshot_for_server(self, done: Callable[[bytes], None]) -> None:
        """The runtime's screenshot provider (any thread): capture on the main thread."""

        def capture(_dt: float) -> None:
            with tempfile.TemporaryDirectory() as tmp:
                path = save_screenshot(Path(tmp) / "screen.png")
                done(path.read_bytes())

        Clock.schedule_once(capture)

    # -- cards ---------------------------------------------------------------

    def _playable(self, card: Card) -> bool:
        if card.kind != "image":
            return True
        path = self._image_path(card)
        return path is not None and path.is_file()

    def _image_path(self, card: Card) -> Path | None:
        if card.asset is None or self.content is None:
            return None
        try:
            return Path(self.content.asset_path(card.asset))
        except (KeyError, ValueError, OSError):
            return None

    def next_card(self, *_: Any) -> None:
        """End the card on screen and show the next one (or the empty state)."""
        self._finish_card()
        if self._card_timer is not None:
            self._card_timer.cancel()
            self._card_timer = None
        if self.presenter.schedule_due(self.now()):  # the wall clock moved past a change
            manifest = self.content.manifest if self.content is not None else None
            self.presenter.update(manifest, self.now())
            self._arm_schedule_timer()
        card = self.presenter.advance(self._playable)
        assert self.view is not None
        if card is None:
            self.view.show_empty()
            if self.presenter.programme.cards:  # scheduled, but its images are not cached yet
                self._card_timer = Clock.schedule_once(self.next_card, RETRY_UNPLAYABLE_S)
        else:
            manifest = self.content.manifest
            self.view.show_card(card, manifest.languages, self._image_path(card))
            self._showing = _Showing(card, self.now(), manifest.version)
            self._card_timer = Clock.schedule_once(self.next_card, card.duration_s)
            try:
                self.runtime.set_now_playing(card.playlist_id, card.item_id, card.language)
            except Exception:  # reporting must never stop playback
                log.exception("could not report what is playing")
        self._update_status()
        self.dispatch("on_card", card)

    def _finish_card(self) -> None:
        showing, self._showing = self._showing, None
        if showing is None:
            return
        elapsed = self.now() - showing.started_at
        try:
            self.runtime.record_play(
                playlist_id=showing.card.playlist_id,
                item_id=showing.card.item_id,
                language=showing.card.language,
                started_at=showing.started_at,
                duration_ms=max(0, int(elapsed.total_seconds() * 1000)),
                manifest_version=showing.manifest_version,
            )
        except Exception:  # a lost record is reported by the runtime; playback goes on
            log.exception("could not record proof of play")

    def _update_status(self, *_: Any) -> None:
        if self.view is None:
            return
        content = self.content
        try:
            offline = getattr(self.runtime.status(), "offline_since", None) is not None
        except Exception:
            log.exception("could not read the runtime status")
            offline = False
        self.view.set_status(
            strings.status_line(
                content.manifest.version if content is not None else None,
                offline=offline,
                expired=bool(getattr(content, "expired", False)),
            )
        )
