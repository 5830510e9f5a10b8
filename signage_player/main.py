"""``signage-player``: the console entry of the player.

    signage-player --config FILE [--headless] [--windowed]
                   [--screenshot PATH] [--screenshot-after SECONDS]
                   [--screenshot-every SECONDS] [--exit-after SECONDS]
    signage-player --check-config FILE
    signage-player --version

``--headless`` runs the device runtime alone (sync, heartbeats, proof of play)
and never imports Kivy. Otherwise the runtime starts, the player window opens
(full screen unless ``--windowed``), and the runtime stops when the window
closes. ``--screenshot`` and ``--exit-after`` are for demos and tests.
``--check-config`` reads a configuration and says what is wrong with it (exit 2) or
that it is good (exit 0), touching nothing; ``--version`` prints the version. Under
systemd (``Type=notify``) the player says READY=1 once its window runs and pings the
watchdog from the Kivy main loop.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from . import __version__

if TYPE_CHECKING:
    from kivy.app import App

    from device_runtime.runtime import Runtime
    from device_runtime.settings import DeviceSettings

APP_NAME = "signage-player"


def device_app_parser(
    app_name: str, version: str, description: str, what: str, screenshot_help: str
) -> argparse.ArgumentParser:
    """The options the player and the kiosk share (``what``: "player", "kiosk")."""
    parser = argparse.ArgumentParser(prog=app_name, description=description)
    parser.add_argument("--version", action="version", version=f"{app_name} {version}")
    choice = parser.add_mutually_exclusive_group(required=True)
    choice.add_argument("--config", help="the device's TOML settings file")
    choice.add_argument(
        "--check-config",
        metavar="FILE",
        help=f"read FILE, say whether this {what} can run with it, and exit (0 good, 2 not)",
    )
    parser.add_argument(
        "--windowed", action="store_true", help="a 1280x720 window, not full screen"
    )
    parser.add_argument("--screenshot", metavar="PATH", help=screenshot_help)
    parser.add_argument(
        "--screenshot-after",
        metavar="SECONDS",
        type=float,
        default=5.0,
        help="when to take --screenshot (default 5)",
    )
    parser.add_argument(
        "--exit-after", metavar="SECONDS", type=float, help=f"close the {what} after SECONDS"
    )
    return parser


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = device_app_parser(
        APP_NAME,
        __version__,
        "Play this device's signed signage content full screen.",
        "player",
        "save a PNG of the screen to PATH ({n} in PATH numbers repeated shots)",
    )
    parser.add_argument(
        "--headless", action="store_true", help="run sync and telemetry only, no window"
    )
    parser.add_argument(
        "--screenshot-every",
        metavar="SECONDS",
        type=float,
        help="take --screenshot again every SECONDS (the demo uses 10)",
    )
    return parser.parse_args(argv)


def x11_screen_size() -> tuple[int, int] | None:
    """The X screen's size in pixels, or None without X11 (then SDL's full screen is used)."""
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("X11") or "libX11.so.6"
    try:
        x11 = ctypes.cdll.LoadLibrary(name)
    except OSError:
        return None
    x11.XOpenDisplay.restype = ctypes.c_void_p
    x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
    for fn in (x11.XDefaultScreen, x11.XCloseDisplay):
        fn.argtypes = [ctypes.c_void_p]
    x11.XDisplayWidth.argtypes = x11.XDisplayHeight.argtypes = [ctypes.c_void_p, ctypes.c_int]
    display = x11.XOpenDisplay(None)
    if not display:
        return None
    try:
        screen = x11.XDefaultScreen(display)
        size = int(x11.XDisplayWidth(display, screen)), int(x11.XDisplayHeight(display, screen))
    finally:
        x11.XCloseDisplay(display)
    return size if size[0] > 0 and size[1] > 0 else None


def configure_kivy(windowed: bool) -> None:
    """Window settings; must run before anything imports ``kivy.core.window``."""
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    from kivy.config import Config

    screen = None if windowed else x11_screen_size()
    if screen is None and not windowed:
        Config.set("graphics", "fullscreen", "auto")
        Config.set("graphics", "show_cursor", "0")
    else:
        # A borderless window exactly the size of the screen. SDL's own full screen
        # needs a window manager to resize the X window: in a bare kiosk session
        # (and under Xvfb) it draws into the first 800x600 only.
        width, height = screen or (1280, 720)
        Config.set("graphics", "fullscreen", "0")
        Config.set("graphics", "borderless", "0" if windowed else "1")
        Config.set("graphics", "width", str(width))
        Config.set("graphics", "height", str(height))
        if not windowed:
            Config.set("graphics", "position", "custom")
            Config.set("graphics", "left", "0")
            Config.set("graphics", "top", "0")
            Config.set("graphics", "show_cursor", "0")
    Config.set("kivy", "exit_on_escape", "1" if windowed else "0")


def watch_main_loop() -> None:
    """Under systemd: READY=1 on the first frame, then WATCHDOG=1 from Kivy's main loop.

    A frozen UI stops the pings; systemd then kills the player and starts it again.
    Call after ``configure_kivy`` and before ``run()``; outside systemd it does nothing.
    """
    from kivy.clock import Clock

    from device_runtime.sdnotify import notify, watchdog_interval

    if not os.environ.get("NOTIFY_SOCKET"):
        return
    Clock.schedule_once(lambda dt: notify("READY=1"), 0)
    interval = watchdog_interval()
    if interval is not None:
        Clock.schedule_interval(lambda dt: notify("WATCHDOG=1"), interval)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    from device_runtime.errors import SettingsError
    from device_runtime.settings import load_settings

    try:
        settings = load_settings(args.config or args.check_config)
    except SettingsError as e:
        print(f"{APP_NAME}: {e}", file=sys.stderr)
        return 2
    if args.check_config:
        print(
            f"{APP_NAME}: {args.check_config} is a good configuration for device "
            f"{settings.device_id} (server {settings.server_url}, data in {settings.data_dir})"
        )
        return 0
    if args.headless:
        from device_runtime.headless import run_headless

        return int(run_headless(settings, app_name=APP_NAME, app_version=__version__))

    configure_kivy(args.windowed)
    from .app import PlayerApp

    return run_device_app(
        settings,
        APP_NAME,
        __version__,
        lambda runtime: PlayerApp(
            runtime,
            screenshot=args.screenshot,
            screenshot_after=args.screenshot_after,
            screenshot_every=args.screenshot_every,
            exit_after=args.exit_after,
        ),
    )


def run_device_app(
    settings: DeviceSettings, app_name: str, version: str, make_app: Callable[[Runtime], App]
) -> int:
    """Start the runtime, run the Kivy app ``make_app`` builds on it, and stop: the exit
    code systemd restarts on after a ``restart`` command, else 0. Kivy is configured."""
    from device_runtime.commands import RESTART_EXIT_CODE
    from device_runtime.runtime import Runtime
    from device_runtime.sdnotify import notify

    from .memory import cap_malloc_arenas

    cap_malloc_arenas()  # before the runtime's threads and the video decoders start
    runtime = Runtime(settings, app_name=app_name, app_version=version)
    runtime.start()
    watch_main_loop()
    try:
        make_app(runtime).run()
    finally:
        notify("STOPPING=1")
        runtime.stop()
    if runtime.commands.restart_requested.is_set():
        return RESTART_EXIT_CODE  # systemd starts the app again
    return 0


if __name__ == "__main__":
    sys.exit(main())
