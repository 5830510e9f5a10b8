"""Runs the real player app with a fake runtime, in its own process (Kivy makes one window
per process). Reads a scenario JSON, writes a report JSON, takes screenshots.

Scenario keys:
    manifest        signed dict, or null for no content
    assets_dir      the fake cache folder (files named by sha256)
    publish_after   seconds: start with no content and deliver the manifest from a
                    worker thread after this long (as the runtime's sync worker does)
    clock_start     ISO time the player's clock reads at start (it then runs at real speed)
    captures        [{"item": id or null for the empty state, "language": code, "path": png,
                      "delay": seconds after the card appears, "nth": which showing
                      of that card, 1 by default}]
    window          [width, height] of the window (1280×720 by default)
    timed_captures  [{"after": seconds from start, "path": png}]: captures at given times
    ticker_ahead_s  start the ticker as if it had been running this long (to film or
                    photograph the middle of the strip without waiting for it)
    keys            [{"after": seconds, "key": "F2"}]: pressed with xdotool (a real X key)
    alert           {"after": seconds, "seconds": shown for, "severity": ..., "texts": {lang:
                    {"title", "body"}}}: a trusted alert handed over from another thread
                    (as the runtime's MQTT link does); the report's "alert" says when
                    (``time.monotonic()``, the same clock in every process of the machine)
    maintenance     {"after": seconds, "seconds": shown for}: the overlay command, as the
                    runtime's command handler calls it (from another thread)
    next_after_capture  true: once a card's capture is taken, show the next card at once
                    (``SignageView.next_card``, as a schedule change does) rather than wait
                    out the card's ``duration_s``
    exit_after      seconds: stop the app (a safety net)
    exit_after_cards  stop the app once this many cards have been shown
    report          where to write {"cards": [...], "plays": [...], "captured": {...},
                    "problems": [...], "videos": [...]}; a video's entry has its frame
                    counts and where its picture was drawn ("rect": x, y from the top,
                    width, height in window pixels)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

os.environ.setdefault("KIVY_NO_ARGS", "1")

from kivy.config import Config

# The window's size: 1280×720 unless the scenario says otherwise ("window": [w, h]).
_WINDOW = (1280, 720)
if len(sys.argv) > 1:
    _scenario = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    _WINDOW = tuple(_scenario.get("window", _WINDOW))
Config.set("graphics", "fullscreen", "0")
Config.set("graphics", "position", "custom")  # top left, where the tests film
Config.set("graphics", "left", "0")
Config.set("graphics", "top", "0")
Config.set("graphics", "width", str(_WINDOW[0]))
Config.set("graphics", "height", str(_WINDOW[1]))

from kivy.clock import Clock  # noqa: E402

from signage_core.alert import Alert  # noqa: E402
from signage_core.manifest import parse_manifest  # noqa: E402
from signage_player.app import PlayerApp, save_screenshot  # noqa: E402
from signage_player.presenter import Card  # noqa: E402
from signage_player.richtext import RichText  # noqa: E402
from tests.player.player_fakes import FakeContent, FakeRuntime  # noqa: E402


def text_widgets(root: Any, restrict: bool = False) -> list[dict[str, Any]]:
    """Every RichText on screen with its layout, so the test can check wrapping and fit
    (``restrict``: only inside ``root``)."""
    out = []
    for w in root.walk(restrict=restrict):
        if isinstance(w, RichText) and w.text and w.opacity > 0:
            out.append(
                {
                    "text": w.text,
                    "lines": list(w.lines),
                    "width": w.width,
                    "height": w.height,
                    "content_width": w.content_width,
                    "content_height": w.content_height,
                    "font_size": w.font_size,
                    "used_font_size": w.used_font_size,
                    "fit": w.fit,
                    "wrap": w.wrap,
                    "rect": window_rect(w),
                }
            )
    return out


def window_rect(w: Any) -> list[float]:
    """``[x, y from the top, width, height]`` of a widget in window pixels."""
    from kivy.core.window import Window

    x0, y0 = w.to_window(w.x, w.y)
    return [round(x0, 1), round(Window.height - y0 - w.height, 1), w.width, w.height]


def zones_report(view: Any) -> dict[str, Any]:
    """Each zone's rect and the texts inside it (the ticker's as they stand now)."""
    out: dict[str, Any] = {"card_area": window_rect(view.playback.card_area)}
    for name in ("header", "ticker"):
        zone = getattr(view, name)
        if zone is not None:
            out[name] = {"rect": window_rect(zone), "texts": text_widgets(zone, restrict=True)}
    if view.ticker is not None:
        out["ticker"]["strip_width"] = view.ticker.strip_width
        out["ticker"]["offset"] = view.ticker._shift.x
    if view.header is not None:
        out["header"]["clock"] = view.header.clock
    out["maintenance"] = view.maintenance.text if view.maintenance.shown else None
    return out


def main(scenario_path: str) -> int:
    from signage_player.memory import cap_malloc_arenas

    cap_malloc_arenas()  # as run_device_app does: the player's own malloc settings
    scenario = json.loads(Path(scenario_path).read_text(encoding="utf-8"))
    assets_dir = Path(scenario.get("assets_dir") or ".")
    content = None
    if scenario.get("manifest") is not None:
        content = FakeContent(parse_manifest(scenario["manifest"]), assets_dir)
    publish_after = scenario.get("publish_after")
    runtime = FakeRuntime(current=None if publish_after is not None else content)

    t0 = time.monotonic()
    clock_start = scenario.get("clock_start")
    if clock_start:
        start = datetime.fromisoformat(clock_start)

        def now() -> datetime:
            return (start + (datetime.now(UTC) - real_start)).astimezone(UTC)

        real_start = datetime.now(UTC)
    else:

        def now() -> datetime:
            return datetime.now(UTC)

    app = PlayerApp(runtime, now=now, exit_after=scenario.get("exit_after", 30))
    cards: list[dict[str, Any]] = []
    videos: list[tuple[dict[str, Any], Any]] = []
    captured: dict[str, Any] = {}
    pending = list(scenario.get("captures", []))
    in_flight: list[str] = []  # scheduled, not yet taken

    def laid_out() -> bool:
        """The widgets have the window's size (the first frames of a run may not yet)."""
        from kivy.core.window import Window

        view = app.signage
        if view is None or tuple(view.zones.size) != tuple(Window.size):
            return False
        zones = [z for z in (view.header, view.playback, view.ticker) if z is not None]
        inner = [w for z in zones for w in z.walk(restrict=True)]
        return all(z.width == Window.width for z in zones) and all(
            w.width > 1 for w in inner if isinstance(w, RichText) and w.text and w.opacity > 0
        )

    def capture(want: dict[str, Any], _dt: float) -> None:
        if not laid_out():
            Clock.schedule_once(lambda dt: capture(want, dt), 0.2)
            return
        path = save_screenshot(want["path"])
        assert app.view is not None
        captured[want["path"]] = {
            "texts": text_widgets(app.view),
            "file": str(path),
            "zones": zones_report(app.signage),
        }
        in_flight.remove(want["path"])
        if not pending and not in_flight and not scenario.get("run_to_exit"):
            Clock.schedule_once(lambda _dt: app.stop(), 0.1)
        elif scenario.get("next_after_capture") and not in_flight and app.signage is not None:
            app.signage.next_card()

    def picture_rect(entry: dict[str, Any], _dt: float) -> None:
        view = app.view
        if view is None or getattr(view.card, "picture", None) is None:
            return
        pic = view.card.picture
        w, h = pic.norm_image_size
        x, y = pic.to_window(pic.center_x - w / 2, pic.center_y + h / 2)
        entry["rect"] = [round(x), round(view.height - y), round(w), round(h)]

    def on_card(_app: Any, card: Card | None) -> None:
        item = card.item_id if card else None
        lang = card.language if card else None
        cards.append(
            {
                "t": round(time.monotonic() - t0, 3),
                "now": now().isoformat(),
                "playlist": card.playlist_id if card else None,
                "item": item,
                "language": lang,
                "kind": card.kind if card else None,
            }
        )
        showing = app.signage.showing if app.signage is not None else None
        if card is not None and showing is not None and showing.stream is not None:
            entry: dict[str, Any] = {"item": item, "language": lang, "t": cards[-1]["t"]}
            videos.append((entry, showing.stream))
            Clock.schedule_once(lambda dt: picture_rect(entry, dt), 0.2)
        stop_after = scenario.get("exit_after_cards")
        if stop_after is not None and len(cards) >= stop_after:
            Clock.schedule_once(lambda _dt: app.stop(), 0.3)
        seen = sum(1 for c in cards if c["item"] == item and c["language"] == lang)
        for want in list(pending):
            if want.get("item") == item and want.get("language") == lang:
                if want.get("nth", 1) != seen:
                    continue
                pending.remove(want)
                in_flight.append(want["path"])
                Clock.schedule_once(lambda dt, w=want: capture(w, dt), want.get("delay", 0.7))

    app.bind(on_card=on_card)
    ahead = scenario.get("ticker_ahead_s")
    if ahead:

        def move_ticker_start(_app: Any, card: Any) -> None:
            if app.signage is not None and not getattr(app, "_ticker_moved", False):
                app._ticker_moved = True
                app.signage._ticker_since -= ahead

        app.bind(on_card=move_ticker_start)
    for want in scenario.get("timed_captures", []):

        def timed(_dt: float, w: dict[str, Any] = want) -> None:
            if not laid_out():
                Clock.schedule_once(lambda dt: timed(dt, w), 0.2)
                return
            path = save_screenshot(w["path"])
            captured[w["path"]] = {
                "texts": text_widgets(app.view),
                "file": str(path),
                "zones": zones_report(app.signage),
                "t": round(time.monotonic() - t0, 3),
            }

        Clock.schedule_once(timed, want["after"])
    for press in scenario.get("keys", []):
        Clock.schedule_once(
            lambda _dt, k=press["key"]: subprocess.Popen(["xdotool", "key", k]), press["after"]
        )
    maintenance = scenario.get("maintenance")
    if maintenance is not None:

        def overlay_command() -> None:  # as CommandHandler calls it, on paho's thread
            Clock.schedule_once(
                lambda _dt: app.signage.show_maintenance(seconds=maintenance["seconds"])
            )

        threading.Timer(maintenance["after"], overlay_command).start()
    alert_times: dict[str, float] = {}
    alert_wanted = scenario.get("alert")
    if alert_wanted is not None:

        def deliver() -> None:  # on a timer's thread, as paho's loop delivers
            issued = datetime.now(UTC)
            alert = Alert(
                signed={}, id="film-alert", site_id="adot", version=1, issued_at=issued,
                expires_at=issued + timedelta(seconds=alert_wanted["seconds"]),
                state="active", severity=alert_wanted.get("severity", "emergency"),
                texts=alert_wanted["texts"],
            )  # fmt: skip
            alert_times["delivered"] = time.monotonic()
            runtime.deliver_alert(alert)

        threading.Timer(alert_wanted["after"], deliver).start()
    if publish_after is not None and content is not None:
        runtime.publish_later(content, publish_after)
    zones_at_exit: dict[str, Any] = {}
    stopped_at: list[float] = []  # time.monotonic() when the app began to close
    app.bind(on_stop=lambda _app: stopped_at.append(time.monotonic()))
    app.bind(on_stop=lambda _app: zones_at_exit.update(zones_report(app.signage)))
    app.run()

    report = {
        "cards": cards,
        "plays": [{**p, "started_at": p["started_at"].isoformat()} for p in runtime.plays],
        "now_playing": runtime.now_playing,
        "captured": captured,
        "missed_captures": pending + in_flight,
        "alert": alert_times,
        "stopped_at": stopped_at[0] if stopped_at else None,
        "problems": list(app.problems),
        "zones_at_exit": zones_at_exit,
        "status": app.view.status.text if app.view is not None else None,
        "videos": [
            {
                **entry,
                "fps": stream.fps,
                "frame_count": stream.frame_count,
                "size": list(stream.size),
                "decoded": stream.decoded,
                "dropped": stream.dropped,
                "shown": stream.shown,
                "state": stream.state,
            }
            for entry, stream in videos
        ],
    }
    Path(scenario["report"]).write_text(json.dumps(report, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
