"""An emergency alert posted by a guard covers the real player's screen at the gate,
and the screen itself proves it: the server asks for a screenshot over MQTT and the
player uploads what it shows. Real server, Mosquitto, player under Xvfb."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
import numpy as np
import pytest
import requests

from tests.support.stack import Stack, admin_headers, artifacts_dir, command
from tests.support.waiting import wait_until
from tests.support.xvfb import xvfb

pytestmark = pytest.mark.e2e
DEVICE = "adot-hall-2"
ARTIFACTS = artifacts_dir()


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    s = Stack.running(tmp_path_factory.mktemp("alert-stack"), {DEVICE: "adot-hall"})
    with (s.root / "devices" / f"{DEVICE}.toml").open("a", encoding="utf-8") as f:
        f.write("heartbeat_interval_s = 1\n")  # the test waits for a beat saying what plays
    yield s
    s.stop()


def playing(stack: Stack, headers: dict[str, str]) -> bool:
    """A heartbeat says a card is on screen: the player is up, and its link subscribed to
    its commands (the first beat of a connection comes after the subscription)."""
    r = requests.get(f"{stack.server_url}/api/v1/devices/{DEVICE}", headers=headers, timeout=5)
    assert r.status_code == 200, r.text
    beat = r.json()["health"]["heartbeat"] or {}
    return (beat.get("now_playing") or {}).get("item") is not None


def red_fraction(png: bytes) -> float:
    image = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None, "the screenshot is not a PNG"
    b, g, r = (image[:, :, i].astype(int) for i in range(3))
    return float(((r > 150) & (g < 90) & (b < 90)).mean())


def screenshot(stack: Stack, headers: dict[str, str], previous: str | None) -> tuple[bytes, str]:
    """Ask the device for a screenshot over MQTT and wait for an upload newer than ``previous``."""
    r = command(stack, headers, DEVICE, "screenshot")
    assert r.status_code in (200, 201, 202), r.text
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        got = requests.get(
            f"{stack.server_url}/api/v1/devices/{DEVICE}/screenshot", headers=headers, timeout=5
        )
        taken = got.headers.get("X-Taken-At")
        if got.status_code == 200 and taken is not None and taken != previous:
            return got.content, taken
        time.sleep(0.3)
    raise AssertionError(f"no new screenshot from {DEVICE}: {got.status_code} {got.text[:300]}")


def test_an_alert_covers_the_screen_the_screenshot_shows_it_and_restart_restarts(
    stack: Stack, tmp_path: Path
) -> None:
    headers = admin_headers(stack)
    config = stack.root / "devices" / f"{DEVICE}.toml"
    log = (tmp_path / "player.log").open("wb")  # a file, not a pipe nobody drains
    with xvfb(tmp_path / "x") as display, log:
        player = subprocess.Popen(
            [sys.executable, "-m", "signage_player.main", "--config", str(config),
             "--exit-after", "60"],
            env=display.env(), stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            wait_until(lambda: playing(stack, headers), 60, "a heartbeat with a card playing")
            before, taken = screenshot(stack, headers, None)
            assert red_fraction(before) < 0.2

            expires = datetime.now(UTC) + timedelta(minutes=10)
            r = requests.post(
                f"{stack.server_url}/api/v1/alerts",
                json={
                    "site_id": "adot",  # the gate: every screen below it shows it
                    "severity": "emergency",
                    "expires_at": expires.isoformat(),
                    "texts": {
                        "vi": {
                            "title": "Tạm dừng thông quan",
                            "body": "Cửa khẩu tạm dừng làm thủ tục do mưa lũ. "
                            "Xin chờ hướng dẫn của cán bộ biên phòng.",
                        },
                        "lo": {
                            "title": "ໂຈະການຜ່ານແດນຊົ່ວຄາວ",
                            "body": "ດ່ານໂຈະການບໍລິການຊົ່ວຄາວ ຍ້ອນນ້ຳຖ້ວມ. "
                            "ກະລຸນາລໍຖ້າຄຳແນະນຳຈາກເຈົ້າໜ້າທີ່ປ້ອງກັນຊາຍແດນ.",
                        },
                        "en": {
                            "title": "Crossing suspended",
                            "body": "The gate has suspended checks because of flooding. "
                            "Please wait for the border guards' instructions.",
                        },
                    },
                },
                headers=headers,
                timeout=5,
            )
            assert r.status_code == 201, r.text
            time.sleep(2)  # the design's budget: shown within 2 s
            during, taken = screenshot(stack, headers, taken)
            (ARTIFACTS / "e2e-alert.png").write_bytes(during)
            assert red_fraction(during) > 0.5, "the alert does not cover the screen"

            alert_id = r.json()["id"]
            cancel = requests.post(
                f"{stack.server_url}/api/v1/alerts/{alert_id}/cancel", headers=headers, timeout=5
            )
            assert cancel.status_code in (200, 201), cancel.text
            time.sleep(2)
            after, taken = screenshot(stack, headers, taken)
            assert red_fraction(after) < 0.2, "the cancelled alert is still on screen"

            # `restart`: the player ends with the code systemd's unit restarts on.
            r = command(stack, headers, DEVICE, "restart")
            assert r.status_code in (200, 201, 202), r.text
            player.wait(timeout=20)
            output = (tmp_path / "player.log").read_text(errors="replace")
            assert player.returncode == 75, output[-3000:]
        finally:
            if player.poll() is None:
                player.kill()
                player.wait(timeout=20)
