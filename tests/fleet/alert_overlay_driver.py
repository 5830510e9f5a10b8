"""Runs the real player with a fake runtime that holds one signed alert, in its own process
(Kivy makes one window per process); saves a screenshot and reports the overlay's texts.

    python alert_overlay_driver.py SCENARIO.json
    scenario: {"alert": signed envelope, "trusted": "<keyid>:<key>", "languages": [...],
               "screenshot": path, "report": path}
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

os.environ.setdefault("KIVY_NO_ARGS", "1")

from kivy.config import Config

Config.set("graphics", "fullscreen", "0")
Config.set("graphics", "width", "1280")
Config.set("graphics", "height", "720")

from kivy.clock import Clock  # noqa: E402

from signage_core.alert import accept_alert  # noqa: E402
from signage_core.signing import PublicKey  # noqa: E402
from signage_player.app import PlayerApp, save_screenshot  # noqa: E402
from signage_player.richtext import RichText  # noqa: E402


class AlertRuntime:
    def __init__(self, alerts: list[Any]) -> None:
        self.current = None
        self.alerts = alerts
        self.listeners: list[Any] = []

    def add_listener(self, cb: Any) -> None:
        pass

    def add_alert_listener(self, cb: Any) -> None:
        self.listeners.append(cb)

    def set_now_playing(self, *args: Any) -> None:
        pass

    def record_play(self, **kwargs: Any) -> None:
        pass

    def status(self) -> Any:
        return None


def main(path: str) -> int:
    scenario = json.loads(Path(path).read_text(encoding="utf-8"))
    key = PublicKey.parse(scenario["trusted"])
    alert = accept_alert(
        scenario["alert"], {key.keyid: key}, [scenario["alert"]["signed"]["site_id"]]
    )
    runtime = AlertRuntime([alert])
    app = PlayerApp(runtime, exit_after=30)
    report: dict[str, Any] = {}

    def capture(_dt: float) -> None:
        save_screenshot(scenario["screenshot"])
        assert app.alert_overlay is not None
        report["shown_id"] = app.alert_overlay.shown_id
        report["texts"] = [
            {
                "text": w.text,
                "lines": list(w.lines),
                "height": w.height,
                "width": w.width,
                "content_height": w.content_height,
                "content_width": w.content_width,
            }
            for w in app.alert_overlay.walk()
            if isinstance(w, RichText) and w.text
        ]
        app.stop()

    Clock.schedule_once(capture, 2.0)
    app.run()
    Path(scenario["report"]).write_text(json.dumps(report, ensure_ascii=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
