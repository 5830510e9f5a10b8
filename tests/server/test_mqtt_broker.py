"""The Mosquitto files from `content-server mqtt-config` let an enrolled device in, and
nobody else, though the server stores only the hash of the device's password."""

from __future__ import annotations

import os
import socket
import subprocess
import threading
import time
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest

from content_server.settings import Settings
from tests.server.content_server_kit import CliResult, cli_add_device
from tests.support.mosquitto import MOSQUITTO, readable_tmp_dir
from tests.support.mqtt_watch import close_client
from tests.support.waiting import free_port

pytestmark = pytest.mark.skipif(not os.path.exists(MOSQUITTO), reason="needs Mosquitto")


def connects(port: int, username: str, password: str) -> bool:
    done = threading.Event()
    outcome: dict[str, Any] = {}

    def on_connect(client: mqtt.Client, userdata: Any, flags: Any, rc: Any, props: Any) -> None:
        outcome["ok"] = not rc.is_failure
        done.set()

    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"test-{username}")
    client.username_pw_set(username, password)
    client.on_connect = on_connect
    client.connect("127.0.0.1", port, keepalive=10)
    client.loop_start()
    try:
        assert done.wait(10), "no CONNACK from Mosquitto"
    finally:
        close_client(client)
    return bool(outcome["ok"])


@pytest.fixture
def broker_dir() -> Iterator[Path]:
    with readable_tmp_dir("cs-mosquitto-") as folder:
        yield folder


@pytest.mark.usefixtures("imported")
def test_an_enrolled_device_connects_with_its_config_password_and_a_wrong_one_does_not(
    cli: Callable[..., CliResult], settings: Settings, tmp_path: Path, broker_dir: Path
) -> None:
    config = tmp_path / "dev.toml"
    enrolled = cli_add_device(cli, settings, config)
    assert enrolled.returncode == 0, enrolled.stderr
    password = tomllib.loads(config.read_text())["mqtt_password"]
    port = free_port()
    written = cli(
        "mqtt-config", "--data-dir", settings.data_dir, "--out", broker_dir, "--port", port
    )
    assert written.returncode == 0, written.stderr
    server_password = settings.mqtt_server_password_path.read_text().strip()

    log = open(broker_dir / "log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [MOSQUITTO, "-c", str(broker_dir / "mosquitto.conf")], stdout=log, stderr=log
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                assert time.monotonic() < deadline, (broker_dir / "log").read_text()
                time.sleep(0.05)
        assert connects(port, "adot-hall-1", password)
        assert not connects(port, "adot-hall-1", password + "x")
        assert not connects(port, "hongvan-1", password)
        assert connects(port, "content-server", server_password)
    finally:
        proc.terminate()
        proc.wait(10)
        log.close()


def test_mqtt_config_writes_the_tls_listener_and_says_what_is_missing(
    cli: Callable[..., CliResult], settings: Settings, broker_dir: Path, tmp_path: Path
) -> None:
    cert, key, ca = tmp_path / "server.crt", tmp_path / "server.key", tmp_path / "ca.crt"
    for f in (cert, key, ca):
        f.write_text("PEM")
    base = ("mqtt-config", "--data-dir", settings.data_dir, "--out", broker_dir, "--port", "8883")

    half = cli(*base, "--tls-cert", cert)
    assert half.returncode != 0 and "--tls-cert and --tls-key" in half.stderr
    missing = cli(*base, "--tls-cert", cert, "--tls-key", tmp_path / "nope.key")
    assert missing.returncode != 0 and "--tls-key: no such file" in missing.stderr
    assert "Traceback" not in half.stderr + missing.stderr

    done = cli(*base, "--tls-cert", cert, "--tls-key", key, "--tls-ca", ca, "--server-port", "1883")
    assert done.returncode == 0, done.stderr
    conf = (broker_dir / "mosquitto.conf").read_text().splitlines()
    device_listener = conf[conf.index("listener 8883 127.0.0.1") :]
    assert device_listener[1:5] == [
        "use_username_as_clientid true",
        f"certfile {cert}",
        f"keyfile {key}",
        f"cafile {ca}",
    ]
    assert "listener 1883 127.0.0.1" in conf
