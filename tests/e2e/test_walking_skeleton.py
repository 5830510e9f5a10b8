"""A guard's playlist reaches a device at the border, signed, offline-safe,
reporting its health: real Mosquitto, a real server process, a real device process."""

from __future__ import annotations

import hashlib
import json
import signal
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path

import cv2
import numpy as np
import pytest
import requests

from content_server.broker import SERVER_USER
from signage_core import topics
from signage_core.manifest import parse_manifest
from signage_core.signing import PublicKey
from signage_core.trust import TrustContext, accept_manifest
from signage_player.presenter import programme
from tests.support.mqtt_watch import Watcher
from tests.support.stack import Stack, artifacts_dir, read_db
from tests.support.waiting import wait_until
from tests.support.xvfb import xvfb

pytestmark = pytest.mark.e2e
DEVICE = "adot-hall-1"
ARTIFACTS = artifacts_dir()


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    s = Stack.running(tmp_path_factory.mktemp("stack"), {DEVICE: "adot-hall"})
    yield s
    s.stop()


def device_config(stack: Stack) -> dict[str, object]:
    return tomllib.loads((stack.root / "devices" / f"{DEVICE}.toml").read_text())


def start_headless_device(stack: Stack) -> None:
    config = stack.root / "devices" / f"{DEVICE}.toml"
    stack.start_device("device", [sys.executable, "-m", "device_runtime", "--config", str(config)])


def test_device_syncs_reports_and_goes_offline_when_killed(stack: Stack) -> None:
    cfg = device_config(stack)
    watcher = Watcher(
        stack.mqtt_server_port,
        SERVER_USER,
        stack.mqtt_server_password,
        f"{topics.PREFIX}/devices/#",
    )
    try:
        start_headless_device(stack)

        # The manifest the server serves verifies against the key the device was given.
        r = requests.get(
            f"{stack.server_url}/api/v1/devices/{DEVICE}/manifest",
            headers={"Authorization": f"Bearer {cfg['token']}"},
            timeout=5,
        )
        assert r.status_code == 200, r.text
        keys = {k.keyid: k for k in map(PublicKey.parse, cfg["trusted_keys"])}  # type: ignore[arg-type]
        manifest = accept_manifest(
            r.json(), TrustContext(DEVICE, keys, None, parsedate_to_datetime(r.headers["Date"]))
        )
        assert manifest.assets, "the imported A Đớt playlists should carry images"

        # The cache ends with exactly the manifest's assets, each named by its hash.
        cache = Path(str(cfg["data_dir"])) / "cache"

        def cached() -> set[str]:
            return {p.name for p in cache.iterdir() if p.is_file()} if cache.exists() else set()

        wait_until(lambda: cached() == set(manifest.assets), 30, "the cache to fill")
        for sha in manifest.assets:
            assert hashlib.sha256((cache / sha).read_bytes()).hexdigest() == sha

        # Health arrives on the broker: retained online status, then a heartbeat.
        watcher.wait_for(
            lambda t, d: t == topics.status_topic(DEVICE) and d.get("state") == "online", 15
        )
        beat = watcher.wait_for(
            lambda t, d: (
                t == topics.heartbeat_topic(DEVICE)
                and d.get("manifest_version") == manifest.version
            ),
            15,
        )
        assert set(topics.HEARTBEAT_FIELDS) <= set(beat)
        assert beat["cache"]["missing"] == 0

        # Killed without a goodbye: the broker publishes the last will.
        stack.kill("device")
        watcher.wait_for(
            lambda t, d: t == topics.status_topic(DEVICE) and d.get("state") == "offline", 20
        )
    finally:
        watcher.close()
        if "device" in stack.processes:
            stack.kill("device")


def non_background_fraction(png: Path) -> float:
    image = cv2.imread(str(png))
    assert image is not None, f"{png} is not a readable PNG"
    _, counts = np.unique(image.reshape(-1, 3), axis=0, return_counts=True)
    return 1.0 - counts.max() / counts.sum()


def test_player_shows_the_gate_content_and_its_proof_of_play_reaches_the_server(
    stack: Stack, tmp_path: Path
) -> None:
    config = stack.root / "devices" / f"{DEVICE}.toml"
    shots = tmp_path / "player-{n}.png"
    # Whatever the hour, the first card is Vietnamese and the second the same item in Lao.
    held = Path(str(device_config(stack)["data_dir"])) / "state" / "manifest.json"
    cards = programme(parse_manifest(json.loads(held.read_text())["signed"]), datetime.now(UTC))
    assert [c.language for c in cards.cards[:2]] == ["vi", "lo"]
    first = cards.cards[0].duration_s
    with xvfb(tmp_path / "x") as display:
        player = subprocess.run(
            [sys.executable, "-m", "signage_player.main", "--config", str(config),
             "--screenshot", str(shots), "--screenshot-after", "4",
             "--screenshot-every", str(first), "--exit-after", str(first + 6)],
            env=display.env(), capture_output=True, text=True, timeout=90,
        )  # fmt: skip
    assert player.returncode == 0, player.stderr[-3000:]
    # The first item of the gate's playlist in Vietnamese at 4 s, in Lao one card later.
    for n, language in ((1, "vi"), (2, "lo")):
        shot = Path(str(shots).replace("{n}", str(n)))
        assert shot.exists(), player.stderr[-3000:]
        (ARTIFACTS / f"e2e-player-{language}.png").write_bytes(shot.read_bytes())
        assert non_background_fraction(shot) > 0.01, f"the player's screen is blank ({language})"

    # The player queued its proof of play; the next runtime run hands it to the server.
    start_headless_device(stack)
    try:

        def plays() -> list[dict[str, object]]:
            rows = read_db(
                stack, "SELECT body FROM events WHERE device_id = ? AND kind = 'play'", DEVICE
            )
            return [json.loads(r[0]) for r in rows]

        wait_until(lambda: len(plays()) >= 2, 30, "proof of play at the server")
        found = plays()
        languages = {p["language"] for p in found}
        assert {"vi", "lo"} <= languages, found
    finally:
        stack.kill("device")


def test_device_restarted_without_a_server_keeps_playing_the_last_good_manifest(
    stack: Stack,
) -> None:
    held = json.loads(
        (Path(str(device_config(stack)["data_dir"])) / "state" / "manifest.json").read_text()
    )
    version = held["signed"]["version"]
    stack.kill("server", signal.SIGTERM)
    watcher = Watcher(
        stack.mqtt_server_port,
        SERVER_USER,
        stack.mqtt_server_password,
        topics.heartbeat_topic(DEVICE),
    )
    try:
        started = time.monotonic()
        start_headless_device(stack)
        beat = watcher.wait_for(
            lambda t, d: d.get("manifest_version") == version and d["sync"]["state"] == "offline",
            20,
        )
        assert beat["now_playing"] is not None
        assert time.monotonic() - started < 20
    finally:
        watcher.close()
        stack.kill("device")
