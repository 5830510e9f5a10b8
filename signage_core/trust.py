"""Trust rules: whether a device accepts a signed manifest.

A device accepts a manifest only if a provisioned key signed it, it names
this device, its version is not lower than the one held, and it is not
expired by the device's trusted time. Trusted time is never earlier than the
newest signed ``issued_at`` seen: a device clock reset to 1970 cannot make an
expired manifest look fresh. Only signed data may raise it: an unsigned value
(an HTTP ``Date``) set far ahead would make every later manifest look expired.

Trusted time (``trusted_time``) comes from the device clock and ``SignedTime``:
the newest signed ``issued_at``, the lifetime of the manifest that carried it,
and the time elapsed since the device learned it, measured with a clock that only
runs forward (monotonic; zero when unknown, after a reboot). ``issued_at +
elapsed`` is a lower bound on the real time (the floor). Then:

- device clock at or below floor + lifetime: trusted time is the later of the
  device clock and the floor (a clock running late cannot revive anything);
- device clock beyond floor + lifetime: the clock is **suspect**. No manifest the
  server signed since the floor could have lived that long, so either the clock
  is far ahead (a dead RTC battery, a wrong NTP server) or the device has been
  off for longer than a lifetime. Either way its clock cannot judge expiry:
  trusted time is the floor, and the device says ``clock_suspect`` in its
  heartbeat. Without this rule a clock a year ahead refuses every manifest and
  command forever (each would look expired the moment it is signed).

A device with no signed time at all (it never held a manifest) judges the first
manifest it is served by that manifest's own ``issued_at`` and lifetime
(``TrustContext.device_clock``): a first manifest older than its lifetime by the
device's clock is taken, and the clock reported suspect, rather than a fresh
device with a clock far ahead never showing anything. What still refuses an old
manifest: a lower version than held (``rollback``), and expiry whenever the device
clock is within a lifetime of the newest signed time.

A refused manifest raises ``RefusedError`` with a stable ``reason``
(``unknown_key``, ``bad_signature``, ``malformed``, ``wrong_device``,
``rollback``, ``expired``); the caller keeps the last good one. Storing the
held manifest and reading clocks are the caller's job.

Key rotation (``rotated_keys``): ``signed`` may carry ``"keys": ["<keyid>:<base64>",
...]``, the server's signing keys from now on. Once the manifest is accepted
(so a key the device already trusts signed it), each listed key that is already
trusted or has itself signed this envelope is trusted from then on. A key
listed but not signing is ignored: the server proves it holds the new private
key by signing with it, next to the old one. The listed set replaces what was
learned from earlier manifests (a key left out is retired); keys provisioned in
the device config are never removed by a manifest.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from .errors import SignageError, TrustError
from .manifest import Manifest, parse_manifest
from .signing import PublicKey, open_envelope, verify_envelope


def trusted_now(device_clock: datetime, *lower_bounds: datetime | None) -> datetime:
    """The latest of the device clock and every known lower bound on the real time."""
    return max([device_clock, *(b for b in lower_bounds if b is not None)])


@dataclass(frozen=True)
class SignedTime:
    """What a device knows of the real time from data the server signed."""

    issued_at: datetime  # the newest signed issued_at of a manifest it accepted
    lifetime: timedelta  # that manifest's expires_at - issued_at
    elapsed: timedelta = timedelta(0)  # since it was learned, by a monotonic clock

    @property
    def floor(self) -> datetime:
        """A lower bound on the real time now."""
        return self.issued_at + max(self.elapsed, timedelta(0))


@dataclass(frozen=True)
class TrustedTime:
    now: datetime
    clock_suspect: bool  # the device clock is beyond every signed time by over a lifetime


def trusted_time(device_clock: datetime, signed: SignedTime | None) -> TrustedTime:
    """The time a device judges expiry by (see the module's docstring)."""
    if signed is None:
        return TrustedTime(device_clock, False)
    floor = signed.floor
    if device_clock - floor > signed.lifetime:
        return TrustedTime(floor, True)
    return TrustedTime(max(device_clock, floor), False)


@dataclass(frozen=True)
class TrustContext:
    device_id: str
    trusted_keys: Mapping[str, PublicKey]
    held_version: int | None
    trusted_time: datetime
    # Set only when the device has no signed time yet: the manifest's own issued_at
    # and lifetime are then the only signed time there is (``trusted_time``).
    device_clock: datetime | None = None


def accept_manifest(envelope: Any, ctx: TrustContext) -> Manifest:
    """Return the manifest if the device may play it; raise ``RefusedError`` otherwise."""
    manifest = open_envelope(envelope, ctx.trusted_keys, parse_manifest, "manifest")
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
    when = ctx.trusted_time
    if ctx.device_clock is not None:
        own = SignedTime(manifest.issued_at, manifest.expires_at - manifest.issued_at)
        when = trusted_time(ctx.device_clock, own).now
    if manifest.is_expired(when):
        raise TrustError("expired", f"manifest expired at {manifest.signed.get('expires_at')}")
    listed_keys(manifest.signed)  # a malformed key list refuses the whole manifest
    return manifest


def listed_keys(signed: Mapping[str, Any]) -> dict[str, PublicKey] | None:
    """The keys a manifest's ``keys`` field lists, or None when it has none."""
    specs = signed.get("keys")
    if specs is None:
        return None
    if not isinstance(specs, list) or not specs:
        raise TrustError("malformed", "'keys' must be a non-empty list of '<keyid>:<key>'")
    keys: dict[str, PublicKey] = {}
    for spec in specs:
        if not isinstance(spec, str):
            raise TrustError("malformed", f"'keys': {spec!r} is not a key")
        try:
            key = PublicKey.parse(spec)
        except ValueError as e:
            raise TrustError("malformed", f"'keys': {e}") from e
        keys[key.keyid] = key
    return keys


def valid_signers(envelope: Mapping[str, Any], keys: Mapping[str, PublicKey]) -> set[str]:
    """The ids of ``keys`` whose signature on ``envelope["signed"]`` is valid."""
    found = set()
    for keyid, key in keys.items():
        try:
            verify_envelope(envelope, {keyid: key})
        except (SignageError, ValueError):
            continue
        found.add(keyid)
    return found


def rotated_keys(
    envelope: Mapping[str, Any], trusted: Mapping[str, PublicKey]
) -> dict[str, PublicKey] | None:
    """The keys to trust after ``envelope`` was accepted, or None if it lists none.

    Call only with an envelope ``accept_manifest`` accepted under ``trusted``.
    """
    listed = listed_keys(envelope["signed"])
    if listed is None:
        return None
    signers = valid_signers(envelope, listed)
    return {k: v for k, v in listed.items() if k in trusted or k in signers}
