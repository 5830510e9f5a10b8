"""`content-server relay-config`: the files of a gate relay, and the bridge account the
city broker gets from `mqtt-config`. The relay running for real, between devices and the
city, is tested in tests/e2e/test_gate_relay.py."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from content_server.datadir import open_store
from content_server.relay import check_password
from content_server.settings import Settings
from content_server.store import RelayStore
from signage_core import topics
from tests.server.content_server_kit import CliResult
from tests.support.mosquitto import MOSQUITTO, readable_tmp_dir
from tests.support.mqtt_watch import Watcher
from tests.support.waiting import free_port, wait_port

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
GATE_DEVICE, OTHER_DEVICE = "adot-hall-1", "hongvan-1"


@pytest.fixture
def relay_dir() -> Iterator[Path]:
    with readable_tmp_dir("cs-relay-") as folder:
        yield folder / "relay"


@pytest.fixture
def enrolled(imported: Settings, enrol_device: Callable[..., str]) -> Settings:
    enrol_device(imported, GATE_DEVICE, "adot-hall")
    enrol_device(imported, OTHER_DEVICE, "hongvan")
    return imported


def relay_config(
    cli: Callable[..., CliResult], settings: Settings, out: Path, *extra: str
) -> CliResult:
    return cli(
        "relay-config", "--data-dir", settings.data_dir, "--site", "adot",
        "--upstream", "https://signage.hue.example", "--upstream-mqtt", "mqtt://10.0.0.5:1883",
        "--port", "8080", "--mqtt-port", "1883", "--out", out, *extra,
    )  # fmt: skip


def bridge_password(out: Path) -> str:
    m = re.search(r"^remote_password (\S+)$", (out / "mosquitto.conf").read_text(), re.M)
    assert m is not None
    return m.group(1)


def stored_hashes(settings: Settings) -> dict[str, str]:
    store = open_store(settings)
    try:
        hashes = {d.id: d.mqtt_password_hash for d in store.devices()}
        row = RelayStore(store).relay("adot")
    finally:
        store.close()
    if row is not None:
        hashes[row.username] = row.password_hash
    return hashes


def test_relay_config_writes_nginx_and_mosquitto_for_the_gates_devices_only(
    cli: Callable[..., CliResult], enrolled: Settings, relay_dir: Path
) -> None:
    result = relay_config(cli, enrolled, relay_dir)
    assert result.returncode == 0, result.stderr
    assert "new bridge account relay-adot" in result.stdout

    # Mosquitto: the gate's device logs in with its usual password (the stored hash) ...
    hashes = stored_hashes(enrolled)
    passwd = (relay_dir / "mosquitto.passwd").read_text()
    assert passwd == f"{GATE_DEVICE}:{hashes[GATE_DEVICE]}\n"
    acl = (relay_dir / "mosquitto.acl").read_text()
    assert f"user {GATE_DEVICE}" in acl and OTHER_DEVICE not in acl
    assert "pattern write signage/v1/devices/%u/heartbeat" in acl
    conf = (relay_dir / "mosquitto.conf").read_text()
    assert "use_username_as_clientid true" in conf and "allow_anonymous false" in conf
    # ... and the bridge carries exactly its topics: up, down, and the alerts of its chain.
    bridged = sorted(line for line in conf.splitlines() if line.startswith("topic "))
    assert bridged == sorted(
        [
            f"topic {topics.status_topic(GATE_DEVICE)} out 1",
            f"topic {topics.heartbeat_topic(GATE_DEVICE)} out 1",
            f"topic {topics.cmd_topic(GATE_DEVICE)} in 1",
            *(f"topic {topics.alert_topic(s)} in 1" for s in ("adot-hall", "adot", "hue")),
        ]
    )
    assert "address 10.0.0.5:1883" in conf and "remote_username relay-adot" in conf
    assert check_password(bridge_password(relay_dir), hashes["relay-adot"])
    # The bridge password is a secret: not readable by everyone.
    for name in ("mosquitto.conf", "mosquitto.passwd"):
        assert (relay_dir / name).stat().st_mode & 0o007 == 0, name

    # nginx: every path it writes is inside the folder; TLS to the city is verified.
    nginx = (relay_dir / "nginx.conf").read_text()
    paths = re.findall(
        r"^\s*(?:pid|error_log|access_log|\w+_temp_path|proxy_cache_path) (\S+)", nginx, re.M
    )
    assert len(paths) == 10
    assert all(p.startswith(f"{relay_dir.resolve()}/") for p in paths), paths
    assert "proxy_ssl_verify on;" in nginx and "server signage.hue.example:443;" in nginx
    assert "listen 0.0.0.0:8080;" in nginx


def test_mqtt_config_gives_the_city_broker_the_bridge_account_and_revoking_keeps_it(
    cli: Callable[..., CliResult], enrolled: Settings, relay_dir: Path, tmp_path: Path
) -> None:
    assert relay_config(cli, enrolled, relay_dir).returncode == 0
    city = tmp_path / "city"
    written = cli("mqtt-config", "--data-dir", enrolled.data_dir, "--out", city, "--port", "1883")
    assert written.returncode == 0, written.stderr
    hashes = stored_hashes(enrolled)
    assert f"relay-adot:{hashes['relay-adot']}\n" in (city / "passwd").read_text()
    acl = (city / "acl").read_text()
    section = acl[acl.index("user relay-adot") :].strip().splitlines()
    assert section == [
        "user relay-adot",
        f"topic write {topics.status_topic(GATE_DEVICE)}",
        f"topic write {topics.heartbeat_topic(GATE_DEVICE)}",
        f"topic read {topics.cmd_topic(GATE_DEVICE)}",
        *(f"topic read {topics.alert_topic(s)}" for s in ("adot", "adot-hall", "hue")),
    ]

    revoked = cli("revoke-device", GATE_DEVICE, "--data-dir", enrolled.data_dir, "--mqtt-dir", city)
    assert revoked.returncode == 0, revoked.stderr
    assert "relay-adot:" in (city / "passwd").read_text()
    acl = (city / "acl").read_text()
    assert "user relay-adot" in acl and topics.cmd_topic(GATE_DEVICE) not in acl


def test_running_it_again_keeps_the_bridge_password_and_picks_up_new_devices(
    cli: Callable[..., CliResult],
    enrolled: Settings,
    relay_dir: Path,
    enrol_device: Callable[..., str],
) -> None:
    assert relay_config(cli, enrolled, relay_dir).returncode == 0
    password = bridge_password(relay_dir)
    enrol_device(enrolled, "adot-hall-2", "adot-hall")
    again = relay_config(cli, enrolled, relay_dir)
    assert again.returncode == 0, again.stderr
    assert "new bridge account" not in again.stdout
    assert bridge_password(relay_dir) == password
    assert "adot-hall-2:" in (relay_dir / "mosquitto.passwd").read_text()
    assert (
        f"topic {topics.cmd_topic('adot-hall-2')} in 1"
        in (relay_dir / "mosquitto.conf").read_text()
    )

    # A lost folder: a new password, and the store's hash follows it.
    shutil.rmtree(relay_dir)
    fresh = relay_config(cli, enrolled, relay_dir)
    assert "new bridge account relay-adot" in fresh.stdout
    assert check_password(bridge_password(relay_dir), stored_hashes(enrolled)["relay-adot"])
    assert not check_password(password, stored_hashes(enrolled)["relay-adot"])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--site", "nowhere"), "no site 'nowhere' on this server (sites: adot, adot-hall"),
        (("--upstream", "signage.hue"), "--upstream 'signage.hue' must look like http:// or"),
        (("--upstream-mqtt", "http://x"), "--upstream-mqtt 'http://x' must look like mqtt://"),
        (("--upstream", "https://x/api"), "no path"),
        (("--mqtt-port", "8080"), "--port and --mqtt-port must differ"),
        (("--port", "0"), "--port 0 is not a TCP port"),
        (("--slice-size", "lots"), "--slice-size 'lots' must be a size like 512k"),
    ],
)
def test_bad_input_is_refused_with_a_message_and_nothing_is_written(
    cli: Callable[..., CliResult],
    enrolled: Settings,
    relay_dir: Path,
    args: tuple[str, str],
    message: str,
) -> None:
    base = {
        "--site": "adot", "--upstream": "http://city:8000", "--upstream-mqtt": "mqtt://city",
        "--port": "8080", "--mqtt-port": "1883",
    }  # fmt: skip
    base[args[0]] = args[1]
    result = cli(
        "relay-config", "--data-dir", enrolled.data_dir, "--out", relay_dir,
        *(x for pair in base.items() for x in pair),
    )  # fmt: skip
    assert result.returncode == 1
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert not relay_dir.exists()
    assert "relay-adot" not in stored_hashes(enrolled)


@pytest.mark.live
def test_nginx_accepts_the_config(
    cli: Callable[..., CliResult], enrolled: Settings, relay_dir: Path
) -> None:
    # nginx resolves the city's name when it starts (docs/operations.md): an address here.
    written = relay_config(
        cli, enrolled, relay_dir, "--listen", "127.0.0.1", "--upstream", "https://127.0.0.1:8443"
    )
    assert written.returncode == 0, written.stderr
    checked = subprocess.run(
        [NGINX, "-t", "-c", str(relay_dir / "nginx.conf")],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert checked.returncode == 0, checked.stderr
    assert "test is successful" in checked.stderr


@pytest.mark.live
def test_the_city_broker_lets_the_bridge_carry_only_its_gates_topics(
    cli: Callable[..., CliResult], enrolled: Settings, relay_dir: Path
) -> None:
    """Real Mosquitto with mqtt-config's files: the bridge account writes the gate device's
    status and heartbeat and reads its cmd and its alerts, and nothing of another gate."""
    assert relay_config(cli, enrolled, relay_dir).returncode == 0
    city = relay_dir.parent / "city"
    port = free_port()
    written = cli("mqtt-config", "--data-dir", enrolled.data_dir, "--out", city, "--port", port)
    assert written.returncode == 0, written.stderr
    server_password = enrolled.mqtt_server_password_path.read_text().strip()
    log = (relay_dir.parent / "city.log").open("wb")
    proc = subprocess.Popen([MOSQUITTO, "-c", str(city / "mosquitto.conf")], stdout=log, stderr=log)
    server = bridge = None
    try:
        wait_port(port)
        server = Watcher(port, "content-server", server_password, f"{topics.PREFIX}/devices/#")
        bridge = Watcher(port, "relay-adot", bridge_password(relay_dir), f"{topics.PREFIX}/#")
        # Both are subscribed once a message of each reaches the other.
        doc = json.dumps({"n": 0}).encode()
        deadline = time.monotonic() + 10
        while not any(t == topics.cmd_topic(GATE_DEVICE) for t, _, _ in bridge.messages):
            assert time.monotonic() < deadline, "the bridge account never got its cmd topic"
            server.client.publish(topics.cmd_topic(GATE_DEVICE), doc, qos=1).wait_for_publish(5)
            time.sleep(0.2)
        while not any(t == topics.heartbeat_topic(GATE_DEVICE) for t, _, _ in server.messages):
            assert time.monotonic() < deadline, "the server never got the bridged heartbeat"
            bridge.client.publish(topics.heartbeat_topic(GATE_DEVICE), doc, qos=1)
            time.sleep(0.2)
        bridge.messages.clear()
        server.messages.clear()

        # Down: the server publishes another gate's command and alert first, then ours.
        doc = json.dumps({"n": 1}).encode()
        for topic in (topics.cmd_topic(OTHER_DEVICE), topics.alert_topic("hongvan")):
            server.client.publish(topic, doc, qos=1).wait_for_publish(5)
        for topic in (topics.cmd_topic(GATE_DEVICE), topics.alert_topic("adot")):
            server.client.publish(topic, doc, qos=1).wait_for_publish(5)
        bridge.wait_for(lambda t, d: t == topics.alert_topic("adot"), 10)
        got = {t for t, _, _ in bridge.messages}
        assert topics.cmd_topic(GATE_DEVICE) in got
        assert not got & {topics.cmd_topic(OTHER_DEVICE), topics.alert_topic("hongvan")}, got

        # Up: forged topics first, then the gate device's heartbeat.
        for topic in (
            topics.heartbeat_topic(OTHER_DEVICE),
            topics.status_topic(OTHER_DEVICE),
            topics.cmd_topic(GATE_DEVICE),
        ):
            bridge.client.publish(topic, b'{"forged": true}', qos=1).wait_for_publish(5)
        bridge.client.publish(
            topics.heartbeat_topic(GATE_DEVICE), b'{"seq": 1}', qos=1
        ).wait_for_publish(5)
        server.wait_for(lambda t, d: t == topics.heartbeat_topic(GATE_DEVICE), 10)
        assert not [m for m in server.messages if b"forged" in m[1]], server.messages
    finally:
        for w in (server, bridge):
            if w is not None:
                w.close()
        proc.terminate()
        proc.wait(10)
        log.close()
