"""``content-server serve`` in its own process (uvicorn on a loopback port), for tests
over real HTTP that also read the server's memory from /proc."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import requests

from content_server.settings import Settings
from tests.server.content_server_kit import ADMIN_PASSWORD, add_device, import_folder
from tests.support.waiting import free_port, wait_port


@dataclass
class LiveServer:
    process: subprocess.Popen[bytes]
    port: int
    device_token: str
    log_path: Path

    def log(self) -> str:
        """What the server wrote to stderr so far (its log)."""
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def wait_for_log(self, text: str, timeout: float = 30.0) -> str:
        """The log once it holds ``text``; fails after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while text not in (log := self.log()):
            assert time.monotonic() < deadline, f"the server never logged {text!r}:\n{log}"
            time.sleep(0.05)
        return log

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def peak_rss_kib(self) -> int:
        """The server process's peak resident memory so far (VmHWM), in KiB."""
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        line = next(x for x in status.splitlines() if x.startswith("VmHWM:"))
        return int(line.split()[1])

    def admin_auth(self) -> dict[str, str]:
        r = requests.post(
            f"{self.url}/api/v1/auth/token",
            data={"username": "admin", "password": ADMIN_PASSWORD},
            timeout=30,
        )
        assert r.status_code == 200, r.text
        return {"Authorization": f"Bearer {r.json()['access_token']}"}


@contextlib.contextmanager
def serve(settings: Settings, content_dir: Path, **env_settings: str) -> Iterator[LiveServer]:
    """The fixture content, device ``adot-hall-1``, and the server running on them."""
    import_folder(settings, content_dir)
    token = add_device(settings, "adot-hall-1", "adot-hall")
    port = free_port()
    env = {**os.environ, **env_settings}
    command = [sys.executable, "-m", "content_server.cli", "serve"]
    command += ["--data-dir", str(settings.data_dir), "--port", str(port), "--no-access-log"]
    log_path = settings.data_dir.parent / f"serve-{port}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, env=env, stderr=log)
    try:
        wait_port(port, timeout=60)
        server = LiveServer(process, port, token, log_path)
        assert requests.get(f"{server.url}/healthz", timeout=30).status_code == 200
        yield server
    finally:
        process.terminate()
        process.wait(timeout=30)
