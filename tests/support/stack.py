"""The whole system on loopback (``scripts/loopback/stack.py``, shared with ``make demo``),
and where tests leave screenshots."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import requests

from scripts.loopback.stack import ROOT, Stack
from scripts.loopback.stack import cli_path as _cli

__all__ = ["Stack", "_cli", "admin_headers", "artifacts_dir", "command", "read_db"]


def artifacts_dir() -> Path:
    """Where tests leave screenshots for people to look at (not in git)."""
    path = ROOT / "tests" / "artifacts"
    path.mkdir(exist_ok=True)
    return path


def admin_headers(stack: Stack) -> dict[str, str]:
    """Signed in as the stack's admin: the header the API wants."""
    r = requests.post(
        f"{stack.server_url}/api/v1/auth/token",
        data={"username": "admin", "password": stack.admin_password},
        timeout=5,
    )
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def command(
    stack: Stack, headers: dict[str, str], device_id: str, cmd: str, ttl_s: int = 30
) -> requests.Response:
    """Send the device a command (it goes out over MQTT); the server's answer."""
    return requests.post(
        f"{stack.server_url}/api/v1/devices/{device_id}/commands",
        json={"cmd": cmd, "ttl_s": ttl_s},
        headers=headers,
        timeout=5,
    )


def read_db(stack: Stack, sql: str, *params: object) -> list[Any]:
    """The rows of ``sql`` in the running server's database, opened read-only."""
    uri = f"file:{stack.data_dir / 'content.db'}?mode=ro"
    with closing(sqlite3.connect(uri, uri=True)) as db:
        return db.execute(sql, params).fetchall()
