"""Timestamps in signed documents: RFC 3339 in UTC with a ``Z``, whole seconds."""

from __future__ import annotations

from datetime import UTC, datetime

from .errors import ManifestError


def format_time(t: datetime) -> str:
    if t.tzinfo is None:
        raise ValueError("naive datetime: give a timezone-aware time")
    return t.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(s: object, field: str = "time") -> datetime:
    if not isinstance(s, str) or not s.endswith("Z"):
        raise ManifestError(f"{field}: expected a UTC time like 2026-11-26T05:00:00Z, got {s!r}")
    try:
        return datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError as e:
        raise ManifestError(f"{field}: {s!r} is not a valid UTC time") from e
