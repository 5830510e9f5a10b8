"""Exceptions raised by the core.

    SignageError
    ├── CanonicalFormError      a value has no canonical JSON form (float, NaN, bad key)
    ├── ManifestError           a manifest or alert does not have the expected shape
    ├── ScheduleError           a schedule cannot be read (bad date, window, weekday)
    ├── LanguageError           an unknown language code
    └── RefusedError            a signed document is not trusted; ``reason`` says why
        ├── SignatureError      no valid signature by a trusted key (bad_signature, unknown_key)
        └── TrustError          signed, but not acceptable (wrong_device, rollback, expired)

Every message is written for the person who has to act on it.
"""

from __future__ import annotations


class SignageError(Exception):
    """Base of every error raised by ``signage_core``."""


class CanonicalFormError(SignageError, ValueError):
    pass


class ManifestError(SignageError, ValueError):
    pass


class ScheduleError(SignageError, ValueError):
    pass


class LanguageError(SignageError, ValueError):
    pass


class RefusedError(SignageError):
    """A signed document was refused; ``reason`` is a short stable code for reports."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class SignatureError(RefusedError):
    pass


class TrustError(RefusedError):
    pass
