"""Runs the kiosk's feedback form in its own process (Kivy makes one window per process)
for the tests, over a real device runtime or a fake one, and says where everything is.

    python -m tests.kiosk.feedback_driver SCENARIO.json

Scenario keys:
    config      a device TOML: the real ``device_runtime.runtime.Runtime`` (started, so
                records go out to the server); absent: a fake runtime that keeps records
                in a list
    languages   the forms to show one after the other, e.g. ["lo", "vi"]; the next one
                opens when the previous calls ``on_done``
    pages       [[page id, title], ...] to choose from
    window      [width, height] (1280×720 by default)
    app         true: the whole kiosk app (``kiosk_app.app.KioskApp``) with its feedback
                button; the test opens the form by tapping it ("languages" is unused)
    idle_s      the kiosk's idle timeout in app mode (default 3600)
    state       where to write, every 0.2 s and on the frame after each touch, what is
                on screen: {"form": n, "language", "state", "text", "touches", "pending",
                "records", "keys": [{"label", "action", "x", "y", "w", "h"}],
                "buttons": [...], "texts": [{"text", "content_w", "content_h", "x", ...}]}
                with x, y the centre in window pixels from the top left
    commands    a file the test appends JSON lines to: {"shot": path} saves a screenshot,
                {"quit": true} closes the app
"""

from __future__ import annotations

import json
import logging
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

os.environ.setdefault("KIVY_NO_ARGS", "1")
# Everything logged, down to DEBUG: the tests check that nothing typed is in it.
logging.basicConfig(level=logging.DEBUG, format="%(levelname)s %(name)s: %(message)s")

from kivy.config import Config  # noqa: E402

_scenario: dict[str, Any] = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
_WINDOW = tuple(_scenario.get("window", (1280, 720)))
Config.set("graphics", "fullscreen", "0")
Config.set("graphics", "borderless", "1")
Config.set("graphics", "position", "custom")
Config.set("graphics", "left", "0")
Config.set("graphics", "top", "0")
Config.set("graphics", "width", str(_WINDOW[0]))
Config.set("graphics", "height", str(_WINDOW[1]))
Config.set("input", "mouse", "mouse,disable_multitouch")

from kivy.app import App  # noqa: E402
from kivy.clock import Clock  # noqa: E402
from kivy.core.window import Window  # noqa: E402
from kivy.uix.behaviors import ButtonBehavior  # noqa: E402
from kivy.uix.floatlayout import FloatLayout  # noqa: E402

from kiosk_app.feedback import FeedbackForm  # noqa: E402
from kiosk_app.keyboard import KeyButton, Tap  # noqa: E402
from signage_player.app import save_screenshot  # noqa: E402
from signage_player.richtext import RichText  # noqa: E402


class ListRuntime:
    """Keeps records in a list (for tests that need no server)."""

    def __init__(self) -> None:
        self.recorded: list[dict[str, Any]] = []

    def record(self, kind: str, at: datetime, **fields: Any) -> str:
        self.recorded.append({"kind": kind, "ts": at.isoformat(), **fields})
        return f"record-{len(self.recorded)}"


def utc_now() -> datetime:
    return datetime.now(UTC)


def where(widget: Any) -> dict[str, Any]:
    x, y = widget.to_window(widget.x, widget.y)
    return {
        "x": round(x + widget.width / 2),
        "y": round(Window.height - (y + widget.height / 2)),
        "w": round(widget.width),
        "h": round(widget.height),
    }


class Reporter:
    """Writes what is on screen to the state file, runs the test's commands."""

    def __init__(self, scenario: dict[str, Any], runtime: Any, stop: Any) -> None:
        self.scenario = scenario
        self.runtime = runtime
        self.stop = stop
        self.form_count = 0
        self.touches = 0
        self.commands_done = 0
        self.reports = 0
        self.form: FeedbackForm | None = None
        self.extra: dict[str, Any] = {}
        self.whole: Any = None  # app mode: the kiosk's root, for its buttons
        self.refresh: Any = self.report  # app mode: the kiosk's own report

    def touched(self, *_: Any) -> None:
        self.touches += 1
        # Widgets take the touch after this handler: the next frame shows what it did.
        Clock.schedule_once(self.refresh, 0)

    def report(self, _dt: float) -> None:
        self.run_commands()
        form = self.form
        keys, buttons, texts = [], [], []
        if form is not None:
            for w in form.walk():
                if isinstance(w, RichText) and w.text:
                    texts.append(
                        {
                            "text": w.text,
                            "content_w": round(w.content_width),
                            "content_h": round(w.content_height),
                            **where(w),
                        }
                    )
                if isinstance(w, KeyButton):
                    keys.append({"label": w.text, "action": w.action, **where(w)})
                elif isinstance(w, Tap):
                    buttons.append(
                        {"label": w.text, "action": w.action, "selected": w.selected, **where(w)}
                    )
        if self.whole is not None and form is None:
            for w in self.whole.walk():
                if isinstance(w, ButtonBehavior) and getattr(w, "action", "") and w.opacity > 0:
                    buttons.append(
                        {
                            "label": getattr(w, "text", ""),
                            "action": w.action,
                            "selected": bool(getattr(w, "selected", False)),
                            **where(w),
                        }
                    )
        records = getattr(self.runtime, "records", None)
        self.reports += 1
        state = {
            "seq": self.reports,
            "form": self.form_count,
            "language": form.language if form else None,
            "state": form.state if form else "done",
            "text": form.keyboard.text if form and form.state == "form" else "",
            "layout": form.keyboard.layout if form and form.state == "form" else "",
            "touches": self.touches,
            "commands": self.commands_done,
            "pending": records.pending() if hasattr(records, "pending") else None,
            "recorded": getattr(self.runtime, "recorded", None),
            "key_min": form.min_key if form else 0,
            "keys": keys,
            "buttons": buttons,
            "texts": texts,
            **self.extra,
        }
        path = Path(self.scenario["state"])
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, ensure_ascii=False), encoding="utf-8")
        tmp.replace(path)

    def run_commands(self) -> None:
        path = Path(self.scenario["commands"])
        if not path.exists():
            return
        lines = path.read_text(encoding="utf-8").splitlines()
        for line in lines[self.commands_done :]:
            command = json.loads(line)
            self.commands_done += 1
            if "shot" in command:
                save_screenshot(command["shot"])
            if command.get("quit"):
                self.stop()


class DriverApp(App):
    """The form alone, one language after the other."""

    def __init__(self, scenario: dict[str, Any], runtime: Any) -> None:
        super().__init__()
        self.scenario = scenario
        self.runtime = runtime
        self.languages = list(scenario.get("languages", ["vi"]))
        self.reporter = Reporter(scenario, runtime, self.stop)

    def build(self) -> FloatLayout:
        self.root_layout = FloatLayout()
        Window.bind(on_touch_up=self.reporter.touched)
        self._next_form()
        Clock.schedule_interval(self.reporter.report, 0.2)
        return self.root_layout

    def _next_form(self) -> None:
        self.root_layout.clear_widgets()
        if not self.languages:
            self.reporter.form = None
            return
        language = self.languages.pop(0)
        self.reporter.form_count += 1
        pages = [tuple(p) for p in self.scenario.get("pages", [])]
        form = FeedbackForm(self.runtime, language, pages, now=utc_now, on_done=self._next_form)
        self.reporter.form = form
        self.root_layout.add_widget(form)


def kiosk_app_driver(scenario: dict[str, Any], runtime: Any) -> Any:
    """The whole kiosk with its feedback button, reporting like ``DriverApp``."""
    from kiosk_app.app import KioskApp
    from kiosk_app.config import KioskSettings

    class DriverKiosk(KioskApp):  # type: ignore[misc]
        def __init__(self) -> None:
            idle = float(scenario.get("idle_s", 3600))
            super().__init__(runtime, KioskSettings(idle_timeout_s=idle), now=utc_now)
            self.reporter = Reporter(scenario, runtime, self.stop)
            self.reporter.refresh = self._report
            self.seen_form: Any = None

        def on_start(self) -> None:
            super().on_start()
            Window.bind(on_touch_up=self.reporter.touched)
            Clock.schedule_interval(self._report, 0.2)

        def _report(self, dt: float) -> None:
            rep = self.reporter
            form = self.feedback.form
            if form is not None and form is not self.seen_form:
                self.seen_form = form
                rep.form_count += 1
            rep.form = form
            rep.whole = self.root_widget
            view = self.screen.view if self.screen is not None else None
            rep.extra = {
                "screen": type(view).__name__ if view is not None else None,
                "kiosk_language": self.browser.language,
                "attract": bool(self.root_widget is not None and self.root_widget.attract.active),
            }
            rep.report(dt)

    return DriverKiosk()


def main() -> int:
    runtime: Any
    if _scenario.get("config"):
        from device_runtime.runtime import Runtime
        from device_runtime.settings import load_settings

        runtime = Runtime(
            load_settings(_scenario["config"]), app_name="kiosk-app", app_version="test"
        )
        runtime.start()
    else:
        runtime = ListRuntime()
    try:
        if _scenario.get("app"):
            kiosk_app_driver(_scenario, runtime).run()
        else:
            DriverApp(_scenario, runtime).run()
    finally:
        if hasattr(runtime, "stop"):
            runtime.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
