"""Users' passwords and bearer tokens, for people and for devices.

Passwords are hashed with argon2id at OWASP's recommended cost (19 MiB of
memory, 2 passes, 1 lane; argon2-cffi), stored in argon2's own
``$argon2id$v=19$m=…,t=…,p=…$salt$hash`` form. Hashes of older versions
(``scrypt$<n>$<r>$<p>$<salt b64>$<hash b64>``, N=2^14) still verify, and
``authenticate`` replaces them with an argon2id hash at the next successful
sign-in. At most ``MAX_CONCURRENT_HASHES`` hashes run at once, so a flood of
sign-ins queues instead of taking the server's memory. Bearer tokens are 32 random
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
import threading
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from signage_core.timefmt import format_time

from .errors import AuthenticationError
from .models import User
from .store import Store

# OWASP Password Storage Cheat Sheet: argon2id, m=19 MiB, t=2, p=1.
_HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
MAX_CONCURRENT_HASHES = 4
_HASHING = threading.BoundedSemaphore(MAX_CONCURRENT_HASHES)
_DUMMY_HASH: str | None = None


def hash_password(password: str) -> str:
    with _HASHING:
        return _HASHER.hash(password)


def verify_password(password: str, stored: str) -> bool:
    with _HASHING:
        if stored.startswith("$argon2"):
            try:
                return _HASHER.verify(stored, password)
            except (VerificationError, InvalidHashError):
                return False
        return _verify_scrypt(password, stored)


def needs_rehash(stored: str) -> bool:
    """True for a hash of an older kind or cost: replace it at the next sign-in."""
    if not stored.startswith("$argon2"):
        return True
    try:
        return _HASHER.check_needs_rehash(stored)
    except InvalidHashError:
        return True


def _verify_scrypt(password: str, stored: str) -> bool:
    """The hashes of earlier versions: ``scrypt$n$r$p$salt$hash``."""
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


SIGN_IN_REFUSED = (
    "wrong user name or password, or the account is disabled; check both, or ask an administrator"
)


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
    """The enabled user with this name and password; ``AuthenticationError`` otherwise.

    The answer is the same for an unknown name, a wrong password and a disabled
    account (right password or not), so it never confirms a password or a name.
    A correct password stored under an older hash is re-hashed with argon2id.
    """
    global _DUMMY_HASH
    user = store.user(username)
    if user is None:
        # Spend the same time as for a real user, so names cannot be guessed by timing.
        _DUMMY_HASH = _DUMMY_HASH or hash_password("not a password")
        verify_password(password, _DUMMY_HASH)
    elif verify_password(password, user.password_hash) and not user.disabled:
        if needs_rehash(user.password_hash):
            store.upgrade_password_hash(user.username, user.password_hash, hash_password(password))
        return user
    raise AuthenticationError(SIGN_IN_REFUSED, invalid_token=True)


def issue_user_token(store: Store, user: User, now: datetime, ttl: timedelta) -> str:
    token = new_token()
    store.add_user_token(token_hash(token), user.username, format_time(now), format_time(now + ttl))
    return token
