"""The whole system as separate processes on loopback: Mosquitto, the content
server and devices, set up only through the commands an operator uses.

Used by the end-to-end tests and by ``make demo`` (``scripts/demo.py``):
``content-server init`` → ``import playlists/`` → ``add-device`` →
``mqtt-config`` → ``mosquitto -c`` → ``content-server serve`` → a device
process (``signage-player`` or ``python -m device_runtime``).
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

from .ports import MOSQUITTO, free_port, wait_port

ROOT = Path(__file__).resolve().parents[2]  # the repository
BIN = Path(sys.executable).parent


def cli_path(name: str) -> str:
    """A console script of this project: the virtualenv's, else the one on PATH."""
    found = BIN / name
    return str(found) if found.exists() else name


@dataclass
class Stack:
    root: Path
    playlists: Path = ROOT / "playlists"
    server_port: int = field(default_factory=free_port)
    mqtt_port: int = field(default_factory=free_port)
    mqtt_server_port: int = field(default_factory=free_port)  # the server's own listener
    admin_password: str = field(default_factory=lambda: secrets.token_urlsafe(12))
    mqtt_server_password: str = field(default_factory=lambda: secrets.token_urlsafe(16))
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    verbose: bool = False

    @property
    def data_dir(self) -> Path:
        return self.root / "server"

    @property
    def server_url(self) -> str:
        return f"http://127.0.0.1:{self.server_port}"

    @property
    def mqtt_url(self) -> str:
        return f"mqtt://127.0.0.1:{self.mqtt_port}"

    @property
    def mqtt_server_url(self) -> str:
        return f"mqtt://127.0.0.1:{self.mqtt_server_port}"

    @property
    def broker_dir(self) -> Path:
        # Mosquitto drops to its own user: its folder must be outside private temp dirs.
        path = self.root / "mosquitto"
        if not path.exists():
            real = Path(tempfile.mkdtemp(prefix="signage-mqtt-"))
            os.chmod(real, 0o755)
            path.symlink_to(real)
        return path.resolve()

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [cli_path("content-server"), *args], capture_output=True, text=True, timeout=120
        )
        if check and result.returncode != 0:
            raise RuntimeError(
                f"content-server {' '.join(args)} failed ({result.returncode}):\n"
                f"{result.stdout}\n{result.stderr}"
            )
        return result

    # -- set-up, as an operator does it ------------------------------------------------
    def init(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        secret = self.root / "admin-password"
        secret.write_text(self.admin_password)
        secret.chmod(0o600)
        mqtt_secret = self.root / "mqtt-server-password"
        mqtt_secret.write_text(self.mqtt_server_password)
        mqtt_secret.chmod(0o600)
        data = str(self.data_dir)
        self.run("init", "--data-dir", data, "--admin-user", "admin",
                 "--admin-password-file", str(secret))  # fmt: skip
        self.run("import", str(self.playlists), "--data-dir", data)

    def add_device(self, device_id: str, site: str) -> Path:
        config = self.root / "devices" / f"{device_id}.toml"
        config.parent.mkdir(parents=True, exist_ok=True)
        self.run(
            "add-device", "--data-dir", str(self.data_dir), "--site", site,
            "--device-id", device_id, "--server-url", self.server_url,
            "--mqtt-url", self.mqtt_url, "--config-out", str(config),
            "--device-data-dir", str(self.root / "devices" / device_id),
        )  # fmt: skip
        return config

    @classmethod
    def running(cls, root: Path, devices: dict[str, str]) -> Stack:
        """Initialised from playlists/, devices ``{id: site}`` enrolled, broker and server up."""
        stack = cls(root)
        try:
            stack.init()
            for device_id, site in devices.items():
                stack.add_device(device_id, site)
            stack.start_broker()
            stack.start_server()
        except BaseException:
            stack.stop()
            raise
        return stack

    # -- processes ---------------------------------------------------------------------
    def _spawn(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> None:
        log = open(self.root / f"{name}.log", "ab")  # noqa: SIM115 - lives with the process
        out = None if self.verbose else log
        self.processes[name] = subprocess.Popen(
            argv, stdout=out, stderr=out, env={**os.environ, **(env or {})}, cwd=ROOT,
            start_new_session=True,
        )  # fmt: skip
        log.close()

    def _write_broker_config(self) -> None:
        """Passwords and ACL for every enrolled device, as ``content-server mqtt-config`` writes."""
        self.run(
            "mqtt-config", "--data-dir", str(self.data_dir), "--out", str(self.broker_dir),
            "--port", str(self.mqtt_port), "--server-port", str(self.mqtt_server_port),
            "--server-password-file", str(self.root / "mqtt-server-password"),
        )  # fmt: skip

    def start_broker(self) -> None:
        self._write_broker_config()
        self._spawn("mosquitto", [MOSQUITTO, "-c", str(self.broker_dir / "mosquitto.conf")])
        wait_port(self.mqtt_port)
        wait_port(self.mqtt_server_port)

    def reload_broker(self) -> None:
        self._write_broker_config()
        self.processes["mosquitto"].send_signal(signal.SIGHUP)

    def start_server(self) -> None:
        self._spawn(
            "server",
            [cli_path("content-server"), "serve", "--data-dir", str(self.data_dir),
             "--host", "127.0.0.1", "--port", str(self.server_port),
             "--mqtt-url", self.mqtt_server_url],
            env={"CONTENT_SERVER_MQTT_PASSWORD": self.mqtt_server_password},
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{self.server_url}/healthz", timeout=1).ok:
                    return
            except requests.RequestException:
                pass
            if self.processes["server"].poll() is not None:
                break
            time.sleep(0.1)
        raise RuntimeError(f"the content server did not start:\n{self.log('server')}")

    def start_device(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> None:
        self._spawn(name, argv, env)

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        proc = self.processes.pop(name)
        if proc.poll() is None:
            os.killpg(proc.pid, sig)
            proc.wait(10)

    def log(self, name: str) -> str:
        path = self.root / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        for name in list(self.processes)[::-1]:
            proc = self.processes.pop(name)
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                    proc.wait(10)
                except (subprocess.TimeoutExpired, ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
        if (self.root / "mosquitto").is_symlink():
            shutil.rmtree(self.broker_dir, ignore_errors=True)
