"""`content-server` as a real process never ends in a traceback: a damaged data folder
or an error nobody foresaw is one line on stderr and a non-zero exit code."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from content_server.settings import Settings

RunCli = Callable[..., subprocess.CompletedProcess[str]]


def _one_line_refusal(result: subprocess.CompletedProcess[str], command: str) -> str:
    assert result.returncode != 0, result
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"content-server {command}: ")
    return lines[0]


@pytest.fixture
def damaged(settings: Settings, tmp_path: Path) -> Path:
    """A copy of an initialised data folder whose database file is not a database."""
    data = tmp_path / "damaged"
    shutil.copytree(settings.data_dir, data)
    (data / "content.db").write_bytes(b"this is not a database\n" * 100)
    return data


@pytest.mark.parametrize(
    "command",
    [
        ["publish"],
        ["serve", "--port", "1"],
        [
            "add-device",
            "--site",
            "hue",
            "--device-id",
            "hue-1",
            "--server-url",
            "http://x",
            "--mqtt-url",
            "mqtt://x",
            "--config-out",
            "x.toml",
        ],
        ["mqtt-config", "--out", "broker", "--port", "1883"],
    ],
)
def test_a_damaged_database_is_one_line_and_exit_1(
    run_cli: RunCli, damaged: Path, tmp_path: Path, command: list[str]
) -> None:
    args = [a if a not in ("x.toml", "broker") else tmp_path / a for a in command]
    result = run_cli(*args, "--data-dir", damaged)
    line = _one_line_refusal(result, command[0])
    assert result.returncode == 1
    assert "is damaged or not a content-server database" in line and "backup" in line


def test_an_unforeseen_error_is_one_line_and_exit_70(
    run_cli: RunCli, settings: Settings, content_dir: Path
) -> None:
    # A row a hand edit broke: the code never expects it, the operator still gets one line.
    assert run_cli("import", content_dir, "--data-dir", settings.data_dir).returncode == 0
    db = sqlite3.connect(settings.db_path)
    with db:
        db.execute("UPDATE sites SET name = 'not json' WHERE id = 'hongvan'")
    db.close()
    result = run_cli("publish", "--data-dir", settings.data_dir)
    line = _one_line_refusal(result, "publish")
    assert result.returncode == 70
    assert "unexpected error (JSONDecodeError" in line and "report" in line
