"""The kiosk's settings: the player's TOML file plus keys that start with ``kiosk_``.

``load_kiosk_config(path)`` reads the file once: the ``kiosk_*`` keys become a frozen
``KioskSettings``, every other key goes to ``device_runtime.settings`` unchanged, so
one file serves the runtime (sync, heartbeats, records) and the kiosk's screens. A
bad kiosk value raises ``SettingsError`` naming the key and the file, as the
runtime's keys do. Every key is documented in docs/device-config.md.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from device_runtime.errors import SettingsError
from device_runtime.settings import DeviceSettings, settings_from_mapping

PREFIX = "kiosk_"


@dataclass(frozen=True)
class KioskSettings:
    # Seconds without a touch before the attract loop (the site's signage) starts and the
    # language and page are reset for the next traveller.
    idle_timeout_s: float = 60.0
    # The screen's dots per inch, when the display does not report its size right (many
    # TVs and some HDMI adapters do not). None: what X reports (xrandr's millimetres).
    dpi: float | None = None


def kiosk_from_mapping(data: dict[str, Any], source: str) -> KioskSettings:
    """Check the ``kiosk_*`` keys of ``data`` (prefix included) and build ``KioskSettings``."""
    known = {PREFIX + f.name for f in fields(KioskSettings)}
    unknown = sorted(k for k in data if k not in known)
    if unknown:
        raise SettingsError(
            f"{source}: unknown kiosk key(s) {', '.join(unknown)}; known: "
            f"{', '.join(sorted(known))} (docs/device-config.md)"
        )
    out: dict[str, Any] = {}
    for key, value in data.items():
        name = key.removeprefix(PREFIX)
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise SettingsError(f"{source}: '{key}' must be a positive number, got {value!r}")
        out[name] = float(value)
    dpi = out.get("dpi")
    if dpi is not None and not 20 <= dpi <= 1000:
        raise SettingsError(
            f"{source}: 'kiosk_dpi' {dpi:g} is not a screen's dots per inch (20 to 1000); "
            "measure the screen's width in inches and divide its pixels by it"
        )
    return KioskSettings(**out)


def load_kiosk_config(path: str | Path) -> tuple[DeviceSettings, KioskSettings]:
    """Read the device's TOML file: the runtime's settings and the kiosk's."""
    path = Path(path)
    try:
        with path.open("rb") as f:
            data = tomllib.load(f)
    except OSError as e:
        raise SettingsError(f"{path}: cannot read the device config: {e.strerror or e}") from e
    except tomllib.TOMLDecodeError as e:
        raise SettingsError(f"{path}: not valid TOML: {e}") from e
    kiosk = {k: v for k, v in data.items() if k.startswith(PREFIX)}
    device = {k: v for k, v in data.items() if not k.startswith(PREFIX)}
    settings = settings_from_mapping(device, str(path), base_dir=path.resolve().parent)
    return settings, kiosk_from_mapping(kiosk, str(path))
