"""What a device does with a command from the server: ``sync``, ``screenshot``, ``restart``.

``sync`` wakes the sync worker. ``screenshot`` asks the app for a PNG of what
it shows (a ``ScreenshotProvider``: the player takes it on its UI thread and
calls back) and uploads it to ``POST /api/v1/devices/{id}/screenshot`` with the
device token, from a short-lived thread; a headless device has no provider
and answers with ``{"screen": false}``. ``restart`` sets ``restart_requested``
and tells the app, which ends the process with ``RESTART_EXIT_CODE`` so that
systemd starts it again (``Restart=on-failure``). Expired or retained
commands never get here (``mqtt_link`` drops them).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

import requests

from .settings import DeviceSettings

log = logging.getLogger(__name__)

# EX_TEMPFAIL: "try again"; distinct from 0 (stopped on purpose) and 1/2 (errors).
RESTART_EXIT_CODE = 75
ScreenshotProvider = Callable[[Callable[[bytes], None]], None]


def upload_screenshot(settings: DeviceSettings, png: bytes | None) -> bool:
    """POST the PNG (or "no screen"); True if the server took it. Never raises."""
    url = f"{settings.server_url}/api/v1/devices/{settings.device_id}/screenshot"
    headers = {"Authorization": f"Bearer {settings.token}"}
    try:
        if png is None:
            r = requests.post(
                url, json={"screen": False}, headers=headers, timeout=settings.request_timeout_s
            )
        else:
            headers["Content-Type"] = "image/png"
            r = requests.post(url, data=png, headers=headers, timeout=settings.request_timeout_s)
    except requests.RequestException as e:
        log.warning("screenshot: cannot upload: %s", e)
        return False
    if r.status_code >= 300:
        log.warning("screenshot: the server answered %d: %s", r.status_code, r.text[:200])
        return False
    log.info("screenshot: uploaded (%s)", "no screen" if png is None else f"{len(png)} bytes")
    return True


class CommandHandler:
    def __init__(
        self,
        settings: DeviceSettings,
        *,
        sync_now: Callable[[], None],
        upload: Callable[[DeviceSettings, bytes | None], bool] = upload_screenshot,
    ) -> None:
        self.settings = settings
        self.sync_now = sync_now
        self.upload = upload
        self.screenshot_provider: ScreenshotProvider | None = None
        self.restart_requested = threading.Event()
        self._restart_listeners: list[Callable[[], None]] = []

    def add_restart_listener(self, cb: Callable[[], None]) -> None:
        self._restart_listeners.append(cb)

    def __call__(self, payload: dict[str, Any]) -> None:
        cmd = payload.get("cmd")
        if cmd == "sync":
            self.sync_now()
        elif cmd == "screenshot":
            self._screenshot()
        elif cmd == "restart":
            log.warning("restart: asked by the server; exiting with %d", RESTART_EXIT_CODE)
            self.restart_requested.set()
            for cb in list(self._restart_listeners):
                try:
                    cb()
                except Exception:
                    log.exception("a restart listener failed")
        else:
            log.warning("commands: ignoring unknown command %r", cmd)

    def _upload_in_background(self, png: bytes | None) -> None:
        threading.Thread(
            target=self.upload, args=(self.settings, png), name="screenshot-upload", daemon=True
        ).start()

    def _screenshot(self) -> None:
        provider = self.screenshot_provider
        if provider is None:
            self._upload_in_background(None)
            return
        try:
            provider(self._upload_in_background)
        except Exception:
            log.exception("screenshot: the app could not take one")
