"""``kiosk-app``: the console entry of the touch kiosk.

    kiosk-app --config FILE [--windowed] [--screenshot PATH]
              [--screenshot-after SECONDS] [--exit-after SECONDS]
    kiosk-app --check-config FILE
    kiosk-app --version

The device runtime starts (sync, heartbeats, records, alerts), then the kiosk's
window opens: borderless, the size of the X screen, no cursor (the player's window
set-up, ``signage_player.main.configure_kivy``); ``--windowed`` gives a 1280x720
window for development. Escape and the window manager's close do not quit: a
technician stops the kiosk with systemd (``systemctl stop kiosk-app``). The
screen's DPI, which sizes the touch targets (9 mm at least), is what X reports
unless ``kiosk_dpi`` says otherwise. ``--check-config`` reads a configuration and
says what is wrong with it (exit 2) or that it is good (exit 0), touching nothing.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Sequence

from . import __version__

APP_NAME = "kiosk-app"


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    from signage_player.main import device_app_parser

    parser = device_app_parser(
        APP_NAME,
        __version__,
        "The touch kiosk: signed pages for travellers, full screen.",
        "kiosk",
        "save a PNG of the screen to PATH",
    )
    return parser.parse_args(argv)


def configure_window(windowed: bool, dpi: float | None) -> None:
    """The player's window settings, then the kiosk's: Escape never quits, and the DPI
    override (Kivy reads ``KIVY_DPI`` for ``kivy.metrics``). Before Kivy's window exists."""
    if dpi is not None:
        os.environ["KIVY_DPI"] = f"{dpi:g}"
    from signage_player.main import configure_kivy

    configure_kivy(windowed)
    from kivy.config import Config

    Config.set("kivy", "exit_on_escape", "0")
    Config.set("input", "mouse", "mouse,disable_multitouch")  # no red dots on a right-click
    # SDL turns SIGTERM into the same "quit" as a window close, which the kiosk refuses;
    # with a handler of our own in place SDL leaves SIGTERM alone, and systemd can stop us.
    signal.signal(signal.SIGTERM, _stop_on_sigterm)


def _stop_on_sigterm(_signum: int, _frame: object) -> None:
    from kivy.app import App
    from kivy.clock import Clock

    app = App.get_running_app()
    if app is None:
        raise SystemExit(0)
    Clock.schedule_once(lambda _dt: app.stop())


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    from device_runtime.errors import SettingsError

    from .config import load_kiosk_config

    try:
        settings, kiosk = load_kiosk_config(args.config or args.check_config)
    except SettingsError as e:
        print(f"{APP_NAME}: {e}", file=sys.stderr)
        return 2
    if args.check_config:
        print(
            f"{APP_NAME}: {args.check_config} is a good configuration for kiosk "
            f"{settings.device_id} (server {settings.server_url}, data in {settings.data_dir}, "
            f"idle after {kiosk.idle_timeout_s:g} s)"
        )
        return 0

    configure_window(args.windowed, kiosk.dpi)
    from signage_player.main import run_device_app

    from .app import KioskApp

    return run_device_app(
        settings,
        APP_NAME,
        __version__,
        lambda runtime: KioskApp(
            runtime,
            kiosk,
            screenshot=args.screenshot,
            screenshot_after=args.screenshot_after,
            exit_after=args.exit_after,
        ),
    )


if __name__ == "__main__":
    sys.exit(main())
