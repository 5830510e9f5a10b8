"""Runs the real kiosk (``kiosk_app``: the real runtime, the real window set-up: borderless,
the X screen's size, no cursor) in its own process, and tells the test what happens.

    python tests/kiosk/kiosk_driver.py SCENARIO.json

Scenario keys: ``config`` (the device's TOML), ``trace`` (a JSON-lines file this
writes), ``shots`` (a folder: a PNG of every screen once drawn; omit for none),
``exit_after`` (seconds, a safety net). Trace events, each with ``t``
(``time.monotonic()``, the same clock in every process of the machine):

* ``screen``: a screen was built and put in place (not yet drawn): ``screen``, ``language``, ``id``;
* ``drawn``: a screen is in place and laid out and a frame showing it has been drawn:
  ``screen``, ``language``, ``id`` (category or page), ``targets`` (every button:
  ``action`` and its rectangle in window pixels from the top left), ``texts`` (every
  text on screen with its layout), ``dpi``, ``touch_min``, ``shot``;
* ``scroll``: a scroll ended: ``scroll_y`` (1 top, 0 bottom) and the screen;
* ``attract``: ``active`` true or false; ``card``: a signage card shown in the loop (the
  one on screen when the loop first starts, then each new one);
* ``alert``: the alert overlay shows ``shown_id`` ("" when hidden);
* ``warm``: ``ready`` true once every screen has been laid out ahead (see ``KioskApp.warm_up``);
* ``down``: a touch reached the app (before any widget handled it);
* ``touch``: a touch ended, at ``pos`` (window pixels from the top left).

The test taps the real window with ``xdotool`` at the rectangles given.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

from kiosk_app.config import load_kiosk_config
from kiosk_app.main import configure_window


def main(scenario_path: str) -> int:
    scenario = json.loads(Path(scenario_path).read_text(encoding="utf-8"))
    settings, kiosk = load_kiosk_config(scenario["config"])
    configure_window(False, kiosk.dpi)

    from kivy.clock import Clock
    from kivy.core.window import Window
    from kivy.metrics import Metrics

    from device_runtime.runtime import Runtime
    from kiosk_app.app import KioskApp, save_screenshot
    from kiosk_app.screens import KioskButton, TileBase
    from signage_player.richtext import RichText

    trace = open(scenario["trace"], "a", encoding="utf-8")  # noqa: SIM115 - lives with the app
    shots = Path(scenario["shots"]) if scenario.get("shots") else None
    count = {"shots": 0}

    def emit(event: str, **fields: Any) -> None:
        trace.write(json.dumps({"event": event, "t": time.monotonic(), **fields}) + "\n")
        trace.flush()

    runtime = Runtime(settings, app_name="kiosk-app", app_version="test")
    runtime.start()
    app = KioskApp(runtime, kiosk, exit_after=scenario.get("exit_after", 120))

    def rect(w: Any) -> list[int]:
        x, y = w.to_window(w.x, w.y)
        return [round(x), round(Window.height - y - w.height), round(w.width), round(w.height)]

    def visible(w: Any) -> bool:
        while w is not None and w is not Window:
            if getattr(w, "opacity", 1) == 0:
                return False
            w = w.parent if w.parent is not w else None
        return True

    def settled(root: Any) -> bool:
        for w in root.walk():
            if isinstance(w, RichText) and (
                w._relayout.is_triggered or w._redraw.is_triggered or (w.text and not w.lines)
            ):
                return False
            trigger = getattr(w, "_trigger_layout", None)
            if trigger is not None and getattr(trigger, "is_triggered", False):
                return False
        return True

    def texts(root: Any) -> list[dict[str, Any]]:
        out = []
        for w in root.walk():
            if isinstance(w, RichText) and w.text and visible(w):
                out.append(
                    {
                        "text": w.text,
                        "lines": list(w.lines),
                        "rect": rect(w),
                        "parent": rect(w.parent),
                        "content_width": w.content_width,
                        "content_height": w.content_height,
                        "fit": w.fit,
                        "wrap": w.wrap,
                        "used_font_size": w.used_font_size,
                        "min_font_size": w.min_font_size,
                    }
                )
        return out

    pending: dict[str, Any] = {}

    def on_screen(_app: Any, view: Any) -> None:
        ident = getattr(getattr(view, "page", None), "id", None) or getattr(
            getattr(view, "category", None), "id", None
        )
        pending["view"] = {"screen": view.name, "language": view.language, "id": ident}
        emit("screen", **pending["view"])  # built and in place; not yet drawn
        screen = app.screen
        scroll = screen.ids.get("scroll") if screen is not None else None
        if scroll is not None:
            scroll.bind(
                on_scroll_stop=lambda sv, *_: emit(
                    "scroll", scroll_y=round(sv.scroll_y, 3), **pending.get("last", {})
                )
            )

    def watch_warm(_dt: float) -> None:
        if app.warmed_up != pending.get("warm", False):
            pending["warm"] = app.warmed_up
            emit("warm", ready=app.warmed_up)

    Clock.schedule_interval(watch_warm, 0.05)

    def on_flip(*_: Any) -> None:
        view = pending.get("view")
        root = app.root_widget
        if view is None or root is None or not settled(root):
            return
        del pending["view"]
        pending["last"] = view
        drawn_at = time.monotonic()

        def report(_dt: float) -> None:
            if "view" in pending:  # another screen came meanwhile: it will be reported
                return
            shot = None
            if shots is not None:
                count["shots"] += 1
                shot = str(save_screenshot(shots / f"{count['shots']:03d}.png"))
            targets = [
                {"action": w.action, "rect": rect(w)}
                for w in root.walk()
                if isinstance(w, KioskButton | TileBase) and visible(w) and not w.disabled
            ]
            emit(
                "drawn",
                drawn_at=drawn_at,
                targets=targets,
                texts=texts(root),
                dpi=Metrics.dpi,
                touch_min=app.touch_min,
                text_scale=app.text_scale,
                high_contrast=app.high_contrast,
                shot=shot,
                **view,
            )

        Clock.schedule_once(report, 0)

    def on_card(card: Any) -> None:
        emit("card", item=card.item_id if card else None, language=card and card.language)

    def on_attract(_app: Any, active: bool) -> None:
        emit("attract", active=active)
        if active and app.signage is not None and not pending.get("cards_bound"):
            pending["cards_bound"] = True
            app.signage.bind(on_card=lambda _v, card: on_card(card))
            showing = app.signage.showing  # the loop's first card came with its start
            if showing is not None:
                on_card(showing.card)
            shot_attract()

    def shot_attract() -> None:
        if shots is not None:
            Clock.schedule_once(lambda _dt: emit(
                "attract_shot", shot=str(save_screenshot(shots / "attract.png"))
            ), 2.0)  # fmt: skip

    def watch_alerts(*_: Any) -> None:
        overlay = app.alert_overlay
        if overlay is not None:
            overlay.bind(shown_id=lambda _o, value: Clock.schedule_once(
                lambda _dt: emit("alert", shown_id=value, shot=str(save_screenshot(
                    shots / "alert.png")) if shots is not None and value else None), 0.3
            ))  # fmt: skip

    def on_touch_up(_w: Any, touch: Any) -> None:
        pos = [round(touch.x), round(Window.height - touch.y)]
        Clock.schedule_once(lambda _dt: emit("touch", pos=pos), 0)  # once the app handled it

    Window.bind(on_touch_down=lambda _w, _touch: emit("down"))  # as the app receives it
    app.bind(on_screen=on_screen, on_attract=on_attract, on_start=watch_alerts)
    Window.bind(on_flip=on_flip, on_touch_up=on_touch_up)
    emit("started", pid=__import__("os").getpid())
    try:
        app.run()
    finally:
        runtime.stop()
        emit("stopped")
        trace.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
