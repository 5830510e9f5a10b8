"""Running the device runtime without a window (``signage-player --headless``).

``run_headless(settings)`` starts a ``Runtime``, logs to stderr what it does
(manifests accepted or refused and why, assets downloaded, heartbeats), and
stops cleanly on SIGTERM or SIGINT: the MQTT status turns "offline" and an
interrupted download resumes on the next start. The server's ``restart``
command stops it the same way, with exit code ``RESTART_EXIT_CODE`` (75).
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
from types import FrameType

from .commands import RESTART_EXIT_CODE
from .errors import DeviceRuntimeError
from .runtime import Runtime
from .sdnotify import notify, watchdog_interval
from .settings import DeviceSettings

log = logging.getLogger("device_runtime")


def configure_logging(level: int = logging.INFO) -> None:
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)
    root.setLevel(level)


def run_headless(
    settings: DeviceSettings, app_name: str = "signage-headless", app_version: str = "0.1.0"
) -> int:
    """Run until SIGTERM or SIGINT; return the process exit code. Call from the main thread."""
    configure_logging()
    done = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        log.info("headless: %s received; stopping", signal.Signals(signum).name)
        done.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
    runtime = Runtime(settings, app_name=app_name, app_version=app_version)
    runtime.commands.add_restart_listener(done.set)  # the server's `restart` command
    try:
        try:
            runtime.start()
        except DeviceRuntimeError as e:  # data_dir not writable, disk full, ...
            log.error("headless: cannot start: %s", e)
            return 1
        current = runtime.current
        if current is None:
            log.info("headless: device %s has no content yet; syncing", settings.device_id)
        else:
            log.info(
                "headless: device %s plays manifest %d%s",
                settings.device_id,
                current.manifest.version,
                " (expired)" if current.expired else "",
            )
        # Under systemd (Type=notify): ready now, then a ping from this loop, which stops
        # if the main thread is stuck; without systemd these do nothing.
        notify("READY=1")
        ping = min(watchdog_interval() or 1.0, 1.0)
        while not done.wait(ping):
            notify("WATCHDOG=1")
    finally:
        notify("STOPPING=1")
        runtime.stop()
        for s, handler in previous.items():
            signal.signal(s, handler)
    if runtime.commands.restart_requested.is_set():
        log.info("headless: stopped for a restart (exit %d)", RESTART_EXIT_CODE)
        return RESTART_EXIT_CODE
    log.info("headless: stopped")
    return 0
