"""The server's disk is lost; a backup taken while it ran is restored into a new folder, and a
real device process goes on syncing from the restored server without noticing: same key,
same token, versions that keep growing."""

from __future__ import annotations

import json
import shutil
import sys
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.server.content_server_kit import write_content
from tests.support import waiting
from tests.support.stack import Stack

pytestmark = pytest.mark.e2e
DEVICE = "adot-hall-1"


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    s = Stack(root=tmp_path / "stack", playlists=write_content(tmp_path / "content"))
    try:
        s.init()
        config = s.add_device(DEVICE, "adot-hall")
        with config.open("a") as f:  # a technician's tuning: quick checks
            f.write("poll_interval_s = 1.0\nheartbeat_interval_s = 1.0\n")
        s.start_broker()
        s.start_server()
        argv = [sys.executable, "-m", "device_runtime", "--config", str(config)]
        s.start_device(DEVICE, argv)
        yield s
    finally:
        s.stop()


def held_version(stack: Stack) -> int | None:
    config = tomllib.loads((stack.root / "devices" / f"{DEVICE}.toml").read_text())
    path = Path(config["data_dir"]) / "state" / "manifest.json"
    try:
        version: int = json.loads(path.read_bytes())["signed"]["version"]
    except (FileNotFoundError, ValueError):
        return None
    return version


def wait_until(check: Callable[[], Any], what: str, stack: Stack, timeout: float = 60) -> Any:
    def logs() -> str:
        return "\n".join(f"--- {n}\n{stack.log(n)[-2000:]}" for n in ("server", DEVICE))

    return waiting.wait_until(check, timeout, what, step=0.2, logs=logs)


def publish_notice(stack: Stack) -> int:
    api = f"{stack.server_url}/api/v1"
    r = requests.post(
        f"{api}/auth/token", data={"username": "admin", "password": stack.admin_password}
    )
    assert r.status_code == 200, r.text
    admin = {"Authorization": f"Bearer {r.json()['access_token']}"}
    notice = {
        "id": "adot-after-restore", "site_id": "adot", "priority": 40,
        "name": {"vi": "Thông báo", "lo": "ແຈ້ງການ"},
        "items": [{"id": "notice", "kind": "text", "duration_s": 10, "variants": {
            "vi": {"title": "Cửa khẩu mở cửa bình thường"},
            "lo": {"title": "ດ່ານເປີດຕາມປົກກະຕິ"}}}],
    }  # fmt: skip
    r = requests.post(f"{api}/playlists", json=notice, headers=admin)
    assert r.status_code == 201, r.text
    r = requests.post(f"{api}/playlists/adot-after-restore/publish", headers=admin)
    assert r.status_code == 200, r.text
    version: int = r.json()["version"]
    return version


def test_a_device_keeps_syncing_from_a_server_restored_from_backup(
    stack: Stack, tmp_path: Path
) -> None:
    first = wait_until(lambda: held_version(stack), "the device's first manifest", stack)

    archive = tmp_path / "hue.backup"
    stack.run("backup", "--data-dir", str(stack.data_dir), "--out", str(archive))
    stack.kill("server")
    shutil.rmtree(stack.data_dir)  # the disk is gone
    stack.run("restore", str(archive), "--data-dir", str(stack.data_dir))
    stack.start_server()
    # Signed again past the versions the lost server could have used: taken as news.
    wait_until(lambda: (held_version(stack) or 0) > first, "the restored manifest", stack)

    version = publish_notice(stack)
    assert version > first
    wait_until(lambda: held_version(stack) == version, f"the device to hold {version}", stack)
    assert "refused (" not in stack.log(DEVICE)  # no manifest was refused, not even once
