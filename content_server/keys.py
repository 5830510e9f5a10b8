"""The server's secrets on disk: the ed25519 signing keys and its own MQTT password.

    DATA/keys/signing.key          the current signing key (32-byte seed, base64, 0600)
    DATA/keys/signing-next.key     the next one, only while a key rotation is under way
    DATA/keys/retired/<keyid>.key  keys a finished rotation retired (kept, 0600)
    DATA/keys/mqtt-server.password the server's MQTT password (``broker.SERVER_USER``)

``content-server init`` creates the current key and the password, and never
overwrites them. While ``signing-next.key`` exists everything is signed with
both keys (``load_signing_keys``: current first), so that devices learn the
next key from a manifest signed by a key they already trust; when the rotation
is finished, ``promote_next_key`` retires the current key and makes the next
one current. Deciding *when* is ``rotation.py``'s. A key file readable by
others is refused: chmod it back to 0600.

A secret file is written under a temporary name and linked into place, so a
process reading the folder meanwhile (a running ``serve``) sees the whole key
or none.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
import stat
from pathlib import Path

from signage_core.signing import SigningKey

from .durable import fsync_dir
from .errors import ConflictError, ContentServerError, NotInitialisedError
from .settings import Settings

# What ``key_files_stamp`` compares: (inode, size, mtime, ctime) of each key file, or None.
KeyFilesStamp = tuple[tuple[int, int, int, int] | None, ...]


def _create_secret_file(path: Path, text: str) -> None:
    """Write ``text`` to a new file ``path`` (0600); ``FileExistsError`` if it exists."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(text + "\n")
            f.flush()
            os.fsync(f.fileno())
        os.link(tmp, path)  # unlike a rename, never replaces an existing file
    finally:
        tmp.unlink(missing_ok=True)
    fsync_dir(path.parent)


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


def _encode(key: SigningKey) -> str:
    return base64.b64encode(key.to_bytes()).decode("ascii")


def create_signing_key(path: Path) -> SigningKey:
    key = SigningKey.generate()
    _create_secret_file(path, _encode(key))
    return key


def load_signing_key(path: Path) -> SigningKey:
    text = _read_secret_file(path, "the signing key")
    try:
        seed = base64.b64decode(text, validate=True)
        return SigningKey.from_bytes(seed)
    except (binascii.Error, ValueError) as e:
        raise ContentServerError(f"the signing key {path} is damaged: {e}") from e


def load_signing_keys(settings: Settings) -> list[SigningKey]:
    """The keys to sign with: the current one, then the next one while a rotation runs."""
    keys = [load_signing_key(settings.signing_key_path)]
    if settings.next_signing_key_path.exists():
        keys.append(load_signing_key(settings.next_signing_key_path))
    return keys


def key_files_stamp(settings: Settings) -> KeyFilesStamp:
    """Changes whenever a key file is created, replaced, rewritten or chmodded."""
    stamps: list[tuple[int, int, int, int] | None] = []
    for path in (settings.signing_key_path, settings.next_signing_key_path):
        try:
            st = path.stat()
        except FileNotFoundError:
            stamps.append(None)
        else:
            stamps.append((st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns))
    return tuple(stamps)


def create_next_signing_key(settings: Settings) -> SigningKey:
    """Make ``signing-next.key``; ``ConflictError`` if a rotation is already under way."""
    load_signing_key(settings.signing_key_path)  # an uninitialised folder gets no next key
    try:
        return create_signing_key(settings.next_signing_key_path)
    except FileExistsError:
        raise ConflictError(
            f"a key rotation is already under way ({settings.next_signing_key_path} exists); "
            "see `content-server rotate-key --status`, then finish it with "
            "`content-server rotate-key --finish`"
        ) from None


def promote_next_key(settings: Settings) -> tuple[SigningKey, SigningKey]:
    """Retire the current key to ``retired/<keyid>.key`` and make the next one current.

    Returns ``(retired, current)``. Safe to run again after a crash: the retired
    copy is written first, then the next key replaces the current one in one rename.
    """
    old = load_signing_key(settings.signing_key_path)
    new = load_signing_key(settings.next_signing_key_path)
    retired = settings.retired_keys_dir / f"{old.keyid}.key"
    try:
        _create_secret_file(retired, _encode(old))
    except FileExistsError:
        if load_signing_key(retired).keyid != old.keyid:
            raise ContentServerError(
                f"{retired} exists and holds another key; move it away and finish again"
            ) from None
    os.replace(settings.next_signing_key_path, settings.signing_key_path)
    fsync_dir(settings.keys_dir)
    return old, new


def create_mqtt_server_password(path: Path) -> str:
    password = secrets.token_urlsafe(24)
    _create_secret_file(path, password)
    return password


def load_mqtt_server_password(path: Path) -> str:
    return _read_secret_file(path, "the server's MQTT password file")
