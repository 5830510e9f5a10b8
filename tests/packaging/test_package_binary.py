"""The one-file ``dist/signage-player`` built by ``make package``, run as a device runs it:
no virtualenv, no source tree, a configuration from ``add-device``; it syncs from a real
server and draws Vietnamese and Lao under Xvfb.

Run by ``make package-test`` (``SIGNAGE_PACKAGE_DIST`` names the dist folder); a build
takes minutes, so ``make test`` skips it. Screenshots: tests/artifacts/package-*.png.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import cv2
import numpy as np
import pytest

from content_server.broker import SERVER_USER
from signage_core import topics
from signage_core.manifest import parse_manifest
from signage_player.presenter import programme
from tests.support.mqtt_watch import Watcher
from tests.support.stack import Stack, artifacts_dir
from tests.support.systemd import notifications_until_stopping
from tests.support.xvfb import xvfb

DIST = os.environ.get("SIGNAGE_PACKAGE_DIST")
pytestmark = [
    pytest.mark.live,
    pytest.mark.e2e,
    pytest.mark.skipif(not DIST, reason="run `make package-test` (builds dist/ first)"),
]
DEVICE = "adot-hall-1"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    s = Stack.running(tmp_path_factory.mktemp("stack"), {DEVICE: "adot-hall"})
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


def non_background_fraction(png: Path) -> float:
    image = cv2.imread(str(png))
    assert image is not None, f"{png} is not a readable PNG"
    _, counts = np.unique(image.reshape(-1, 3), axis=0, return_counts=True)
    return 1.0 - counts.max() / counts.sum()


def test_the_binary_syncs_and_draws_lao_without_a_virtualenv(stack: Stack, tmp_path: Path) -> None:
    binary = Path(str(DIST)) / "signage-player"
    assert binary.is_file(), f"{binary} is missing: run make package"
    config = stack.root / "devices" / f"{DEVICE}.toml"
    env = bare_env(tmp_path)
    run = {"env": env, "cwd": tmp_path, "capture_output": True, "text": True, "timeout": 120}

    version = subprocess.run([str(binary), "--version"], **run)  # type: ignore[call-overload]
    assert version.returncode == 0 and version.stdout.startswith("signage-player "), version
    check = subprocess.run([str(binary), "--check-config", str(config)], **run)  # type: ignore[call-overload]
    assert check.returncode == 0, check.stderr

    # Sync: the binary alone, headless, until it holds the server's signed manifest and
    # the server's broker account sees its heartbeat.
    data_dir = stack.root / "devices" / DEVICE
    held = data_dir / "state" / "manifest.json"
    watcher = Watcher(
        stack.mqtt_server_port, SERVER_USER, stack.mqtt_server_password,
        topics.heartbeat_topic(DEVICE),
    )  # fmt: skip
    log = (tmp_path / "headless.log").open("wb")
    headless = subprocess.Popen(
        [str(binary), "--config", str(config), "--headless"], env=env, cwd=tmp_path, stderr=log
    )
    try:
        deadline = time.monotonic() + 120
        while not held.exists():
            assert headless.poll() is None, (tmp_path / "headless.log").read_text()
            assert time.monotonic() < deadline, (tmp_path / "headless.log").read_text()
            time.sleep(0.2)
        beat = watcher.wait_for(lambda topic, body: body.get("manifest_version") is not None, 60)
        assert beat["app"]["name"] == "signage-player"
    finally:
        watcher.client.disconnect()
        headless.send_signal(signal.SIGTERM)
        assert headless.wait(timeout=60) == 0
        log.close()

    # Draw: Vietnamese first, the same item in Lao one card later (whatever the hour).
    cards = programme(parse_manifest(json.loads(held.read_text())["signed"]), datetime.now(UTC))
    assert [c.language for c in cards.cards[:2]] == ["vi", "lo"]
    first = cards.cards[0].duration_s
    shots = tmp_path / "player-{n}.png"
    with xvfb(tmp_path / "x") as display:
        player = subprocess.run(
            [str(binary), "--config", str(config),
             "--screenshot", str(shots), "--screenshot-after", "4",
             "--screenshot-every", str(first), "--exit-after", str(first + 6)],
            env=bare_env(tmp_path, display.env()), cwd=tmp_path,
            capture_output=True, text=True, timeout=180,
        )  # fmt: skip
    assert player.returncode == 0, player.stderr[-3000:]
    images = {}
    for n, language in ((1, "vi"), (2, "lo")):
        shot = Path(str(shots).replace("{n}", str(n)))
        assert shot.exists(), player.stderr[-3000:]
        (artifacts_dir() / f"package-player-{language}.png").write_bytes(shot.read_bytes())
        assert non_background_fraction(shot) > 0.01, f"the binary's screen is blank ({language})"
        images[language] = cv2.imread(str(shot))
    assert not np.array_equal(images["vi"], images["lo"]), "the Lao card looks like the Vietnamese"

    # Revoked: the binary's next request is answered 401 and the broker refuses its login.
    stack.run("revoke-device", DEVICE, "--data-dir", str(stack.data_dir))
    stack.reload_broker()
    log_path = tmp_path / "revoked.log"
    with log_path.open("wb") as log:
        revoked = subprocess.Popen(
            [str(binary), "--config", str(config), "--headless"],
            env=env, cwd=tmp_path, stderr=log,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while not ("401" in (text := log_path.read_text()) and "broker refused" in text):
            assert revoked.poll() is None and time.monotonic() < deadline, text
            time.sleep(0.2)
    finally:
        revoked.send_signal(signal.SIGTERM)
        revoked.wait(timeout=60)


def test_under_systemd_the_binary_is_ready_and_pings_the_watchdog(tmp_path: Path) -> None:
    """As systemd runs it: WATCHDOG_PID is the bootloader's pid, the app runs in its child."""
    import socket

    from signage_core.signing import SigningKey

    binary = Path(str(DIST)) / "signage-player"
    config = tmp_path / "device.toml"
    config.write_text(
        'device_id = "adot-hall-1"\ntoken = "tok"\nserver_url = "http://127.0.0.1:9"\n'
        'mqtt_url = "mqtt://127.0.0.1:9"\nmqtt_password = "pw"\n'
        f'trusted_keys = ["{SigningKey.generate().public.spec()}"]\n'
        f'data_dir = "{tmp_path / "data"}"\n',
        encoding="utf-8",
    )
    with (
        xvfb(tmp_path / "x") as display,
        socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock,
    ):
        sock.bind(str(tmp_path / "notify"))
        sock.settimeout(90)
        env = bare_env(tmp_path, display.env())
        env.update(NOTIFY_SOCKET=str(tmp_path / "notify"), WATCHDOG_USEC="400000")
        # `exec` keeps the shell's pid: WATCHDOG_PID names the bootloader, as under systemd.
        command = (
            f'export WATCHDOG_PID=$$; exec "{binary}" --config "{config}" --windowed --exit-after 5'
        )
        proc = subprocess.Popen(["/bin/sh", "-c", command], env=env, cwd=tmp_path)
        messages = notifications_until_stopping(sock, proc)
    assert messages[0] == b"READY=1"
    assert messages[1:] == [b"WATCHDOG=1"] * (len(messages) - 1) and len(messages) >= 4
