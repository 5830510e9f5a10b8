"""MQTT over TLS end to end, set up only with the operator's commands: a throwaway CA
made here, Mosquitto's TLS listener written by `content-server mqtt-config --tls-*`, the
device config by `add-device --mqtt-ca-file`, the server's ingest (`serve`, CA from
CONTENT_SERVER_MQTT_CA_FILE) and a device process both over TLS; a device or a server
given the wrong CA does not talk to the broker and says why."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import requests

from device_runtime import Runtime
from device_runtime.settings import load_settings
from tests.support.mosquitto import MOSQUITTO, readable_tmp_dir
from tests.support.pki import Pki
from tests.support.stack import Stack, _cli
from tests.support.waiting import wait_port, wait_until

pytestmark = [
    pytest.mark.live,
    pytest.mark.skipif(not os.path.exists(MOSQUITTO), reason="needs Mosquitto"),
]

DEVICE = "adot-hall-1"


@pytest.fixture
def pki_dir() -> Iterator[Path]:
    with readable_tmp_dir("signage-pki-") as folder:
        yield folder


def _serve(stack: Stack, name: str, port: int, mqtt_url: str, ca_file: Path) -> None:
    stack.start_device(
        name,
        [_cli("content-server"), "serve", "--data-dir", str(stack.data_dir),
         "--host", "127.0.0.1", "--port", str(port), "--mqtt-url", mqtt_url],
        env={
            "CONTENT_SERVER_MQTT_PASSWORD": stack.mqtt_server_password,
            "CONTENT_SERVER_MQTT_CA_FILE": str(ca_file),
        },
    )  # fmt: skip


def test_server_and_device_speak_mqtt_over_tls_and_a_wrong_ca_is_refused(
    tmp_path: Path, pki_dir: Path
) -> None:
    ca = Pki(pki_dir, "border-ca")
    server_cert, server_key = ca.issue("broker", server=True)
    client_cert, client_key = ca.issue(DEVICE, server=False)
    wrong = Pki(pki_dir, "someone-else-ca")

    stack = Stack(tmp_path / "stack")
    try:
        stack.init()
        port = stack.mqtt_port
        config = stack.root / "devices" / f"{DEVICE}.toml"
        config.parent.mkdir(parents=True, exist_ok=True)
        stack.run(
            "add-device", "--data-dir", str(stack.data_dir), "--site", "adot-hall",
            "--device-id", DEVICE, "--server-url", stack.server_url,
            "--mqtt-url", f"mqtts://localhost:{port}", "--mqtt-ca-file", str(ca.ca_file),
            "--config-out", str(config), "--device-data-dir", str(stack.root / "device"),
        )  # fmt: skip
        assert f'mqtt_ca_file = "{ca.ca_file}"' in config.read_text()
        with config.open("a") as f:  # this device also shows a client certificate
            f.write(f'mqtt_cert_file = "{client_cert}"\nmqtt_key_file = "{client_key}"\n')
            f.write("heartbeat_interval_s = 1\n")
        stack.run(
            "mqtt-config", "--data-dir", str(stack.data_dir), "--out", str(stack.broker_dir),
            "--port", str(port), "--tls-cert", str(server_cert), "--tls-key", str(server_key),
            "--tls-ca", str(ca.ca_file),
            "--server-password-file", str(stack.root / "mqtt-server-password"),
        )  # fmt: skip
        stack.start_device("mosquitto", [MOSQUITTO, "-c", str(stack.broker_dir / "mosquitto.conf")])
        wait_port(port)

        _serve(stack, "server", stack.server_port, f"mqtts://127.0.0.1:{port}", ca.ca_file)
        wait_until(lambda: _up(stack.server_url), 30, f"the server:\n{stack.log('server')}")
        stack.start_device(
            "device", [sys.executable, "-m", "device_runtime", "--config", str(config)]
        )

        token = requests.post(
            f"{stack.server_url}/api/v1/auth/token",
            data={"username": "admin", "password": stack.admin_password},
            timeout=5,
        ).json()["access_token"]

        def health() -> dict[str, Any]:
            r = requests.get(
                f"{stack.server_url}/api/v1/devices/{DEVICE}",
                headers={"Authorization": f"Bearer {token}"},
                timeout=5,
            )
            assert r.status_code == 200, r.text
            return dict(r.json()["health"])

        # Both ends over TLS: the device's status and heartbeats reach the server's ingest.
        wait_until(
            lambda: health()["state"] == "online" and health()["last_heartbeat_at"],
            30,
            f"the device's heartbeat over TLS\n{stack.log('device')}\n{stack.log('server')}",
        )

        # A device given the wrong CA never talks to the broker and says why.
        settings = replace(
            load_settings(config), mqtt_ca_file=wrong.ca_file, data_dir=tmp_path / "other"
        )
        rt = Runtime(settings, enable_mqtt=True)
        rt.start()
        try:
            link = rt.link
            assert link is not None
            message = wait_until(lambda: link.tls_error, 20, "the device's TLS error")
            assert "is not trusted" in message and str(wrong.ca_file) in message
            assert not link.connected
        finally:
            rt.stop()

        # So does a server given the wrong CA.
        other_port = stack.server_port + 1 if stack.server_port < 65000 else stack.server_port - 1
        _serve(stack, "server-wrong-ca", other_port, f"mqtts://127.0.0.1:{port}", wrong.ca_file)
        wait_until(
            lambda: "is not trusted" in stack.log("server-wrong-ca"),
            30,
            f"the server's TLS error\n{stack.log('server-wrong-ca')}",
        )
        assert "CONTENT_SERVER_MQTT_CA_FILE" in stack.log("server-wrong-ca")
    finally:
        stack.stop()


def _up(url: str) -> bool:
    try:
        return requests.get(f"{url}/healthz", timeout=1).ok
    except requests.RequestException:
        return False
