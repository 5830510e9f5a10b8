"""A real Mosquitto broker on a free loopback port, for tests and the demo.

``Broker.start(devices=..., server_password=...)`` writes our own config with
``content_server.broker`` (passwords, ACL, no anonymous access) into a folder
the ``mosquitto`` user can read, starts ``/usr/sbin/mosquitto`` and waits until
it accepts connections. ``stop()`` ends it.

Like the config ``content-server mqtt-config`` writes, it has two listeners:
``port``/``url`` for devices (the client id is the username, TLS when ``tls``
is given) and ``server_port``/``server_url`` for the server's account, where
several connections (the ingest, a test's watcher) may live at once.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from content_server.broker import SERVER_USER, DeviceAccount, TlsListener, write_broker_files
from scripts.loopback.ports import MOSQUITTO, free_port, wait_port

__all__ = ["MOSQUITTO", "Broker", "free_port", "readable_dir", "readable_tmp_dir", "wait_port"]


def readable_dir(prefix: str) -> Path:
    """A new folder that daemons dropping to their own user (Mosquitto, nginx's workers) can
    read: pytest's ``tmp_path`` is private to the user running the tests. The caller removes it.
    """
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    os.chmod(folder, 0o755)
    return folder


@contextmanager
def readable_tmp_dir(prefix: str) -> Iterator[Path]:
    """``readable_dir``, removed with what it holds on leaving."""
    folder = readable_dir(prefix)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@dataclass
class Broker:
    port: int
    folder: Path
    server_user: str = SERVER_USER
    server_password: str = ""
    devices: list[DeviceAccount] = field(default_factory=list)
    process: subprocess.Popen[bytes] | None = None
    server_port: int = field(default_factory=free_port)
    tls: TlsListener | None = None

    @property
    def url(self) -> str:
        """What devices use."""
        scheme = "mqtts" if self.tls is not None else "mqtt"
        return f"{scheme}://127.0.0.1:{self.port}"

    @property
    def server_url(self) -> str:
        """What the content server (and anything on the server's account) uses."""
        return f"mqtt://127.0.0.1:{self.server_port}"

    @classmethod
    def start(
        cls,
        devices: list[DeviceAccount] | None = None,
        server_password: str = "server-secret",
        tls: TlsListener | None = None,
    ) -> Broker:
        folder = readable_dir("mosquitto-")
        broker = cls(
            free_port(), folder, server_password=server_password, devices=devices or [], tls=tls
        )
        broker._launch()
        return broker

    def _write(self) -> Path:
        return write_broker_files(
            self.folder,
            port=self.port,
            server_password=self.server_password,
            devices=self.devices,
            server_port=self.server_port,
            tls=self.tls,
        )

    def _launch(self) -> None:
        conf = self._write()
        log = open(self.folder / "mosquitto.log", "ab")  # noqa: SIM115 - lives with the process
        self.process = subprocess.Popen([MOSQUITTO, "-c", str(conf)], stdout=log, stderr=log)
        log.close()
        wait_port(self.port)
        wait_port(self.server_port)

    def reload(self, devices: list[DeviceAccount]) -> None:
        """Rewrite passwords and ACL and make Mosquitto re-read them (SIGHUP)."""
        self.devices = devices
        self._write()
        assert self.process is not None
        self.process.send_signal(1)
        time.sleep(0.3)

    def log(self) -> str:
        return (self.folder / "mosquitto.log").read_text(errors="replace")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.folder, ignore_errors=True)
