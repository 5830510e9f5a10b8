"""Enrolling a device: its credentials and its configuration file.

A device gets a random bearer token and a random MQTT password. The server
keeps only the token's sha256 and the password's Mosquitto hash; the secrets
themselves exist once, in the configuration file written for the device
(mode 0600; the keys are described in ``docs/``). Enrolling a device again
(``replace``) issues new credentials: the old ones stop working.
"""

from __future__ import annotations

import json
import os
import secrets
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from signage_core import topics
from signage_core.signing import PublicKey
from signage_core.timefmt import format_time

from .accounts import new_token, token_hash
from .broker import hash_password as mqtt_hash
from .errors import ConflictError, InvalidInputError, NotFoundError
from .models import Device
from .store import Store

DEFAULT_DEVICE_DATA_DIR = "/var/lib/border-signage"


@dataclass(frozen=True)
class Credentials:
    token: str
    mqtt_password: str

    @classmethod
    def new(cls) -> Credentials:
        return cls(new_token(), secrets.token_urlsafe(24))


@dataclass(frozen=True)
class Enrolment:
    device: Device
    replaced: bool


def enrol(
    store: Store,
    device_id: str,
    site_id: str,
    credentials: Credentials,
    now: datetime,
    *,
    replace: bool,
    user: str,
    address: str,
) -> Enrolment:
    """Store the device with these credentials (hashed); raise if it cannot be enrolled."""
    if not topics.valid_id(device_id):
        raise InvalidInputError(
            f"device id {device_id!r} must be lowercase letters, digits and hyphens "
            "(at most 63), like adot-hall-1"
        )
    with store.transaction():
        sites = store.sites()
        if site_id not in sites:
            known = ", ".join(sites) or "none yet: import a sites.yaml first"
            raise NotFoundError(f"site {site_id!r} does not exist; known sites: {known}")
        old = store.device(device_id)
        if old is not None and not replace:
            raise ConflictError(
                f"device {device_id!r} is already enrolled; add --replace to give it new "
                "credentials (its current configuration file stops working)"
            )
        device = Device(
            id=device_id,
            site_id=site_id,
            token_hash=token_hash(credentials.token),
            mqtt_password_hash=mqtt_hash(credentials.mqtt_password),
            created_at=old.created_at if old else format_time(now),
            revoked=False,
        )
        store.put_device(device)
        store.audit(
            format_time(now),
            user,
            "re-enrol device" if old else "enrol device",
            device_id,
            address,
            {"site": site_id},
        )
    return Enrolment(device, old is not None)


def _toml_str(value: str) -> str:
    # A JSON string is a valid TOML basic string (same escapes), kept on one line.
    return json.dumps(value, ensure_ascii=False)


def config_toml(
    device_id: str,
    credentials: Credentials,
    *,
    server_url: str,
    mqtt_url: str,
    trusted_keys: list[PublicKey],
    data_dir: str,
    mqtt_ca_file: str | None = None,
) -> str:
    keys = ", ".join(_toml_str(k.spec()) for k in trusted_keys)
    lines = [
        "# Border-gate signage: configuration of one device, written by",
        "# `content-server add-device`. It holds the device's credentials: keep it",
        "# readable only by the device's service user (mode 0600).",
        f"device_id = {_toml_str(device_id)}",
        f"token = {_toml_str(credentials.token)}",
        f"server_url = {_toml_str(server_url)}",
        f"trusted_keys = [{keys}]",
        f"mqtt_url = {_toml_str(mqtt_url)}",
        f"mqtt_password = {_toml_str(credentials.mqtt_password)}",
        f"data_dir = {_toml_str(data_dir)}",
    ]
    if mqtt_ca_file:  # TLS: the CA that signed the broker's certificate, on the device
        lines.append(f"mqtt_ca_file = {_toml_str(mqtt_ca_file)}")
    return "\n".join(lines) + "\n"


def check_urls(server_url: str, mqtt_url: str) -> None:
    if not server_url.startswith(("http://", "https://")):
        raise InvalidInputError(f"--server-url {server_url!r} must start with http:// or https://")
    if not mqtt_url.startswith(("mqtt://", "mqtts://")):
        raise InvalidInputError(f"--mqtt-url {mqtt_url!r} must start with mqtt:// or mqtts://")


class PendingFile:
    """A file written under a temporary name now and put in place by ``commit``."""

    def __init__(self, path: Path, text: str, mode: int = 0o600) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        self.tmp = Path(name)
        os.fchmod(fd, mode)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())

    def commit(self) -> None:
        os.replace(self.tmp, self.path)

    def discard(self) -> None:
        self.tmp.unlink(missing_ok=True)
