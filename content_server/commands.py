"""Commands to devices over MQTT: ``sync``, ``screenshot``, ``restart``, ``overlay``.

A command only wakes a device; it never carries content (what a device shows
comes from a signed manifest or a signed alert). Each one is signed with the
server's signing keys like an alert (``signage_core.command``), names its
device, has an id and an ``expires_at``: a device refuses one that is unsigned,
forged, for another device, late (after days offline a ``restart`` must not
fire) or already obeyed (a replay). So the broker's server account alone cannot
restart a fleet. The ``sync`` sent after a publish carries ``window_s``
(``sync_window_s``): each device waits a random part of it before it asks, so a
publish for a thousand screens is spread over tens of seconds instead of one
burst. Sending is ``ingest.FleetLink.send_command``; this module
builds and signs the envelope.

    {"signed": {"schema": "border-signage/command@1", "cmd": "sync", "id": "c-3f2a...",
                "device_id": "adot-hall-1", "issued_at": "...Z", "expires_at": "...Z",
                "window_s": 50},
     "signatures": [{"keyid": "...", "sig": "..."}]}
"""

from __future__ import annotations

import math
import uuid
from datetime import datetime, timedelta
from typing import Any

from signage_core import topics
from signage_core.canonical import canonical_json
from signage_core.command import MAX_TTL, MAX_WINDOW_S, command_body
from signage_core.signing import SigningKey, sign_envelope

from .errors import InvalidInputError

DEFAULT_TTL = timedelta(minutes=5)


def make_command(
    cmd: str,
    device_id: str,
    now: datetime,
    ttl: timedelta = DEFAULT_TTL,
    window_s: int | None = None,
) -> dict[str, Any]:
    """The ``signed`` part of command ``cmd`` for ``device_id``, valid from ``now`` for ``ttl``;
    a ``sync`` may ask the device to spread its answer over ``window_s`` seconds."""
    if cmd not in topics.COMMANDS:
        raise InvalidInputError(
            f"unknown command {cmd!r}; a device understands {', '.join(topics.COMMANDS)}"
        )
    if not timedelta(seconds=1) <= ttl <= MAX_TTL:
        raise InvalidInputError("a command's time to live must be between 1 s and 1 day")
    if window_s is not None and (cmd != "sync" or not 0 <= window_s <= MAX_WINDOW_S):
        raise InvalidInputError(f"a sync window must be 0 to {MAX_WINDOW_S} s, for sync only")
    return command_body(cmd, f"c-{uuid.uuid4().hex[:16]}", device_id, now, ttl, window_s)


def sync_window_s(devices: int, max_window_s: float, rate_per_s: float) -> int:
    """The window a publish's ``sync`` asks ``devices`` screens to spread their answers over:
    long enough that at most ``rate_per_s`` ask a second on average, at most ``max_window_s``."""
    if devices <= 0 or max_window_s <= 0:
        return 0
    return int(min(max_window_s, MAX_WINDOW_S, math.ceil(devices / rate_per_s)))


def signed_command(signed: dict[str, Any], keys: list[SigningKey]) -> bytes:
    """The MQTT payload: ``signed`` in an envelope signed by every current key."""
    if not keys:
        raise InvalidInputError("the server has no signing key loaded: it cannot sign commands")
    return canonical_json(sign_envelope(signed, keys))
