"""The emergency overlay: a signed alert shown over everything, in every language of the site.

``AlertOverlay`` covers the whole playback view while an alert is active and
is invisible (and lets nothing through to the view below it) otherwise. It is
told what to show by the app (``show(alerts, languages)``) on the Kivy main
thread; which alerts are trusted and active is the runtime's decision
(``device_runtime.alerts``). Each language gets a title and a body in
``RichText`` (Lao shaped with its own font and broken into words), sized to
fit the screen, never clipped. ``show_until_expiry`` also calls the app back
when the first shown alert expires, so that it shows what is active then.
Rules are in ``alert_overlay.kv``, loaded by ``load_kv()`` from ``App.build``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from kivy.clock import Clock, ClockEvent
from kivy.lang import Builder
from kivy.properties import ListProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.floatlayout import FloatLayout

from signage_core.alert import Alert

from .resources import resource_path

_KV_LOADED = False
# The overlay's own words, by severity: Vietnamese · Lao · English.
HEADINGS = {
    "emergency": "KHẨN CẤP · ສຸກເສີນ · EMERGENCY",
    "warning": "CẢNH BÁO · ແຈ້ງເຕືອນ · WARNING",
    "info": "THÔNG BÁO · ແຈ້ງການ · NOTICE",
}
COLOURS = {
    "emergency": (0.62, 0.05, 0.05, 1),
    "warning": (0.70, 0.38, 0.0, 1),
    "info": (0.05, 0.25, 0.50, 1),
}


def load_kv() -> None:
    global _KV_LOADED
    if not _KV_LOADED:
        Builder.load_file(str(resource_path("signage_player", "alert_overlay.kv")))
        _KV_LOADED = True


def texts_in_order(alert: Alert, languages: Sequence[str]) -> list[tuple[str, str, str]]:
    """``(language, title, body)`` in the site's language order, then any others."""
    order = [lang for lang in languages if lang in alert.texts]
    order += [lang for lang in alert.texts if lang not in order]
    return [(lang, alert.texts[lang]["title"], alert.texts[lang]["body"]) for lang in order]


class AlertBlock(BoxLayout):
    title = StringProperty("")
    body = StringProperty("")


class AlertOverlay(FloatLayout):
    heading = StringProperty("")
    colour = ListProperty([0, 0, 0, 0])
    shown_id = StringProperty("")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.opacity = 0
        self.disabled = True
        self._expiry: ClockEvent | None = None

    def show(self, alerts: Sequence[Alert], languages: Sequence[str]) -> None:
        """Show the first (most severe) alert, or hide when there is none."""
        blocks = self.ids.blocks
        blocks.clear_widgets()
        if not alerts:
            self.opacity, self.disabled, self.shown_id = 0, True, ""
            return
        alert = alerts[0]
        self.heading = HEADINGS[alert.severity]
        self.colour = list(COLOURS[alert.severity])
        for _lang, title, body in texts_in_order(alert, languages):
            blocks.add_widget(AlertBlock(title=title, body=body))
        self.opacity, self.disabled, self.shown_id = 1, False, alert.id

    def show_until_expiry(
        self,
        alerts: Sequence[Alert],
        languages: Sequence[str],
        now: datetime,
        again: Callable[[float], Any],
    ) -> None:
        """``show`` the alerts and arm ``again`` (a Clock callback) for when the first of
        them expires, half a second from ``now`` at the earliest; the call armed before is
        cancelled."""
        self.show(alerts, languages)
        self.disarm()
        if alerts:
            ends = min(a.expires_at for a in alerts)
            delay = max(0.5, (ends - now).total_seconds())
            self._expiry = Clock.schedule_once(again, delay)

    def disarm(self) -> None:
        """Cancel the call armed by ``show_until_expiry`` (the app stops)."""
        if self._expiry is not None:
            self._expiry.cancel()
            self._expiry = None

    def on_touch_down(self, touch: Any) -> bool:
        return bool(self.opacity)  # while shown, nothing under it reacts
