"""MQTT topic names and payload schemas: the one place they are defined.

    signage/v1/devices/{id}/status     retained {"state": "online"|"offline", "session", "ts"}
    signage/v1/devices/{id}/heartbeat  every 30 s, see ``HEARTBEAT_FIELDS``
    signage/v1/devices/{id}/cmd        server -> device {"cmd": "sync"|..., "id", "expires_at"}
    signage/v1/sites/{site_id}/alert   retained signed alert envelope

Health flows here (it may be lost); records go over HTTP (they may not).
Commands only wake a device; they never carry content.
"""

from __future__ import annotations

import json
import re
from typing import Any

PREFIX = "signage/v1"
STATUS_STATES = ("online", "offline")
COMMANDS = ("sync", "screenshot", "restart", "overlay")
MAX_PAYLOAD_BYTES = 16 * 1024
_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")

HEARTBEAT_FIELDS = (
    "seq",
    "ts",
    "uptime_s",
    "app",
    "manifest_version",
    "now_playing",
    "cache",
    "disk_free_bytes",
    "sync",
    "clock_skew_s",
)
# Sent by current devices, not required of older ones: the heartbeat interval the
# server's stale/offline rules use, the alerts on show / refused, and the videos the
# player skipped ({"videos": n since start, "last": [{playlist, item, language, asset,
# reason, at}]}).
HEARTBEAT_OPTIONAL = ("interval_s", "alerts", "skipped")


class PayloadError(ValueError):
    """A payload on a topic is not what the schema says; the message says what."""


def valid_id(value: str) -> bool:
    """Device and site ids: lowercase letters, digits and hyphens (safe in topics and paths)."""
    return bool(_ID.match(value))


def status_topic(device_id: str) -> str:
    return f"{PREFIX}/devices/{device_id}/status"


def heartbeat_topic(device_id: str) -> str:
    return f"{PREFIX}/devices/{device_id}/heartbeat"


def cmd_topic(device_id: str) -> str:
    return f"{PREFIX}/devices/{device_id}/cmd"


def alert_topic(site_id: str) -> str:
    return f"{PREFIX}/sites/{site_id}/alert"


def device_of(topic: str) -> tuple[str, str] | None:
    """``(device_id, kind)`` for a device topic, else None."""
    parts = topic.split("/")
    if len(parts) == 5 and parts[:3] == ["signage", "v1", "devices"] and valid_id(parts[3]):
        return parts[3], parts[4]
    return None


def encode(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def decode(raw: bytes) -> dict[str, Any]:
    if len(raw) > MAX_PAYLOAD_BYTES:
        raise PayloadError(f"payload of {len(raw)} bytes is over {MAX_PAYLOAD_BYTES}")
    try:
        value = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise PayloadError(f"payload is not UTF-8 JSON: {e}") from e
    if not isinstance(value, dict):
        raise PayloadError("payload must be a JSON object")
    return value


def status_payload(state: str, session: int, ts: str) -> dict[str, Any]:
    if state not in STATUS_STATES:
        raise ValueError(f"unknown state {state!r}")
    return {"state": state, "session": session, "ts": ts}


def check_status(payload: dict[str, Any]) -> dict[str, Any]:
    if payload.get("state") not in STATUS_STATES:
        raise PayloadError(f"status 'state' must be one of {STATUS_STATES}")
    session = payload.get("session")
    if not isinstance(session, int) or isinstance(session, bool) or session < 0:
        raise PayloadError("status 'session' must be a non-negative integer")
    return payload


def check_heartbeat(payload: dict[str, Any]) -> dict[str, Any]:
    missing = [f for f in HEARTBEAT_FIELDS if f not in payload]
    if missing:
        raise PayloadError(f"heartbeat is missing {', '.join(missing)}")
    seq = payload["seq"]
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0:
        raise PayloadError("heartbeat 'seq' must be a non-negative integer")
    for f in ("app", "cache", "sync"):
        if not isinstance(payload[f], dict):
            raise PayloadError(f"heartbeat '{f}' must be an object")
    return payload
