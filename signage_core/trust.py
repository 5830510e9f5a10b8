"""Trust rules: whether a device accepts a signed manifest.

A device accepts a manifest only if a provisioned key signed it, it names
this device, its version is not lower than the one held, and it is not
expired by the device's trusted time. Trusted time is never earlier than the
newest ``issued_at`` seen or the server's ``Date``: a device clock reset to
1970 cannot make an expired manifest look fresh, nor a fresh one look expired.

A refused manifest raises ``RefusedError`` with a stable ``reason``
(``unknown_key``, ``bad_signature``, ``malformed``, ``wrong_device``,
``rollback``, ``expired``); the caller keeps the last good one. Storing the
held manifest and reading clocks are the caller's job.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .errors import CanonicalFormError, ManifestError, TrustError
from .manifest import Manifest, parse_manifest
from .signing import PublicKey, verify_envelope


def trusted_now(device_clock: datetime, *lower_bounds: datetime | None) -> datetime:
    """The latest of the device clock and every known lower bound on the real time."""
    return max([device_clock, *(b for b in lower_bounds if b is not None)])


@dataclass(frozen=True)
class TrustContext:
    device_id: str
    trusted_keys: Mapping[str, PublicKey]
    held_version: int | None
    trusted_time: datetime


def accept_manifest(envelope: Any, ctx: TrustContext) -> Manifest:
    """Return the manifest if the device may play it; raise ``RefusedError`` otherwise."""
    try:
        signed = verify_envelope(envelope, ctx.trusted_keys)
    except (ManifestError, CanonicalFormError) as e:
        raise TrustError("malformed", f"not a readable signed manifest: {e}") from e
    try:
        manifest = parse_manifest(signed)
    except ManifestError as e:
        raise TrustError("malformed", f"signed but malformed: {e}") from e
    if manifest.device_id != ctx.device_id:
        raise TrustError(
            "wrong_device",
            f"manifest is for device {manifest.device_id!r}, this is {ctx.device_id!r}",
        )
    if ctx.held_version is not None and manifest.version < ctx.held_version:
        raise TrustError(
            "rollback",
            f"manifest version {manifest.version} is older than the held {ctx.held_version}",
        )
    if manifest.is_expired(ctx.trusted_time):
        raise TrustError("expired", f"manifest expired at {signed.get('expires_at')}")
    return manifest
