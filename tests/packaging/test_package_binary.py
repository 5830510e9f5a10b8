"""The one-file ``dist/signage-player`` built by ``make package``, run as a device runs it:
no virtualenv, no source tree, a configuration from ``add-device``; it syncs from a real
server and draws Vietnamese and Lao under Xvfb.

Run by ``make package-test`` (``SIGNAGE_PACKAGE_DIST`` names the dist folder); a build
takes minutes, so ``make test`` skips it. Screenshots: tests/artifacts/package-*.png.
"""

from __future__ import annotations

import json
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
from tests.packaging import package_kit as kit
from tests.support.mqtt_watch import Watcher
from tests.support.stack import Stack, artifacts_dir
from tests.support.systemd import notifications_until_stopping
from tests.support.xvfb import xvfb

pytestmark = kit.PACKAGE_TEST
DEVICE = "adot-hall-1"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    yield from kit.running_stack(tmp_path_factory, DEVICE)


def test_the_binary_syncs_and_draws_lao_without_a_virtualenv(stack: Stack, tmp_path: Path) -> None:
    binary = kit.dist_binary("signage-player")
    config = stack.root / "devices" / f"{DEVICE}.toml"
    env = kit.bare_env(tmp_path)

    version = kit.run_binary(binary, tmp_path, "--version")
    assert version.returncode == 0 and version.stdout.startswith("signage-player "), version
    check = kit.run_binary(binary, tmp_path, "--check-config", str(config))
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
            env=kit.bare_env(tmp_path, display.env()), cwd=tmp_path,
            capture_output=True, text=True, timeout=180,
        )  # fmt: skip
    assert player.returncode == 0, player.stderr[-3000:]
    images = {}
    for n, language in ((1, "vi"), (2, "lo")):
        shot = Path(str(shots).replace("{n}", str(n)))
        assert shot.exists(), player.stderr[-3000:]
        (artifacts_dir() / f"package-player-{language}.png").write_bytes(shot.read_bytes())
        assert kit.non_background_fraction(shot) > 0.01, (
            f"the binary's screen is blank ({language})"
        )
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

    binary = kit.dist_binary("signage-player")
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
        env = kit.bare_env(tmp_path, display.env())
        env.update(NOTIFY_SOCKET=str(tmp_path / "notify"), WATCHDOG_USEC="400000")
        # `exec` keeps the shell's pid: WATCHDOG_PID names the bootloader, as under systemd.
        command = (
            f'export WATCHDOG_PID=$$; exec "{binary}" --config "{config}" --windowed --exit-after 5'
        )
        proc = subprocess.Popen(["/bin/sh", "-c", command], env=env, cwd=tmp_path)
        messages = notifications_until_stopping(sock, proc)
    assert messages[0] == b"READY=1"
    assert messages[1:] == [b"WATCHDOG=1"] * (len(messages) - 1) and len(messages) >= 4
