"""The device's settings: one TOML file, written at enrolment, edited by technicians.

``load_settings(path)`` reads it into a frozen ``DeviceSettings``. Every key is
documented in ``docs/device-config.md`` (a test keeps the two in step). An
unknown key or a bad value raises ``SettingsError`` naming the key and the file,
so a technician at a border post can fix it without reading code.

Relative ``data_dir`` paths are taken from the folder holding the config file.
"""

from __future__ import annotations

import ssl
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from signage_core import topics
from signage_core.signing import PublicKey
from signage_core.sync import DownloadWindow

from .errors import SettingsError


@dataclass(frozen=True)
class DeviceSettings:
    device_id: str
    token: str
    server_url: str
    trusted_keys: tuple[PublicKey, ...]
    mqtt_url: str
    mqtt_password: str
    data_dir: Path
    poll_interval_s: float = 60.0
    heartbeat_interval_s: float = 30.0
    request_timeout_s: float = 20.0
    bandwidth_limit_bps: int | None = None
    cache_quota_bytes: int | None = None
    mqtt_keepalive_s: int = 60
    download_window: DownloadWindow | None = None  # local time, e.g. 22:00-05:00
    large_asset_bytes: int = 20_000_000  # assets larger than this wait for the window
    download_attempts: int = 3  # tries per asset in one pass, with backoff and jitter
    verify_interval_s: float = 86400.0  # background re-hash of the cache
    mqtt_ca_file: Path | None = None  # mqtts://: the CA that signed the broker's certificate
    mqtt_cert_file: Path | None = None  # mqtts://: a client certificate, if the broker wants one
    mqtt_key_file: Path | None = None  # ... and its private key
    portrait_rotation: int = 90  # degrees the player turns a portrait layout on a landscape X

    @property
    def trusted_key_map(self) -> dict[str, PublicKey]:
        return {k.keyid: k for k in self.trusted_keys}

    @property
    def mqtt_host(self) -> str:
        return urlsplit(self.mqtt_url).hostname or ""

    @property
    def mqtt_tls(self) -> bool:
        return urlsplit(self.mqtt_url).scheme == "mqtts"

    @property
    def mqtt_port(self) -> int:
        return urlsplit(self.mqtt_url).port or (8883 if self.mqtt_tls else 1883)

    @property
    def cache_dir(self) -> Path:
        return self.data_dir / "cache"

    @property
    def state_dir(self) -> Path:
        return self.data_dir / "state"


_REQUIRED = (
    "device_id",
    "token",
    "server_url",
    "trusted_keys",
    "mqtt_url",
    "mqtt_password",
    "data_dir",
)


def _str(key: str, value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise SettingsError(f"{where}: '{key}' must be a non-empty string, got {value!r}")
    return value.strip()


def _number(key: str, value: Any, where: str, *, integer: bool) -> Any:
    ok = isinstance(value, int) if integer else isinstance(value, int | float)
    if isinstance(value, bool) or not ok or value <= 0:
        what = "a positive whole number" if integer else "a positive number"
        raise SettingsError(f"{where}: '{key}' must be {what}, got {value!r}")
    return int(value) if integer else float(value)


_TLS_FILES = {
    "mqtt_ca_file": "the CA certificate (PEM) that signed the broker's certificate",
    "mqtt_cert_file": "this device's client certificate (PEM)",
    "mqtt_key_file": "the private key (PEM) of mqtt_cert_file",
}


def _tls_files(
    data: Mapping[str, Any], source: str, base_dir: Path | None, *, tls: bool
) -> dict[str, Path]:
    """The TLS file keys, as existing paths (relative ones from the config's folder)."""
    out: dict[str, Path] = {}
    for key, what in _TLS_FILES.items():
        if key not in data:
            continue
        if not tls:
            raise SettingsError(
                f"{source}: '{key}' is for TLS: use it with mqtt_url = \"mqtts://host:8883\""
            )
        path = Path(_str(key, data[key], source)).expanduser()
        if not path.is_absolute() and base_dir is not None:
            path = base_dir / path
        if not path.is_file():
            raise SettingsError(f"{source}: '{key}': no such file {path} ({what})")
        out[key] = path
    if ("mqtt_cert_file" in out) != ("mqtt_key_file" in out):
        raise SettingsError(f"{source}: 'mqtt_cert_file' and 'mqtt_key_file' go together")
    try:  # read them now: a file that is not PEM is found at start, not at the first connect
        ca = out.get("mqtt_ca_file")
        ctx = ssl.create_default_context(cafile=str(ca) if ca else None)
        if "mqtt_cert_file" in out:
            ctx.load_cert_chain(str(out["mqtt_cert_file"]), str(out["mqtt_key_file"]))
    except (OSError, ValueError) as e:  # ssl.SSLError is an OSError
        raise SettingsError(f"{source}: the TLS files are not usable PEM files: {e}") from e
    return out


def settings_from_mapping(
    data: Mapping[str, Any], source: str = "<settings>", base_dir: Path | None = None
) -> DeviceSettings:
    """Check ``data`` (a parsed TOML table) and build ``DeviceSettings``; ``source`` names it."""
    known = {f.name for f in fields(DeviceSettings)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise SettingsError(
            f"{source}: unknown key(s) {', '.join(unknown)}; see docs/device-config.md"
        )
    missing = [k for k in _REQUIRED if k not in data]
    if missing:
        raise SettingsError(f"{source}: required key(s) missing: {', '.join(missing)}")

    device_id = _str("device_id", data["device_id"], source)
    if not topics.valid_id(device_id):
        raise SettingsError(
            f"{source}: 'device_id' {device_id!r} must be lowercase letters, digits and hyphens"
        )
    server_url = _str("server_url", data["server_url"], source).rstrip("/")
    if urlsplit(server_url).scheme not in ("http", "https") or not urlsplit(server_url).netloc:
        raise SettingsError(f"{source}: 'server_url' must be an http(s):// URL, got {server_url!r}")
    mqtt_url = _str("mqtt_url", data["mqtt_url"], source)
    parts = urlsplit(mqtt_url)
    try:
        port_ok = parts.port is None or 0 < parts.port < 65536
    except ValueError:  # a port that is not a number
        port_ok = False
    if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname or not port_ok:
        raise SettingsError(
            f"{source}: 'mqtt_url' must look like mqtt://host:1883 or mqtts://host:8883 (TLS), "
            f"got {mqtt_url!r}"
        )

    raw_keys = data["trusted_keys"]
    if not isinstance(raw_keys, list) or not raw_keys:
        raise SettingsError(f"{source}: 'trusted_keys' must be a non-empty list of '<keyid>:<key>'")
    keys = []
    for spec in raw_keys:
        if not isinstance(spec, str):
            raise SettingsError(f"{source}: 'trusted_keys' entries must be strings, got {spec!r}")
        try:
            keys.append(PublicKey.parse(spec))
        except ValueError as e:
            raise SettingsError(f"{source}: 'trusted_keys': {e}") from e

    data_dir = Path(_str("data_dir", data["data_dir"], source)).expanduser()
    if not data_dir.is_absolute() and base_dir is not None:
        data_dir = base_dir / data_dir

    optional: dict[str, Any] = {}
    for key in ("poll_interval_s", "heartbeat_interval_s", "request_timeout_s"):
        if key in data:
            optional[key] = _number(key, data[key], source, integer=False)
    for key in ("bandwidth_limit_bps", "cache_quota_bytes", "mqtt_keepalive_s"):
        if key in data:
            optional[key] = _number(key, data[key], source, integer=True)
    for key in ("large_asset_bytes", "download_attempts"):
        if key in data:
            optional[key] = _number(key, data[key], source, integer=True)
    if "verify_interval_s" in data:
        optional["verify_interval_s"] = _number(
            "verify_interval_s", data["verify_interval_s"], source, integer=False
        )
    if "portrait_rotation" in data:
        turn = _number("portrait_rotation", data["portrait_rotation"], source, integer=True)
        if turn not in (90, 270):
            raise SettingsError(f"{source}: 'portrait_rotation' must be 90 or 270, got {turn}")
        optional["portrait_rotation"] = turn
    if "download_window" in data:
        try:
            window = _str("download_window", data["download_window"], source)
            optional["download_window"] = DownloadWindow.parse(window)
        except ValueError as e:
            raise SettingsError(f"{source}: 'download_window': {e}") from e

    optional.update(_tls_files(data, source, base_dir, tls=parts.scheme == "mqtts"))

    return DeviceSettings(
        device_id=device_id,
        token=_str("token", data["token"], source),
        server_url=server_url,
        trusted_keys=tuple(keys),
        mqtt_url=mqtt_url,
        mqtt_password=_str("mqtt_password", data["mqtt_password"], source),
        data_dir=data_dir,
        **optional,
    )


def load_settings(path: str | Path) -> DeviceSettings:
    """Read the device's TOML config at ``path``; raise ``SettingsError`` saying what to fix."""
    path = Path(path)
    try:
        with path.open("rb") as f:
            data = tomllib.load(f)
    except OSError as e:
        raise SettingsError(f"{path}: cannot read the device config: {e.strerror or e}") from e
    except tomllib.TOMLDecodeError as e:
        raise SettingsError(f"{path}: not valid TOML: {e}") from e
    return settings_from_mapping(data, str(path), base_dir=path.resolve().parent)
