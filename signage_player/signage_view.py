"""``SignageView``: the playback controller as a widget, for the player and the kiosk.

It owns what a passive screen does, on the Kivy main thread: the presenter (what
plays and when), the prepare-next logic, the video tick, the zones of the manifest's
layout (a header whose clock ticks once a second, a ticker moved 30 times a second:
``zones.py``), the alert overlay, the maintenance overlay and the status mark. The
player's ``PlayerApp`` is a thin shell around one of these filling the window; the
kiosk's attract loop embeds one while the kiosk is idle and removes it on a touch.
``start()`` and ``stop()`` may be called again and again: ``stop()`` ends the card on
screen, closes and joins every video decoder and cancels every Clock event this
widget armed; ``start()`` reads the runtime's current content and plays from the
start of the programme.

Timers, each one ``Clock.schedule_once``, re-armed, never a sleep loop:

* the card timer ends the card on screen after its ``duration_s`` (or, when every
  scheduled card waits for an image still downloading, looks again a little later);
* the schedule timer fires at the presenter's ``next_change_at``;
* the alert timer hides an alert when it expires;
* the header clock re-arms itself on each whole second (and refreshes the ticker's
  notices, which drop out at their ``until``);
* the maintenance timer hides the maintenance overlay again;

and one interval that refreshes the status corner while nothing else changes.

A video card has no card timer: it ends when its file does. Its frames come from a
``video.VideoStream`` worker thread through one lock-protected slot, read by a
Clock interval on the main thread (every Kivy frame while a video plays). A video
that does not open, or stops decoding before its end, is skipped and reported
(``problems``, the log, and a count in the status corner until new content comes);
only a video played to its end is recorded.

Seamless switching: as soon as a card is on screen the next one is prepared (its
widget built and laid out, an image loaded, a video's first frame decoded); when a
video's first frame is not decoded yet, the card before it stays on screen until it
is, so a switch never shows an empty or black card.

New content and alerts arrive from the runtime's threads; the listeners only hand
them to the main thread with ``Clock.schedule_once``. When a card leaves the
screen its play is recorded through the runtime (``record_play``), with the
time it was actually shown. What to show is ``presenter``'s decision; how it
looks is ``playback``'s; the app around the widget (window, screenshots for demos,
the server's ``restart`` command) is ``app``'s.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any, Protocol

from kivy.clock import Clock, ClockEvent
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.floatlayout import FloatLayout

from device_runtime.clock import utc_now
from signage_core.errors import ManifestError
from signage_core.layout import (
    Layout,
    header_text,
    next_second,
    ticker_offset,
    ticker_segments,
    ticker_speed,
)
from signage_core.manifest import Manifest

from . import strings
from .alert_overlay import AlertOverlay
from .alert_overlay import load_kv as load_alert_kv
from .maintenance import MaintenanceOverlay
from .maintenance import load_kv as load_maintenance_kv
from .playback import PlaybackView
from .playback import load_kv as load_playback_kv
from .presenter import Card, Presenter
from .video import VideoStream
from .zones import HeaderZone, TickerZone
from .zones import load_kv as load_zones_kv

log = logging.getLogger(__name__)
# When every scheduled card waits for an asset still downloading, look again this often.
RETRY_UNPLAYABLE_S = 10.0
# A video whose first frame is not decoded after this long is skipped; one that makes
# no progress for this long while playing is treated as broken.
VIDEO_OPEN_TIMEOUT_S = 10.0
VIDEO_STALL_S = 10.0
# While waiting for a video's first frame, look this often.
VIDEO_POLL_S = 0.02
# The newest problems kept for reports (a video skipped, ...).
MAX_PROBLEMS = 20
# The status corner (offline, expired) is also refreshed between cards this often.
STATUS_REFRESH_S = 15.0
# The ticker moves this often a second (smooth to the eye, light on a small CPU).
TICKER_FPS = 30
# The maintenance overlay hides itself after this long.
MAINTENANCE_SHOW_S = 30.0
# Zone heights as shares of the screen's height: (header, ticker), landscape and portrait.
# From 3–5 m: the ticker's text is about half its zone, 4 % of a landscape screen's height.
ZONES_LANDSCAPE = (0.13, 0.085)
ZONES_PORTRAIT = (0.12, 0.05)


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
    stream: VideoStream | None = None


@dataclass
class _Prepared:
    """A card made ready ahead of its turn: its widget, and for a video its decoder."""

    card: Card
    manifest_version: int
    widget: Any
    stream: VideoStream | None
    since: float  # time.monotonic() when preparation began


def save_screenshot(path: str | os.PathLike[str]) -> Path:
    """Write what the window shows to ``path`` (PNG), upright as a reader of the screen
    sees it (also when the picture is turned for a screen hung vertically)."""
    from kivy.core.window import Window  # the window exists once the app runs

    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    if Window.rotation:
        return _save_turned(Window, target)
    with tempfile.TemporaryDirectory() as tmp:
        # Window.screenshot numbers its files: let it, then move the file into place.
        written = Window.screenshot(name=str(Path(tmp) / "shot.png"))
        shutil.move(written, target)
    return target


def _save_turned(window: Any, target: Path) -> Path:
    """The whole framebuffer (``system_size``), turned back upright."""
    import cv2
    import numpy as np
    from kivy.graphics.opengl import GL_RGBA, GL_UNSIGNED_BYTE, glReadPixels

    width, height = (int(v) for v in window.system_size)
    data = glReadPixels(0, 0, width, height, GL_RGBA, GL_UNSIGNED_BYTE)
    picture = np.frombuffer(data, np.uint8).reshape(height, width, 4)[::-1]
    picture = np.rot90(picture, k=-int(window.rotation) // 90)
    if not cv2.imwrite(str(target), cv2.cvtColor(picture, cv2.COLOR_RGBA2BGR)):
        raise OSError(f"could not write the screenshot {target}")
    return target


def load_kv() -> None:
    """Load the rules of every widget a ``SignageView`` holds (once per process)."""
    load_playback_kv()
    load_alert_kv()
    load_zones_kv()
    load_maintenance_kv()


class SignageView(FloatLayout):
    """Plays a runtime's current content inside its own bounds, alerts over it.

    Made and used on the Kivy main thread only. ``on_card(card)`` is dispatched each
    time a card comes on screen (None: the empty state).
    """

    __events__ = ("on_card", "on_layout")

    def __init__(
        self,
        runtime: RuntimeLike,
        *,
        now: Callable[[], datetime] = utc_now,
        **kwargs: Any,
    ) -> None:
        load_kv()
        super().__init__(**kwargs)
        self.runtime = runtime
        self.now = now
        self.presenter = Presenter()
        self.content: Any = None
        self.playback = PlaybackView()
        self.zones = BoxLayout(orientation="vertical")  # header, card, ticker
        self.zones.add_widget(self.playback)
        self.header: HeaderZone | None = None
        self.ticker: TickerZone | None = None
        self.layout: Layout | None = None
        self.maintenance = MaintenanceOverlay()
        self.alert_overlay = AlertOverlay()
        self.add_widget(self.zones)
        self.add_widget(self.maintenance)
        self.add_widget(self.alert_overlay)  # added last: drawn over everything
        self.fbind("size", self._size_zones)
        self.problems: list[str] = []
        self._running = False
        self._listening = False
        self._showing: _Showing | None = None
        self._prepared: _Prepared | None = None
        self._card_timer: ClockEvent | None = None
        self._schedule_timer: ClockEvent | None = None
        self._status_timer: ClockEvent | None = None
        self._waiting: ClockEvent | None = None  # polls a video's first frame
        self._video_tick: ClockEvent | None = None
        self._clock_timer: ClockEvent | None = None
        self._ticker_event: ClockEvent | None = None
        self._ticker_since = 0.0
        self._maintenance_timer: ClockEvent | None = None
        self._broken: set[str] = set()  # video assets that failed, until new content

    @property
    def running(self) -> bool:
        return self._running

    @property
    def showing(self) -> _Showing | None:
        """The card on screen, when it started, and its video decoder if it is a video."""
        return self._showing

    def start(self) -> None:
        """Play the runtime's current content from the start of its programme, follow
        new content and alerts. Main thread; does nothing when already started."""
        if self._running:
            return
        self._running = True
        if not self._listening:  # the runtime has no way to remove a listener: add once
            self._listening = True
            self.runtime.add_listener(self._content_from_worker)
            runtime: Any = self.runtime
            if hasattr(runtime, "add_alert_listener"):
                runtime.add_alert_listener(self._alerts_from_runtime)
        self.apply_content(self.runtime.current)
        self.show_alerts()
        self._status_timer = Clock.schedule_interval(self._update_status, STATUS_REFRESH_S)

    def stop(self) -> None:
        """Stop playing (main thread): the card on screen ends (recorded as today, a video
        cut short is not a play), every video decoder is closed and its thread joined,
        every Clock event this widget armed is cancelled, and the empty state is shown.
        ``start()`` may follow."""
        if not self._running:
            return
        self._running = False
        streams = [x.stream for x in (self._showing, self._prepared) if x and x.stream]
        self._finish_card()
        self._drop_prepared()
        for stream in streams:  # a decoder killed mid-call at exit aborts the process
            stream.join(timeout=2)
        for timer in (
            self._card_timer,
            self._schedule_timer,
            self._status_timer,
            self._waiting,
            self._video_tick,
            self._clock_timer,
            self._ticker_event,
            self._maintenance_timer,
        ):
            if timer is not None:
                timer.cancel()
        self._card_timer = self._schedule_timer = self._status_timer = None
        self._waiting = self._video_tick = None
        self._clock_timer = self._ticker_event = self._maintenance_timer = None
        self.presenter = Presenter()  # the next start() plays from the beginning
        self.content = None
        self.playback.show_empty()
        self._set_layout(None)
        self.maintenance.hide()
        self.alert_overlay.disarm()
        self.alert_overlay.show([], ())

    def on_card(self, card: Card | None) -> None:
        """Event: ``card`` is now on screen (None: the empty state)."""

    def on_layout(self, layout: Layout | None) -> None:
        """Event: the layout changed (None: cards only)."""

    # -- content and schedule ------------------------------------------------

    def _content_from_worker(self, content: Any) -> None:
        """Runtime listener, called on a worker thread: hand over, touch nothing."""
        if self._running:  # stopped: start() reads the runtime's current content again
            Clock.schedule_once(partial(self._content_on_main, content))

    def _content_on_main(self, content: Any, _dt: float) -> None:
        if self._running:
            self.apply_content(content)

    def apply_content(self, content: Any) -> None:
        """Take new content (main thread): replan, and cut the card on screen if it is gone."""
        self.content = content
        self._broken.clear()  # new content: give every video another chance
        self._drop_prepared()
        manifest = content.manifest if content is not None else None
        self._set_layout(manifest)
        replace = self.presenter.update(manifest, self.now())
        self._arm_schedule_timer()
        if replace:
            self.next_card()
        else:
            self._prepare_next()
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

    # -- alerts and the screenshot hook ------------------------------------------

    def _alerts_from_runtime(self, _alerts: Any) -> None:
        """Runtime alert listener (paho's or the worker thread): hand over, touch nothing."""
        if self._running:
            Clock.schedule_once(self.show_alerts)

    def show_alerts(self, *_: Any) -> None:
        """Show the runtime's active alerts (main thread); re-armed for the next expiry."""
        if not self._running:
            return
        alerts = list(getattr(self.runtime, "alerts", []))
        manifest = self.content.manifest if self.content is not None else None
        languages = manifest.languages if manifest is not None else ()
        self.alert_overlay.show_until_expiry(alerts, languages, self.now(), self.show_alerts)

    def screenshot_for_server(self, done: Callable[[bytes], None]) -> None:
        """A screenshot provider for ``device_runtime.commands`` (any thread): the window
        is captured on the main thread and its PNG bytes handed to ``done``."""

        def capture(_dt: float) -> None:
            with tempfile.TemporaryDirectory() as tmp:
                path = save_screenshot(Path(tmp) / "screen.png")
                done(path.read_bytes())

        Clock.schedule_once(capture)

    # -- cards ---------------------------------------------------------------

    def _playable(self, card: Card) -> bool:
        if card.kind not in ("image", "video"):
            return True
        if card.kind == "video" and card.asset in self._broken:
            return False
        path = self._asset_path(card)
        return path is not None and path.is_file()

    def _asset_path(self, card: Card) -> Path | None:
        if card.asset is None or self.content is None:
            return None
        try:
            return Path(self.content.asset_path(card.asset))
        except (KeyError, ValueError, OSError):
            return None

    def report_problem(self, message: str) -> None:
        """A problem an operator should hear of (a video skipped): logged and kept."""
        log.error("%s", message)
        self.problems.append(message)
        del self.problems[:-MAX_PROBLEMS]

    def _prepare(self, card: Card) -> _Prepared:
        path = self._asset_path(card)
        widget = self.playback.build_card(card, path)
        stream = None
        if card.kind == "video" and path is not None:
            label = f"{card.playlist_id}/{card.item_id} ({card.language})"
            from kivy.core.window import Window  # the window exists once the app runs

            stream = VideoStream(path, label, max_size=(int(Window.width), int(Window.height)))
        return _Prepared(card, self.content.manifest.version, widget, stream, time.monotonic())

    def _drop_prepared(self) -> None:
        prepared, self._prepared = self._prepared, None
        if prepared is not None and prepared.stream is not None:
            prepared.stream.close()

    def _prepare_next(self) -> None:
        """Get the card after the one on screen ready while this one plays."""
        if self.content is None or not self._running:
            return
        card = self.presenter.peek(self._playable)
        prepared = self._prepared
        if prepared is not None:
            if prepared.card == card and prepared.manifest_version == self.content.manifest.version:
                return
            self._drop_prepared()
        if card is not None:
            self._prepared = self._prepare(card)

    def _take_prepared(self, card: Card) -> _Prepared:
        prepared, self._prepared = self._prepared, None
        version = self.content.manifest.version
        if prepared is not None and prepared.card == card and prepared.manifest_version == version:
            return prepared
        if prepared is not None and prepared.stream is not None:
            prepared.stream.close()
        return self._prepare(card)

    def next_card(self, *_: Any) -> None:
        """End the card on screen and show the next one (or the empty state)."""
        for timer in (self._card_timer, self._waiting):
            if timer is not None:
                timer.cancel()
        self._card_timer = self._waiting = None
        if self.presenter.schedule_due(self.now()):  # the wall clock moved past a change
            manifest = self.content.manifest if self.content is not None else None
            self.presenter.update(manifest, self.now())
            self._arm_schedule_timer()
        self._switch()

    def _switch(self) -> None:
        """Show the next playable card; a video only once its first frame is decoded."""
        # Each pass either shows a card, waits, or marks one more video broken: bounded.
        for _attempt in range(len(self.presenter.programme.cards) + 1):
            card = self.presenter.peek(self._playable)  # advanced to once it is shown
            if card is None:
                break
            prepared = self._take_prepared(card)
            stream = prepared.stream
            if stream is None and card.kind == "video":  # vanished from the cache meanwhile
                continue
            if stream is not None:
                state = stream.state
                waited = time.monotonic() - prepared.since
                if state == "opening" and waited < VIDEO_OPEN_TIMEOUT_S:
                    # The card on screen stays until the first frame is there.
                    self._prepared = prepared
                    self._waiting = Clock.schedule_once(self._first_frame_ready, VIDEO_POLL_S)
                    return
                if state != "ready":
                    stream.close()
                    self._video_failed(card, stream, "its first frame did not decode in time")
                    continue
            self._show(prepared)
            return
        self.presenter.advance(self._playable)  # nothing playable: nothing showing
        self._finish_card()
        self._stop_video_tick()
        self.playback.show_empty()
        if self.presenter.programme.cards:  # scheduled, but nothing playable yet
            self._card_timer = Clock.schedule_once(self.next_card, RETRY_UNPLAYABLE_S)
        self._update_status()
        self.dispatch("on_card", None)

    def _first_frame_ready(self, _dt: float) -> None:
        self._waiting = None
        prepared = self._prepared
        if prepared is None or not self._running:
            return
        self._switch()

    def _video_failed(self, card: Card, stream: VideoStream, why: str) -> None:
        if card.asset is not None:
            self._broken.add(card.asset)
        message = stream.error or f"video {stream.label}: {why}; skipped"
        self.report_problem(message)
        report = getattr(self.runtime, "report_skipped", None)
        if report is not None:  # in the heartbeat's "skipped", for the fleet page
            try:
                report(
                    playlist_id=card.playlist_id,
                    item_id=card.item_id,
                    language=card.language,
                    asset=card.asset,
                    reason=message,
                    at=self.now(),
                )
            except Exception:  # reporting must never stop playback
                log.exception("could not report a skipped video")
        self._update_status()

    def _show(self, prepared: _Prepared) -> None:
        card = prepared.card
        advanced = self.presenter.advance(self._playable)
        if advanced != card:  # an asset vanished between two looks: show what was prepared
            log.warning("presenter moved to %s while %s was prepared", advanced, card)
        self._finish_card()
        stream = prepared.stream
        if stream is not None:
            picked = stream.take()  # the first frame, drawn before the card is on screen
            if picked.frame is not None:
                prepared.widget.set_frame(picked.frame)
            stream.start()
        manifest = self.content.manifest
        self.playback.show_card(card, manifest.languages, widget=prepared.widget)
        self._showing = _Showing(card, self.now(), manifest.version, stream)
        if stream is None:
            self._stop_video_tick()
            self._card_timer = Clock.schedule_once(self.next_card, card.duration_s)
        elif self._video_tick is None:
            self._video_tick = Clock.schedule_interval(self._on_video_tick, 0)
        try:
            self.runtime.set_now_playing(card.playlist_id, card.item_id, card.language)
        except Exception:  # reporting must never stop playback
            log.exception("could not report what is playing")
        self._update_status()
        self._refresh_zones()  # the header's name follows the language on screen
        self.dispatch("on_card", card)
        self._prepare_next()

    def _stop_video_tick(self) -> None:
        if self._video_tick is not None:
            self._video_tick.cancel()
            self._video_tick = None

    def _on_video_tick(self, _dt: float) -> None:
        """Every Kivy frame while a video plays: upload its newest frame, notice its end."""
        showing = self._showing
        if showing is None or showing.stream is None:
            self._stop_video_tick()
            return
        stream = showing.stream
        picked = stream.take()
        if picked.frame is not None and self.playback.card is not None:
            self.playback.card.set_frame(picked.frame)
        if self._waiting is not None:  # over: the next card is waiting for its first frame
            return
        if picked.state == "ended":
            self.next_card()
        elif picked.state == "failed":
            self._video_failed(showing.card, stream, "decoding failed")
            self.next_card()
        elif stream.stalled_for() > VIDEO_STALL_S:
            stream.close()
            self._video_failed(showing.card, stream, "decoding stalled")
            self.next_card()

    def _finish_card(self) -> None:
        showing, self._showing = self._showing, None
        if showing is None:
            return
        if showing.stream is not None:
            ended = showing.stream.state == "ended"
            showing.stream.close()
            if not ended:  # cut short or broken: not a play
                return
        elapsed = self.now() - showing.started_at
        for language in showing.card.languages:  # side by side: each language was shown
            try:
                self.runtime.record_play(
                    playlist_id=showing.card.playlist_id,
                    item_id=showing.card.item_id,
                    language=language,
                    started_at=showing.started_at,
                    duration_ms=max(0, int(elapsed.total_seconds() * 1000)),
                    manifest_version=showing.manifest_version,
                )
            except Exception:  # a lost record is reported by the runtime; playback goes on
                log.exception("could not record proof of play")

    def _update_status(self, *_: Any) -> None:
        content = self.content
        try:
            offline = getattr(self.runtime.status(), "offline_since", None) is not None
        except Exception:
            log.exception("could not read the runtime status")
            offline = False
        self.playback.set_status(
            strings.status_line(
                content.manifest.version if content is not None else None,
                offline=offline,
                expired=bool(getattr(content, "expired", False)),
                videos_skipped=len(self._broken),
            )
        )

    # -- zones: header and ticker ---------------------------------------------------------

    def _set_layout(self, manifest: Manifest | None) -> None:
        """Build the zones of ``manifest``'s layout (none: the card fills the widget)."""
        layout = None
        if manifest is not None:
            try:
                layout = manifest.layout
            except ManifestError:  # checked when the manifest was accepted; never fatal
                log.exception("the manifest's layout cannot be read; showing cards only")
        if layout == self.layout and (layout is None or self.zones.children):
            self._refresh_zones()
            return
        self.layout = layout
        self.dispatch("on_layout", layout)
        for event in (self._clock_timer, self._ticker_event):
            if event is not None:
                event.cancel()
        self._clock_timer = self._ticker_event = None
        self.zones.clear_widgets()
        self.header = HeaderZone() if layout is not None and layout.header else None
        self.ticker = TickerZone() if layout is not None and layout.ticker else None
        for zone in (self.header, self.playback, self.ticker):
            if zone is not None:
                self.zones.add_widget(zone)
        self._size_zones()
        if layout is not None and self._running:
            self._refresh_zones()
            if self.ticker is not None:
                self._ticker_since = time.monotonic()
                self._ticker_event = Clock.schedule_interval(self._move_ticker, 1 / TICKER_FPS)

    def _size_zones(self, *_: Any) -> None:
        portrait = self.height > self.width
        header_share, ticker_share = ZONES_PORTRAIT if portrait else ZONES_LANDSCAPE
        if self.header is not None:
            self.header.size_hint_y = header_share
            self.header.portrait = portrait
        if self.ticker is not None:
            self.ticker.size_hint_y = ticker_share
        shares = (self.header is not None) * header_share + (self.ticker is not None) * ticker_share
        self.playback.size_hint_y = 1 - shares

    def _refresh_zones(self, *_: Any) -> None:
        """Say what the header and the ticker say now; re-armed on the next whole second."""
        if self._clock_timer is not None:
            self._clock_timer.cancel()
            self._clock_timer = None
        layout = self.layout
        if layout is None or not self._running or self.content is None:
            return
        manifest = self.content.manifest
        now = self.now()
        if self.header is not None:
            showing = self.presenter.showing
            first = showing.language if showing is not None else None
            self.header.show(
                header_text(layout.title, manifest.languages, now, manifest.timezone, first)
            )
        if self.ticker is not None:
            self.ticker.show(ticker_segments(layout.notices, manifest.languages, now))
        self._clock_timer = Clock.schedule_once(self._refresh_zones, next_second(self.now()))

    def _move_ticker(self, _dt: float) -> None:
        ticker = self.ticker
        if ticker is None:
            return
        elapsed = time.monotonic() - self._ticker_since
        speed = ticker_speed(ticker.text_height)
        ticker.move_to(ticker_offset(elapsed, speed, ticker.period, ticker.width))

    # -- the maintenance overlay ----------------------------------------------------------

    def show_maintenance(
        self, *_: Any, seconds: float = MAINTENANCE_SHOW_S, toggle: bool = False
    ) -> None:
        """Show the maintenance overlay (main thread) with fresh facts for ``seconds``;
        ``toggle`` (the key): hide it instead when it is shown."""
        if self._maintenance_timer is not None:
            self._maintenance_timer.cancel()
            self._maintenance_timer = None
        if (toggle and self.maintenance.shown) or not self._running:
            self.maintenance.hide()
            return
        info_of = getattr(self.runtime, "maintenance_info", None)
        info: dict[str, Any] = {}
        if info_of is not None:
            try:
                info = dict(info_of())
            except Exception:
                log.exception("could not read the maintenance facts")
        if not info.get("manifest_version") and self.content is not None:
            info["manifest_version"] = self.content.manifest.version
        self.maintenance.show(strings.maintenance_lines(info, int(seconds)))
        self._maintenance_timer = Clock.schedule_once(self._hide_maintenance, seconds)

    def _hide_maintenance(self, _dt: float) -> None:
        self._maintenance_timer = None
        self.maintenance.hide()
