"""What the tests of the built binaries share: the dist folder ``make package-test`` names
(``SIGNAGE_PACKAGE_DIST``; without it they are skipped), a real stack for one device, and
the bare environment a device runs them in."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.support.stack import Stack

DIST = os.environ.get("SIGNAGE_PACKAGE_DIST")
PACKAGE_TEST = [
    pytest.mark.live,
    pytest.mark.e2e,
    pytest.mark.skipif(not DIST, reason="run `make package-test` (builds dist/ first)"),
]


def dist_binary(name: str) -> Path:
    """The binary ``name`` that ``make package`` built."""
    binary = Path(str(DIST)) / name
    assert binary.is_file(), f"{binary} is missing: run make package"
    return binary


def running_stack(tmp_path_factory: pytest.TempPathFactory, device: str) -> Iterator[Stack]:
    """For a module fixture: a running stack with ``device`` enrolled at adot-hall."""
    s = Stack.running(tmp_path_factory.mktemp("stack"), {device: "adot-hall"})
    yield s
    s.stop()


def bare_env(tmp: Path, base: dict[str, str] | None = None) -> dict[str, str]:
    """What a device has: system PATH only, no Python of ours anywhere."""
    env = dict(base or os.environ)
    for name in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME"):
        env.pop(name, None)
    env["PATH"] = "/usr/sbin:/usr/bin:/sbin:/bin"
    env["HOME"] = str(tmp)
    return env


def run_binary(binary: Path, tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``binary args…`` run to its end in ``tmp``, in a device's bare environment."""
    return subprocess.run(
        [str(binary), *args], env=bare_env(tmp), cwd=tmp, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip


def non_background_fraction(png: Path) -> float:
    image = cv2.imread(str(png))
    assert image is not None, f"{png} is not a readable PNG"
    _, counts = np.unique(image.reshape(-1, 3), axis=0, return_counts=True)
    return 1.0 - counts.max() / counts.sum()
