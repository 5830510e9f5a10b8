"""A device enrolled with the real `content-server add-device` while the real `serve`
runs works on its very first request, not only after the server's next reload."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests

from content_server.keys import load_signing_key
from content_server.settings import Settings
from signage_core.trust import TrustContext, accept_manifest
from tests.support.clock import latest_utc
from tests.support.waiting import free_port

RunCli = Callable[..., subprocess.CompletedProcess[str]]
pytestmark = pytest.mark.live


@pytest.fixture
def serving(settings: Settings, content_dir: Path, run_cli: RunCli) -> Iterator[str]:
    """`serve` with a reload interval of an hour: only the token look-up can help."""
    assert run_cli("import", content_dir, "--data-dir", settings.data_dir).returncode == 0
    port = free_port()
    env = {**os.environ, "CONTENT_SERVER_RELOAD_INTERVAL_S": "3600"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "content_server.cli", "serve", "--data-dir", str(settings.data_dir),
         "--host", "127.0.0.1", "--port", str(port), "--no-access-log"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(f"{url}/healthz", timeout=1).ok:
                    break
            except requests.RequestException:
                if time.monotonic() > deadline or proc.poll() is not None:
                    pytest.fail("the server did not start")
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        output, _ = proc.communicate(timeout=10)
        assert "Traceback" not in output


def test_a_device_enrolled_by_the_cli_works_at_once(
    serving: str, settings: Settings, run_cli: RunCli, tmp_path: Path
) -> None:
    config = tmp_path / "adot-hall-7.toml"
    result = run_cli(
        "add-device", "--data-dir", settings.data_dir, "--site", "adot-hall",
        "--device-id", "adot-hall-7", "--server-url", serving, "--mqtt-url", "mqtt://x",
        "--config-out", config,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    token = tomllib.loads(config.read_text(encoding="utf-8"))["token"]

    r = requests.get(
        f"{serving}/api/v1/devices/adot-hall-7/manifest",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert r.status_code == 200, r.text
    key = load_signing_key(settings.signing_key_path).public
    manifest = accept_manifest(
        r.json(), TrustContext("adot-hall-7", {key.keyid: key}, None, latest_utc(0))
    )
    assert manifest.device_id == "adot-hall-7"

    # A token nobody holds is still refused.
    r = requests.get(
        f"{serving}/api/v1/devices/adot-hall-7/manifest",
        headers={"Authorization": "Bearer not-a-token"},
        timeout=10,
    )
    assert r.status_code == 401
