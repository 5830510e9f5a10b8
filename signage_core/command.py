"""Signed commands to one device: their shape and whether a device obeys one.

A command only wakes a device (``sync``, ``screenshot``, ``restart``) or shows a
technician what it knows (``overlay``: the maintenance overlay for a while); it never
carries content. It is an envelope signed like a manifest or an alert
(``signage_core.signing``), so that the broker's server account alone, or
anyone who can publish on a device's ``cmd`` topic, cannot restart a fleet::

    {"signed": {"schema": "border-signage/command@1", "cmd": "restart",
                "id": "c-3f2a9b...", "device_id": "adot-hall-1",
                "issued_at": "...Z", "expires_at": "...Z"},
     "signatures": [{"keyid": ..., "sig": ...}]}

``accept_command`` decides: a trusted key signed it, it names this device, it
is one of ``COMMANDS``, it lives at most ``MAX_TTL`` and it has not expired at
the device's trusted time. Otherwise ``RefusedError`` with a stable ``reason``
(``unknown_key``, ``bad_signature``, ``malformed``, ``wrong_device``,
``expired``). Refusing a replay (the same ``id`` twice) needs memory: that is
the device's (``device_runtime.commands.SeenCommands``); an id need only be
remembered until its ``expires_at``, after which the expiry refuses it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from . import topics
from .errors import CanonicalFormError, ManifestError, TrustError
from .signing import PublicKey, verify_envelope
from .timefmt import format_time, parse_time

SCHEMA = "border-signage/command@1"
COMMANDS = topics.COMMANDS
MAX_TTL = timedelta(days=1)
MAX_ID_CHARS = 64


@dataclass(frozen=True)
class Command:
    id: str
    cmd: str
    device_id: str
    issued_at: datetime
    expires_at: datetime


def command_body(
    cmd: str, command_id: str, device_id: str, now: datetime, ttl: timedelta
) -> dict[str, Any]:
    """The ``signed`` part of a command (the server signs it with ``sign_envelope``)."""
    return {
        "schema": SCHEMA,
        "cmd": cmd,
        "id": command_id,
        "device_id": device_id,
        "issued_at": format_time(now),
        "expires_at": format_time(now + ttl),
    }


def _text(signed: Mapping[str, Any], key: str) -> str:
    value = signed.get(key)
    if not isinstance(value, str) or not value:
        raise ManifestError(f"command: '{key}' must be a non-empty string")
    return value


def parse_command(signed: Any) -> Command:
    """Check the shape of a command's ``signed`` part; raise ``ManifestError``."""
    if not isinstance(signed, dict):
        raise ManifestError("command: 'signed' must be an object")
    if signed.get("schema") != SCHEMA:
        raise ManifestError(f"command: schema {signed.get('schema')!r} is not {SCHEMA!r}")
    cmd = _text(signed, "cmd")
    if cmd not in COMMANDS:
        raise ManifestError(f"command: {cmd!r} is not one of {', '.join(COMMANDS)}")
    command_id = _text(signed, "id")
    if len(command_id) > MAX_ID_CHARS:
        raise ManifestError(f"command: 'id' is longer than {MAX_ID_CHARS} characters")
    issued_at = parse_time(signed.get("issued_at"), "issued_at")
    expires_at = parse_time(signed.get("expires_at"), "expires_at")
    if not timedelta(0) < expires_at - issued_at <= MAX_TTL:
        raise ManifestError("command: it must expire after it is issued, within one day")
    return Command(command_id, cmd, _text(signed, "device_id"), issued_at, expires_at)


def accept_command(
    envelope: Any, trusted_keys: Mapping[str, PublicKey], device_id: str, trusted_time: datetime
) -> Command:
    """The command if this device may obey it now; raise ``RefusedError`` otherwise."""
    try:
        signed = verify_envelope(envelope, trusted_keys)
    except (ManifestError, CanonicalFormError) as e:
        raise TrustError("malformed", f"not a signed command: {e}") from e
    try:
        command = parse_command(signed)
    except ManifestError as e:
        raise TrustError("malformed", f"signed but malformed: {e}") from e
    if command.device_id != device_id:
        raise TrustError(
            "wrong_device", f"command is for device {command.device_id!r}, this is {device_id!r}"
        )
    if trusted_time >= command.expires_at:
        raise TrustError("expired", f"command {command.id} expired at {signed['expires_at']}")
    return command
