"""systemd's notify protocol over ``$NOTIFY_SOCKET``: ready, watchdog pings, stopping.

A real Unix datagram socket plays systemd's part; the headless runtime runs as its
own process, as under a ``Type=notify`` unit with ``WatchdogSec=``.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from device_runtime.sdnotify import notify, watchdog_interval
from signage_core.signing import SigningKey

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def systemd_socket(tmp_path: Path) -> Iterator[tuple[socket.socket, str]]:
    path = tmp_path / "notify"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.settimeout(30)
    try:
        yield sock, str(path)
    finally:
        sock.close()


@pytest.mark.live
def test_notify_sends_one_datagram_to_the_socket(
    systemd_socket: tuple[socket.socket, str],
) -> None:
    sock, path = systemd_socket
    assert notify("READY=1", {"NOTIFY_SOCKET": path})
    assert sock.recv(4096) == b"READY=1"


@pytest.mark.live
def test_notify_reaches_an_abstract_socket() -> None:
    name = f"border-signage-test-{os.getpid()}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name)
        sock.settimeout(30)
        assert notify("WATCHDOG=1", {"NOTIFY_SOCKET": "@" + name})
        assert sock.recv(4096) == b"WATCHDOG=1"


def test_without_systemd_nothing_is_sent_and_nothing_fails(tmp_path: Path) -> None:
    assert not notify("READY=1", {})
    assert not notify("READY=1", {"NOTIFY_SOCKET": "relative/path"})
    assert not notify("READY=1", {"NOTIFY_SOCKET": str(tmp_path / "gone")})


def test_watchdog_interval_is_half_the_period_and_only_for_this_process() -> None:
    assert watchdog_interval({"WATCHDOG_USEC": "30000000"}) == 15.0
    mine = {"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": str(os.getpid())}
    assert watchdog_interval(mine) == 15.0
    assert watchdog_interval({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "1"}) is None
    parent = {"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": str(os.getppid())}
    assert watchdog_interval(parent, frozen=False) is None


def test_in_a_one_file_binary_the_app_pings_for_the_bootloader_systemd_started() -> None:
    parent = {"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": str(os.getppid())}
    assert watchdog_interval(parent, frozen=True) == 15.0
    stranger = {"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "1"}
    assert watchdog_interval(stranger, frozen=True) is None
    assert watchdog_interval({}) is None
    assert watchdog_interval({"WATCHDOG_USEC": "0"}) is None
    assert watchdog_interval({"WATCHDOG_USEC": "soon"}) is None


def _config(tmp_path: Path) -> Path:
    path = tmp_path / "device.toml"
    key = SigningKey.generate().public
    # Nothing listens on port 9: the device is offline, as at a post whose link is down.
    path.write_text(
        'device_id = "adot-hall-1"\ntoken = "tok"\n'
        'server_url = "http://127.0.0.1:9"\nmqtt_url = "mqtt://127.0.0.1:9"\n'
        f'mqtt_password = "pw"\ntrusted_keys = ["{key.spec()}"]\n'
        f'data_dir = "{tmp_path / "data"}"\n',
        encoding="utf-8",
    )
    return path


@pytest.mark.live
def test_headless_runtime_says_ready_pings_the_watchdog_and_says_stopping(
    tmp_path: Path, systemd_socket: tuple[socket.socket, str]
) -> None:
    sock, path = systemd_socket
    env = {**os.environ, "NOTIFY_SOCKET": path, "WATCHDOG_USEC": "400000"}
    env.pop("WATCHDOG_PID", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "device_runtime", "--config", str(_config(tmp_path))],
        cwd=ROOT,
        env=env,
        stderr=subprocess.PIPE,
    )
    try:
        assert sock.recv(4096) == b"READY=1"  # offline, yet ready: it plays what it holds
        started = time.monotonic()
        pings = [sock.recv(4096) for _ in range(3)]
        assert pings == [b"WATCHDOG=1"] * 3
        # Pings every 0.2 s (half of WATCHDOG_USEC); generous bound for busy cores.
        assert time.monotonic() - started < 10
        proc.send_signal(signal.SIGTERM)
        while (message := sock.recv(4096)) == b"WATCHDOG=1":
            pass
        assert message == b"STOPPING=1"
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        assert proc.stderr is not None
        proc.stderr.close()
