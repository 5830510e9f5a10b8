"""The device's TOML config: read, refused with a useful message, and documented."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest

from device_runtime.errors import SettingsError
from device_runtime.settings import DeviceSettings, load_settings
from signage_core.signing import SigningKey
from tests.support.pki import Pki

KEY = SigningKey.generate().public
DOC = Path(__file__).resolve().parents[2] / "docs" / "device-config.md"


def write(tmp_path: Path, extra: str = "", **replace: str) -> Path:
    lines = {
        "device_id": '"adot-hall-1"',
        "token": '"tok"',
        "server_url": '"https://signage.example/"',
        "trusted_keys": f'["{KEY.spec()}"]',
        "mqtt_url": '"mqtt://broker.example:1884"',
        "mqtt_password": '"pw"',
        "data_dir": '"data"',
    }
    lines.update(replace)
    path = tmp_path / "device.toml"
    text = "".join(f"{k} = {v}\n" for k, v in lines.items() if v) + extra
    path.write_text(text, encoding="utf-8")
    return path


def test_reads_a_config_with_defaults(tmp_path: Path) -> None:
    s = load_settings(write(tmp_path))

    assert s.device_id == "adot-hall-1"
    assert s.server_url == "https://signage.example"
    assert s.trusted_keys == (KEY,) and s.trusted_key_map == {KEY.keyid: KEY}
    assert (s.mqtt_host, s.mqtt_port) == ("broker.example", 1884)
    assert s.data_dir == tmp_path / "data"
    assert (s.poll_interval_s, s.heartbeat_interval_s, s.request_timeout_s) == (60, 30, 20)
    assert s.bandwidth_limit_bps is None and s.cache_quota_bytes is None
    assert s.mqtt_keepalive_s == 60


def test_reads_optional_keys(tmp_path: Path) -> None:
    extra = "poll_interval_s = 5\nbandwidth_limit_bps = 2000000\nmqtt_keepalive_s = 3\n"
    s = load_settings(write(tmp_path, extra))
    assert (s.poll_interval_s, s.bandwidth_limit_bps, s.mqtt_keepalive_s) == (5.0, 2000000, 3)
    assert s.portrait_rotation == 90
    assert load_settings(write(tmp_path, "portrait_rotation = 270\n")).portrait_rotation == 270


@pytest.mark.parametrize(
    ("extra", "replace", "key"),
    [
        ("pol_interval_s = 5\n", {}, "pol_interval_s"),
        ("poll_interval_s = -5\n", {}, "poll_interval_s"),
        ("mqtt_keepalive_s = 2.5\n", {}, "mqtt_keepalive_s"),
        ("cache_quota_bytes = true\n", {}, "cache_quota_bytes"),
        ("portrait_rotation = 45\n", {}, "portrait_rotation"),
        ("", {"device_id": '"Adot Hall"'}, "device_id"),
        ("", {"server_url": '"ftp://x"'}, "server_url"),
        ("", {"mqtt_url": '"tcp://x:1883"'}, "mqtt_url"),
        ("", {"mqtt_url": '"mqtt://x:port"'}, "mqtt_url"),
        ("", {"trusted_keys": '["0011223344556677:AAAA"]'}, "trusted_keys"),
        ("", {"trusted_keys": "[]"}, "trusted_keys"),
        ("", {"token": ""}, "token"),
        ("", {"token": "''"}, "token"),
    ],
)
def test_a_bad_key_is_named_with_the_file(
    tmp_path: Path, extra: str, replace: dict[str, str], key: str
) -> None:
    path = write(tmp_path, extra, **replace)
    with pytest.raises(SettingsError) as e:
        load_settings(path)
    assert key in str(e.value) and str(path) in str(e.value)


def test_unreadable_files_are_settings_errors(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="cannot read"):
        load_settings(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("device_id = ", encoding="utf-8")
    with pytest.raises(SettingsError, match="not valid TOML"):
        load_settings(bad)


def test_every_setting_is_documented() -> None:
    doc = DOC.read_text(encoding="utf-8")
    missing = [f.name for f in dataclasses.fields(DeviceSettings) if f"`{f.name}`" not in doc]
    assert not missing, f"docs/device-config.md does not describe {missing}"


def test_the_command_line_says_what_is_wrong_with_the_config(tmp_path: Path) -> None:
    path = write(tmp_path, "colour = 'red'\n")
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.run(
        [sys.executable, "-m", "device_runtime", "--config", str(path)],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode == 2
    assert "colour" in proc.stderr and str(path) in proc.stderr


def test_reads_mqtt_over_tls_with_files_next_to_the_config(tmp_path: Path) -> None:
    Pki(tmp_path, "ca").issue("dev", server=False)
    extra = 'mqtt_ca_file = "ca.pem"\nmqtt_cert_file = "dev.pem"\nmqtt_key_file = "dev.key"\n'
    s = load_settings(write(tmp_path, extra, mqtt_url='"mqtts://broker.example"'))
    assert s.mqtt_tls and (s.mqtt_host, s.mqtt_port) == ("broker.example", 8883)
    assert s.mqtt_ca_file == tmp_path / "ca.pem" and s.mqtt_key_file == tmp_path / "dev.key"


@pytest.mark.parametrize(
    ("extra", "url", "says"),
    [
        ('mqtt_ca_file = "missing.pem"\n', "mqtts://b:8883", "'mqtt_ca_file': no such file"),
        ('mqtt_ca_file = "ca.pem"\n', "mqtt://b:1883", 'use it with mqtt_url = "mqtts://'),
        ('mqtt_cert_file = "ca.pem"\n', "mqtts://b:8883", "go together"),
        ("", "ws://b:8883", "mqtts://host:8883 (TLS)"),
        ('mqtt_ca_file = "junk.pem"\n', "mqtts://b:8883", "not usable PEM files"),
    ],
)
def test_refuses_tls_keys_that_cannot_work(tmp_path: Path, extra: str, url: str, says: str) -> None:
    Pki(tmp_path, "ca")
    (tmp_path / "junk.pem").write_text("not a certificate")
    with pytest.raises(SettingsError) as e:
        load_settings(write(tmp_path, extra, mqtt_url=f'"{url}"'))
    assert says in str(e.value) and "device.toml" in str(e.value)
