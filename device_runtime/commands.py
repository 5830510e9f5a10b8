"""What a device does with a command from the server: ``sync``, ``screenshot``, ``restart``,
``overlay``.

``overlay`` tells the app's overlay listeners (the player shows its maintenance overlay,
which hides again by itself); a headless device has none and only logs it.

``sync`` wakes the sync worker. ``screenshot`` asks the app for a PNG of what
it shows (a ``ScreenshotProvider``: the player takes it on its UI thread and
calls back) and uploads it to ``POST /api/v1/devices/{id}/screenshot`` with the
device token, from a short-lived thread; a headless device has no provider
and answers with ``{"screen": false}``. ``restart`` sets ``restart_requested``
and tells the app, which ends the process with ``RESTART_EXIT_CODE`` so that
systemd starts it again (``Restart=on-failure``). Retained commands never
get here (``mqtt_link`` drops them).

Every command is a signed envelope (``signage_core.command``). Before acting,
``CommandHandler`` checks it with the device's trusted keys (provisioned and
learned) at its trusted time, and refuses, logs and counts one that is
unsigned, forged, for another device, expired or already seen: the id of every
command obeyed is kept in ``state/commands.json`` (``SeenCommands``) until it
expires, written *before* the command runs, so a replayed ``restart`` is
refused after the reboot it caused too. That file is bounded
(``SeenCommands.MAX_IDS``; a command lives one day at most).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests

from signage_core.command import Command, accept_command
from signage_core.errors import ManifestError, RefusedError
from signage_core.signing import PublicKey
from signage_core.timefmt import format_time, parse_time

from .errors import StateError
from .settings import DeviceSettings
from .state import atomic_write

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


class SeenCommands:
    """Ids of the commands obeyed, each kept until it expires, in a small JSON file."""

    MAX_IDS = 1000

    def __init__(self, path: Path) -> None:
        self.path = path
        self.ids: dict[str, datetime] = {}
        try:
            doc = json.loads(path.read_bytes())
            self.ids = {str(k): parse_time(v, "expires_at") for k, v in doc["seen"].items()}
        except FileNotFoundError:
            pass
        except (OSError, ValueError, KeyError, TypeError, AttributeError, ManifestError) as e:
            # Forgetting them only reopens replays of commands still alive: say so.
            log.warning("commands: %s is unreadable and was ignored: %r", path, e)

    def __contains__(self, command_id: str) -> bool:
        return command_id in self.ids

    def add(self, command: Command, now: datetime) -> None:
        """Remember ``command`` (forget the expired ones) and keep the list on disk."""
        ids = {k: v for k, v in self.ids.items() if v > now}
        ids[command.id] = command.expires_at
        if len(ids) > self.MAX_IDS:  # a flood of signed commands: keep the longest-lived
            ids = dict(sorted(ids.items(), key=lambda kv: kv[1])[-self.MAX_IDS :])
        self.ids = ids
        doc = {"seen": {k: format_time(v) for k, v in sorted(ids.items())}}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(self.path, json.dumps(doc, indent=1).encode("utf-8") + b"\n")


class CommandHandler:
    def __init__(
        self,
        settings: DeviceSettings,
        *,
        sync_now: Callable[[], None],
        trusted_keys: Callable[[], Mapping[str, PublicKey]] | None = None,
        trusted_now: Callable[[], datetime] | None = None,
        upload: Callable[[DeviceSettings, bytes | None], bool] = upload_screenshot,
    ) -> None:
        self.settings = settings
        self.sync_now = sync_now
        self.trusted_keys = trusted_keys or (lambda: settings.trusted_key_map)
        self.trusted_now = trusted_now or (lambda: datetime.now(UTC))
        self.upload = upload
        self.seen = SeenCommands(settings.state_dir / "commands.json")
        self.refused = 0
        self.last_refusal: str | None = None
        self.screenshot_provider: ScreenshotProvider | None = None
        self.restart_requested = threading.Event()
        self._restart_listeners: list[Callable[[], None]] = []
        self._overlay_listeners: list[Callable[[], None]] = []
        self._lock = threading.Lock()

    def add_restart_listener(self, cb: Callable[[], None]) -> None:
        self._restart_listeners.append(cb)

    def add_overlay_listener(self, cb: Callable[[], None]) -> None:
        """``cb()`` on paho's thread when an ``overlay`` command is obeyed: hand over."""
        self._overlay_listeners.append(cb)

    def _refuse(self, reason: str, message: str) -> None:
        self.refused += 1
        self.last_refusal = f"{reason}: {message}"
        log.warning("commands: refused a command (%s): %s", reason, message)

    def __call__(self, envelope: Any) -> None:
        """Check a command envelope (decoded JSON) and obey it if it is trusted and new."""
        with self._lock:  # paho calls from one thread, but a check-then-act must not race
            now = self.trusted_now()
            try:
                command = accept_command(
                    envelope, self.trusted_keys(), self.settings.device_id, now
                )
            except RefusedError as e:
                self._refuse(e.reason, str(e))
                return
            if command.id in self.seen:
                self._refuse("replayed", f"command {command.id} was obeyed already")
                return
            try:
                self.seen.add(command, now)
            except StateError as e:  # not remembered: obeying could be replayed
                self._refuse("not_stored", f"command {command.id} not obeyed: {e}")
                return
        log.info("commands: %s (%s) accepted", command.cmd, command.id)
        self._obey(command.cmd)

    def _obey(self, cmd: str) -> None:
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
        elif cmd == "overlay":
            if not self._overlay_listeners:
                log.info("overlay: this device has no screen to show it on")
            for cb in list(self._overlay_listeners):
                try:
                    cb()
                except Exception:
                    log.exception("an overlay listener failed")
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
