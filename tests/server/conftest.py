"""Fixtures for the content server: a small playlist folder, a data folder, a running app.

Each test gets its own temporary data folder. The content (``content_server_kit``)
is ours, not the real ``playlists/``: small, and written so that every rule of
the importer has a line to point at.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import pytest

from content_server.cli import main
from content_server.settings import Settings
from tests.server.content_server_kit import (
    ADMIN_PASSWORD,
    NOW,
    CliResult,
    Server,
    add_device,
    data_folder,
    import_folder,
    serving,
    write_content,
)


@pytest.fixture
def now() -> datetime:
    return NOW


@pytest.fixture
def admin_password() -> str:
    return ADMIN_PASSWORD


@pytest.fixture
def content_dir(tmp_path: Path) -> Path:
    return write_content(tmp_path / "playlists")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return data_folder(tmp_path)


@pytest.fixture
def import_content() -> Callable[..., None]:
    """``import_content(settings, folder, now=NOW)``: import without publishing."""
    return import_folder


@pytest.fixture
def imported(settings: Settings, content_dir: Path) -> Settings:
    """``settings``, its data folder holding the fixture content (imported, not published)."""
    import_folder(settings, content_dir)
    return settings


@pytest.fixture
def enrol_device() -> Callable[..., str]:
    """``enrol_device(settings, device_id, site, now=NOW)``: enrol, publish, return the token."""
    return add_device


@pytest.fixture
def server(settings: Settings, content_dir: Path) -> Iterator[Server]:
    """A running app with the fixture content and two devices: adot-hall-1, hongvan-1."""
    with serving(settings, content_dir, {"adot-hall-1": "adot-hall", "hongvan-1": "hongvan"}) as s:
        yield s


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., CliResult]:
    """The command's ``main()`` in this process: fast, for the many cases of one command."""

    def run(*args: str | Path) -> CliResult:
        capsys.readouterr()
        code = main([str(a) for a in args])
        out = capsys.readouterr()
        return CliResult(code, out.out, out.err)

    return run


@pytest.fixture
def run_cli() -> Callable[..., subprocess.CompletedProcess[str]]:
    """The real command in a new process: exit codes, no traceback."""

    def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "content_server.cli", *map(str, args)],
            capture_output=True,
            text=True,
            timeout=60,
        )

    return run
