"""The operator's commands: init, add-device, publish, mqtt-config, serve.

Most cases run the command's ``main()`` in-process (``cli``); a real process
(``run_cli``) where the exit code, the output or a running server matter.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import stat
import subprocess
import sys
import time
import tomllib
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest

from content_server.settings import Settings
from content_server.store import Store
from signage_core.signing import PublicKey
from tests.server.content_server_kit import CliResult, cli_add_device, stored
from tests.support.waiting import free_port

Run = Callable[..., subprocess.CompletedProcess[str]]
Cli = Callable[..., CliResult]


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def dump(settings: Settings) -> str:
    return stored(settings, Store.dump)


def test_init_creates_everything_and_shows_a_generated_password_once(
    run_cli: Run, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    result = run_cli("init", "--data-dir", data)
    assert result.returncode == 0, result.stderr
    (line,) = [x for x in result.stdout.splitlines() if x.startswith("admin password")]
    password = line.split(": ", 1)[1]
    assert len(password) >= 16
    assert mode(data / "keys/signing.key") == 0o600
    assert mode(data / "keys/mqtt-server.password") == 0o600
    assert mode(data) == 0o700
    assert (data / "content.db").is_file() and (data / "assets").is_dir()
    spec = next(x for x in result.stdout.splitlines() if x.startswith("signing key: "))
    PublicKey.parse(spec.removeprefix("signing key: "))

    again = run_cli("init", "--data-dir", data)
    assert again.returncode == 2
    assert "already initialised; refusing to initialise it again" in again.stderr
    assert password not in again.stdout + again.stderr
    assert len(again.stderr.strip().splitlines()) == 1


def test_init_again_with_the_same_admin_changes_nothing_and_succeeds(
    cli: Cli, tmp_path: Path, settings: Settings, admin_password: str
) -> None:
    secret = tmp_path / "pw"
    secret.write_text(admin_password + "\n")
    before = (settings.signing_key_path.read_bytes(), dump(settings))
    result = cli("init", "--data-dir", settings.data_dir, "--admin-password-file", secret)
    assert result.returncode == 0
    assert "nothing changed" in result.stdout
    assert (settings.signing_key_path.read_bytes(), dump(settings)) == before

    secret.write_text("another long password")
    assert (
        cli("init", "--data-dir", settings.data_dir, "--admin-password-file", secret).returncode
        == 2
    )


def test_init_refuses_a_folder_that_holds_something_else(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "photos").mkdir()
    (tmp_path / "photos/holiday.jpg").write_bytes(b"x")
    result = cli("init", "--data-dir", tmp_path / "photos")
    assert result.returncode == 2
    assert "is not empty and is not a content-server data folder" in result.stderr
    assert os.listdir(tmp_path / "photos") == ["holiday.jpg"]


def test_init_refuses_a_short_password_and_leaves_nothing(cli: Cli, tmp_path: Path) -> None:
    secret = tmp_path / "pw"
    secret.write_text("short")
    result = cli("init", "--data-dir", tmp_path / "data", "--admin-password-file", secret)
    assert result.returncode == 1
    assert "at least 10 characters" in result.stderr
    assert not (tmp_path / "data" / "content.db").exists()


@pytest.mark.usefixtures("imported")
def test_add_device_writes_a_private_config_that_works(
    cli: Cli, settings: Settings, tmp_path: Path
) -> None:
    out = tmp_path / "devices" / "adot-hall-1.toml"
    result = cli_add_device(cli, settings, out, "--device-data-dir", "/srv/signage")
    assert result.returncode == 0, result.stderr
    assert "published manifest version 1 for adot-hall-1" in result.stdout
    assert mode(out) == 0o600
    config = tomllib.loads(out.read_text())
    assert set(config) == {
        "device_id", "token", "server_url", "trusted_keys", "mqtt_url", "mqtt_password", "data_dir",
    }  # fmt: skip
    assert config["device_id"] == "adot-hall-1"
    assert config["data_dir"] == "/srv/signage"
    assert config["server_url"] == "http://127.0.0.1:8000"
    (key,) = map(PublicKey.parse, config["trusted_keys"])
    store = Store.open(settings.db_path)
    try:
        device = store.device("adot-hall-1")
        dump = store.dump()
        envelope = store.manifest_envelope("adot-hall-1", 1)
    finally:
        store.close()
    assert device is not None
    assert device.token_hash == hashlib.sha256(config["token"].encode()).hexdigest()
    assert config["token"] not in dump and config["mqtt_password"] not in dump
    assert envelope is not None and json.loads(envelope)["signatures"][0]["keyid"] == key.keyid


@pytest.mark.usefixtures("imported")
def test_add_device_refuses_twice_and_replaces_on_request(
    cli: Cli, settings: Settings, tmp_path: Path
) -> None:
    out = tmp_path / "dev.toml"
    assert cli_add_device(cli, settings, out).returncode == 0
    first = out.read_text()
    refused = cli_add_device(cli, settings, tmp_path / "other.toml")
    assert refused.returncode == 1
    assert "already enrolled; add --replace" in refused.stderr
    assert not (tmp_path / "other.toml").exists()
    assert cli_add_device(cli, settings, out).returncode == 1  # the config exists
    assert out.read_text() == first
    replaced = cli_add_device(cli, settings, out, "--replace")
    assert replaced.returncode == 0
    assert "re-enrolled" in replaced.stdout
    assert tomllib.loads(out.read_text())["token"] != tomllib.loads(first)["token"]


def test_add_device_at_an_unknown_site_writes_nothing(
    cli: Cli, settings: Settings, tmp_path: Path
) -> None:
    out = tmp_path / "dev.toml"
    result = cli_add_device(cli, settings, out, site="nowhere")
    assert result.returncode == 1
    assert "site 'nowhere' does not exist" in result.stderr
    assert list(tmp_path.glob("*dev.toml*")) == []


@pytest.mark.usefixtures("imported")
def test_publish_signs_a_higher_version_for_every_device(
    run_cli: Run, settings: Settings, enrol_device: Callable[..., str]
) -> None:
    enrol_device(settings, "adot-hall-1", "adot-hall")
    enrol_device(settings, "hongvan-1", "hongvan")
    result = run_cli("publish", "--data-dir", settings.data_dir)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "published manifest version 3 for adot-hall-1, hongvan-1"


@pytest.mark.usefixtures("imported")
def test_mqtt_config_writes_broker_files_from_stored_hashes(
    cli: Cli, settings: Settings, tmp_path: Path
) -> None:
    device_config = tmp_path / "dev.toml"
    assert cli_add_device(cli, settings, device_config).returncode == 0
    password = tomllib.loads(device_config.read_text())["mqtt_password"]
    out = tmp_path / "mosquitto"
    result = cli("mqtt-config", "--data-dir", settings.data_dir, "--out", out, "--port", "18830")
    assert result.returncode == 0, result.stderr
    passwd = dict(line.split(":", 1) for line in (out / "passwd").read_text().splitlines())
    assert set(passwd) == {"adot-hall-1", "content-server"}
    _, _, iterations, salt, digest = passwd["adot-hall-1"].split("$")
    expected = hashlib.pbkdf2_hmac(
        "sha512", password.encode(), base64.b64decode(salt), int(iterations)
    )
    assert base64.b64decode(digest) == expected
    assert "listener 18830 127.0.0.1" in (out / "mosquitto.conf").read_text()
    assert "user adot-hall-1" in (out / "acl").read_text()


@pytest.mark.live
def test_serve_answers_and_says_where(settings: Settings) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "content_server.cli", "serve", "--data-dir", str(settings.data_dir),
         "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as r:
                    assert json.load(r) == {"status": "ok"}
                    break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    pytest.fail("the server did not start")
                time.sleep(0.1)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/keys", timeout=1) as r:
            assert r.headers["Date"]  # devices bound their clock with it
    finally:
        proc.terminate()
        output, _ = proc.communicate(timeout=10)
    assert f"serving {settings.data_dir} on http://127.0.0.1:{port}" in output
    assert "Traceback" not in output


def test_serve_on_an_uninitialised_folder_is_one_clear_line(run_cli: Run, tmp_path: Path) -> None:
    result = run_cli("serve", "--data-dir", tmp_path / "empty", "--port", "1")
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0
    assert "run `content-server init" in result.stderr


def test_a_missing_data_dir_is_a_usage_error(run_cli: Run) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "content_server.cli", "publish"],
        capture_output=True, text=True, timeout=60,
        env={k: v for k, v in os.environ.items() if not k.startswith("CONTENT_SERVER_")},
    )  # fmt: skip
    assert result.returncode == 2
    assert "give --data-dir DIR" in result.stderr
