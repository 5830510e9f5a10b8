"""Commands to devices over MQTT: ``sync``, ``screenshot``, ``restart``, ``overlay``.

A command only wakes a device; it never carries content (what a device shows
comes from a signed manifest or a signed alert). Each one is signed with the
server's signing keys like an alert (``signage_core.command``), names its
device, has an id and an ``expires_at``: a device refuses one that is unsigned,
forged, for another device, late (after days offline a ``restart`` must not
fire) or already obeyed (a replay). So the broker's server account alone cannot
restart a fleet. Sending is ``ingest.FleetLink.send_command``; this module
builds and signs the envelope.

    {"signed": {"schema": "border-signage/command@1", "cmd": "sync", "id": "c-3f2a...",
                "device_id": "adot-hall-1", "issued_at": "...Z", "expires_at": "...Z"},
     "signatures": [{"keyid": "...", "sig": "..."}]}
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from signage_core import topics
from signage_core.canonical import canonical_json
from signage_core.command import MAX_TTL, command_body
from signage_core.signing import SigningKey, sign_envelope

from .errors import InvalidInputError

DEFAULT_TTL = timedelta(minutes=5)


def make_command(
    cmd: str, device_id: str, now: datetime, ttl: timedelta = DEFAULT_TTL
) -> dict[str, Any]:
    """The ``signed`` part of command ``cmd`` for ``device_id``, valid from ``now`` for ``ttl``."""
    if cmd not in topics.COMMANDS:
        raise InvalidInputError(
            f"unknown command {cmd!r}; a device understands {', '.join(topics.COMMANDS)}"
        )
    if not timedelta(seconds=1) <= ttl <= MAX_TTL:
        raise InvalidInputError("a command's time to live must be between 1 s and 1 day")
    return command_body(cmd, f"c-{uuid.uuid4().hex[:16]}", device_id, now, ttl)


def signed_command(signed: dict[str, Any], keys: list[SigningKey]) -> bytes:
    """The MQTT payload: ``signed`` in an envelope signed by every current key."""
    if not keys:
        raise InvalidInputError("the server has no signing key loaded: it cannot sign commands")
    return canonical_json(sign_envelope(signed, keys))
