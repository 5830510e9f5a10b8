"""The server's secrets on disk: the ed25519 signing key and its own MQTT password.

``DATA/keys/signing.key`` holds the 32-byte private key seed in base64, one
line, mode 0600; ``DATA/keys/mqtt-server.password`` the password of the
server's MQTT account (``content_server.broker.SERVER_USER``), also 0600.
Both are created once by ``content-server init`` and never overwritten. A key
file readable by others is refused: chmod it back to 0600.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
import stat
from pathlib import Path

from signage_core.signing import SigningKey

from .errors import ContentServerError, NotInitialisedError


def _create_secret_file(path: Path, text: str) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(text + "\n")
        f.flush()
        os.fsync(f.fileno())


def _read_secret_file(path: Path, what: str) -> str:
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise NotInitialisedError(
            f"{what} {path} does not exist; run `content-server init` first"
        ) from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ContentServerError(
            f"{what} {path} can be read by other users; run `chmod 600 {path}`"
        )
    return path.read_text(encoding="ascii").strip()


def create_signing_key(path: Path) -> SigningKey:
    key = SigningKey.generate()
    _create_secret_file(path, base64.b64encode(key.to_bytes()).decode("ascii"))
    return key


def load_signing_key(path: Path) -> SigningKey:
    text = _read_secret_file(path, "the signing key")
    try:
        seed = base64.b64decode(text, validate=True)
        return SigningKey.from_bytes(seed)
    except (binascii.Error, ValueError) as e:
        raise ContentServerError(f"the signing key {path} is damaged: {e}") from e


def create_mqtt_server_password(path: Path) -> str:
    password = secrets.token_urlsafe(24)
    _create_secret_file(path, password)
    return password


def load_mqtt_server_password(path: Path) -> str:
    return _read_secret_file(path, "the server's MQTT password file")
