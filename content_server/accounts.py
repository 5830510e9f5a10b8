"""Users' passwords and bearer tokens, for people and for devices.

Passwords are hashed with scrypt (stdlib ``hashlib.scrypt``) and stored as
``scrypt$<n>$<r>$<p>$<salt b64>$<hash b64>``. Bearer tokens are 32 random
bytes (URL-safe base64); only their sha256 is stored, so the database cannot
be used to act as a device or a user. Issuing a token is ``issue_user_token``;
checking one per request is the caller's (devices: an in-memory map, see
``state.py``; users: ``Store.user_by_token``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from signage_core.timefmt import format_time

from .errors import AuthenticationError
from .models import User
from .store import Store

_N, _R, _P = 2**14, 8, 1
_DUMMY_HASH: str | None = None


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    b64 = base64.b64encode
    return f"scrypt${_N}${_R}${_P}${b64(salt).decode()}${b64(digest).decode()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt_b64, digest_b64 = stored.split("$")
        if scheme != "scrypt":
            return False
        salt = base64.b64decode(salt_b64, validate=True)
        expected = base64.b64decode(digest_b64, validate=True)
        digest = hashlib.scrypt(
            password.encode("utf-8"), salt=salt, n=int(n), r=int(r), p=int(p), dklen=len(expected)
        )
    except (ValueError, binascii.Error):
        return False
    return hmac.compare_digest(digest, expected)


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_password() -> str:
    return secrets.token_urlsafe(18)


def check_new_password(password: str) -> None:
    if len(password) < 10:
        raise ValueError("a password needs at least 10 characters")


def authenticate(store: Store, username: str, password: str) -> User:
    """The user with this name and password; ``AuthenticationError`` if there is none."""
    global _DUMMY_HASH
    user = store.user(username)
    if user is None:
        # Spend the same time as for a real user, so names cannot be guessed by timing.
        _DUMMY_HASH = _DUMMY_HASH or hash_password("not a password")
        verify_password(password, _DUMMY_HASH)
    elif verify_password(password, user.password_hash):
        return user
    raise AuthenticationError("wrong user name or password", invalid_token=True)


def issue_user_token(store: Store, user: User, now: datetime, ttl: timedelta) -> str:
    token = new_token()
    store.add_user_token(token_hash(token), user.username, format_time(now), format_time(now + ttl))
    return token
