"""Embeds a ``SignageView`` in a bare Kivy app the way the kiosk's attract loop does:
added and started, then stopped and removed, again and again. Own process (one Kivy
window per process). Reads a scenario JSON, writes a report JSON.

Scenario keys:
    manifest     signed dict
    assets_dir   the fake cache folder (files named by sha256)
    cycles       how many start → video on screen → stop → removed rounds
    report       where to write {"cycles": [...]}: per round the cards shown, and after
                 stop() the video threads still alive and the Clock events still bound
                 to the widget
"""

from __future__ import annotations

import json
import os
import sys
import threading
from pathlib import Path
from typing import Any

os.environ.setdefault("KIVY_NO_ARGS", "1")

from kivy.config import Config

Config.set("graphics", "fullscreen", "0")
Config.set("graphics", "width", "640")
Config.set("graphics", "height", "360")

from kivy.app import App  # noqa: E402
from kivy.clock import Clock  # noqa: E402
from kivy.uix.floatlayout import FloatLayout  # noqa: E402

from signage_core.manifest import parse_manifest  # noqa: E402
from signage_player.presenter import Card  # noqa: E402
from signage_player.signage_view import SignageView  # noqa: E402
from tests.player.player_fakes import FakeContent, FakeRuntime  # noqa: E402


def bound_events(widget: Any) -> list[str]:
    """Clock events whose callback is a method of ``widget`` (or a partial of one)."""
    out = []
    for event in Clock.get_events():
        cb = event.get_callback()
        target = getattr(cb, "__self__", None) or getattr(
            getattr(cb, "func", None), "__self__", None
        )
        if target is widget:
            out.append(repr(cb))
    return out


def video_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("video ") and t.is_alive()]


class Host(App):
    def __init__(self, scenario: dict[str, Any]) -> None:
        super().__init__()
        self.scenario = scenario
        content = FakeContent(parse_manifest(scenario["manifest"]), Path(scenario["assets_dir"]))
        self.runtime = FakeRuntime(current=content)
        self.view = SignageView(self.runtime)
        self.view.bind(on_card=self.on_card)
        self.cycles: list[dict[str, Any]] = []
        self.root_layout = FloatLayout()

    def build(self) -> FloatLayout:
        return self.root_layout

    def on_start(self) -> None:
        Clock.schedule_once(self.begin, 0.5)

    def begin(self, _dt: float) -> None:
        self.cycles.append({"cards": []})
        self.root_layout.add_widget(self.view)
        self.view.start()

    def on_card(self, _view: Any, card: Card | None) -> None:
        if not self.cycles or not self.view.running:
            return
        cycle = self.cycles[-1]
        cycle["cards"].append([card.item_id, card.language] if card else None)
        if card is not None and card.kind == "video" and "stopping" not in cycle:
            cycle["stopping"] = True
            cycle["threads_playing"] = video_threads()
            Clock.schedule_once(self.end, 0.6)  # stopped in the middle of the video

    def end(self, _dt: float) -> None:
        cycle = self.cycles[-1]
        self.view.stop()
        cycle["threads_after_stop"] = video_threads()
        cycle["events_after_stop"] = bound_events(self.view)
        self.view.stop()  # a second stop() is harmless
        self.root_layout.remove_widget(self.view)
        if len(self.cycles) < self.scenario["cycles"]:
            Clock.schedule_once(self.begin, 0.3)
        else:
            Clock.schedule_once(lambda _dt: self.stop(), 0.2)


def main(path: str) -> int:
    scenario = json.loads(Path(path).read_text(encoding="utf-8"))
    host = Host(scenario)
    Clock.schedule_once(lambda _dt: host.stop(), scenario.get("exit_after", 60))
    host.run()
    report = {"cycles": host.cycles, "plays": len(host.runtime.plays)}
    Path(scenario["report"]).write_text(json.dumps(report, ensure_ascii=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
