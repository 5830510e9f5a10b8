"""The one-file ``dist/kiosk-app`` built by ``make package``, run as a device runs it: no
virtualenv, no source tree, a configuration from ``add-device`` plus a kiosk key; it
syncs from a real server and draws the home screen, with its Lao language button,
under Xvfb. Run by ``make package-test``; screenshot: tests/artifacts/package-kiosk.png.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.packaging import package_kit as kit
from tests.support.stack import Stack, artifacts_dir
from tests.support.xvfb import xvfb

pytestmark = kit.PACKAGE_TEST
DEVICE = "adot-kiosk-1"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    yield from kit.running_stack(tmp_path_factory, DEVICE)


def test_the_kiosk_binary_checks_its_config_syncs_and_draws_lao(
    stack: Stack, tmp_path: Path
) -> None:
    binary = kit.dist_binary("kiosk-app")
    config = tmp_path / "kiosk.toml"
    device = (stack.root / "devices" / f"{DEVICE}.toml").read_text(encoding="utf-8")
    config.write_text(device + "kiosk_idle_timeout_s = 120\n", encoding="utf-8")

    version = kit.run_binary(binary, tmp_path, "--version")
    assert version.returncode == 0 and version.stdout.startswith("kiosk-app "), version
    check = kit.run_binary(binary, tmp_path, "--check-config", str(config))
    assert check.returncode == 0 and "idle after 120 s" in check.stdout, check.stderr
    bad = tmp_path / "bad.toml"
    bad.write_text(device + "kiosk_idle_timeout_s = 0\n", encoding="utf-8")
    refused = kit.run_binary(binary, tmp_path, "--check-config", str(bad))
    assert refused.returncode == 2 and "kiosk_idle_timeout_s" in refused.stderr

    shot = tmp_path / "kiosk.png"
    with xvfb(tmp_path / "x") as display:
        kiosk = subprocess.run(
            [str(binary), "--config", str(config), "--screenshot", str(shot),
             "--screenshot-after", "15", "--exit-after", "17"],
            env=kit.bare_env(tmp_path, display.env()), cwd=tmp_path,
            capture_output=True, text=True, timeout=180,
        )  # fmt: skip
    assert kiosk.returncode == 0, kiosk.stderr[-3000:]
    assert shot.exists(), kiosk.stderr[-3000:]
    (artifacts_dir() / "package-kiosk.png").write_bytes(shot.read_bytes())
    assert kit.non_background_fraction(shot) > 0.05, "the kiosk binary's screen is nearly blank"
    image = cv2.imread(str(shot))
    assert image is not None
    # The language buttons sit at the top right (Tiếng Việt, ພາສາລາວ, English): drawn.
    bar = image[: image.shape[0] // 10, image.shape[1] // 2 :]
    assert len(np.unique(bar.reshape(-1, 3), axis=0)) > 20, "no language buttons drawn"
