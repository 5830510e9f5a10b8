"""Exceptions raised by the device runtime.

    DeviceRuntimeError
    ├── SettingsError       the device's TOML config is missing, unreadable or has a bad key
    ├── DownloadError       the server could not be reached, or answered with an error;
    │                       ``status`` is the HTTP status, or None when no answer came
    ├── CacheError          the asset cache cannot store a file
    │   ├── IntegrityError  the bytes received are not the asset the manifest names
    │   │                   (too many bytes, or the wrong sha256)
    │   └── DiskFullError   no room: the disk is full (ENOSPC) or the cache quota is reached
    ├── StateError          trust state on disk cannot be written
    └── RecordsError        the proof-of-play queue cannot be read or written

Foreign exceptions (requests, OSError, sqlite3) are wrapped at the edge with
``raise ... from e``; trust refusals are ``signage_core.errors.RefusedError``.
"""

from __future__ import annotations


class DeviceRuntimeError(Exception):
    """Base of every error raised by ``device_runtime``."""


class SettingsError(DeviceRuntimeError):
    pass


class DownloadError(DeviceRuntimeError):
    """A request to the content server failed.

    ``status`` is None when no HTTP answer came at all (no route, refused,
    timeout, cut mid-transfer): the device is offline, not misconfigured.
    """

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status

    @property
    def offline(self) -> bool:
        return self.status is None


class CacheError(DeviceRuntimeError):
    pass


class IntegrityError(CacheError):
    pass


class DiskFullError(CacheError):
    pass


class StateError(DeviceRuntimeError):
    pass


class RecordsError(DeviceRuntimeError):
    pass
