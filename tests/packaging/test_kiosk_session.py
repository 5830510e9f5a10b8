"""packaging/kiosk-session: valid shell, and on a real X server (Xvfb standing in for
Xorg) it does what its README says: a display only cookie holders may draw on, with
no screen saver, and ``prepare`` returns once the display answers (or says why not)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from signage_core.signing import SigningKey

ROOT = Path(__file__).resolve().parents[2]
FOLDER = ROOT / "packaging" / "kiosk-session"
SESSION = FOLDER / "kiosk-session"
SCRIPTS = [SESSION, FOLDER / "install-device"]


@pytest.mark.live
@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_scripts_are_valid_bash_and_executable(script: Path) -> None:
    proc = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    assert os.access(script, os.X_OK)


def _free_display() -> str:
    for n in range(120, 400):
        if not Path(f"/tmp/.X{n}-lock").exists() and not Path(f"/tmp/.X11-unix/X{n}").exists():
            return f":{n}"
    raise AssertionError("no free X display number")


def _xset_q(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["xset", "q"], env=env, capture_output=True, text=True, timeout=30)


@pytest.fixture
def session(tmp_path: Path) -> Iterator[dict[str, str]]:
    """``kiosk-session server`` on Xvfb, then ``prepare``; the environment of a client."""
    env = {
        **os.environ,
        "HOME": str(tmp_path),
        "SIGNAGE_DISPLAY": _free_display(),
        "XAUTHORITY": str(tmp_path / ".Xauthority"),
        "SIGNAGE_X_SERVER": "Xvfb",
        "SIGNAGE_X_ARGS": "-screen 0 640x480x24",
    }
    log = (tmp_path / "x.log").open("wb")
    server = subprocess.Popen([str(SESSION), "server"], env=env, stderr=log, stdout=log)
    try:
        prepare = subprocess.run(
            [str(SESSION), "prepare"], env=env, capture_output=True, text=True, timeout=120
        )
        assert prepare.returncode == 0, prepare.stderr + (tmp_path / "x.log").read_text()
        assert "ready" in prepare.stderr
        yield {**env, "DISPLAY": env["SIGNAGE_DISPLAY"]}
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


@pytest.mark.live
def test_the_display_has_no_screen_saver_and_only_cookie_holders_draw(
    session: dict[str, str],
) -> None:
    q = _xset_q(session)
    assert q.returncode == 0, q.stderr
    assert "timeout:  0 " in q.stdout  # the screen saver never starts
    assert Path(session["XAUTHORITY"]).stat().st_mode & 0o077 == 0
    stranger = {k: v for k, v in session.items() if k != "XAUTHORITY"}
    stranger["HOME"] = "/nonexistent"
    assert _xset_q(stranger).returncode != 0  # no cookie, no access


@pytest.mark.live
def test_prepare_gives_up_with_a_message_when_no_display_answers(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "SIGNAGE_DISPLAY": _free_display(),
        "XAUTHORITY": str(tmp_path / "none"),
        "SIGNAGE_X_WAIT_S": "1",
    }
    proc = subprocess.run(
        [str(SESSION), "prepare"], env=env, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 1
    assert "did not answer" in proc.stderr and "journalctl -u signage-x" in proc.stderr


@pytest.mark.live
def test_an_unknown_command_is_refused_with_the_usage() -> None:
    proc = subprocess.run([str(SESSION)], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2 and "usage" in proc.stderr


INSTALL = FOLDER / "install-device"


def _device(tmp_path: Path, extra: str = "") -> tuple[Path, Path]:
    """A stand-in for dist/signage-player that runs the player from source, and a config."""
    binary = tmp_path / "usb" / "signage-player"
    binary.parent.mkdir(parents=True)
    binary.write_text(
        f'#!/bin/sh\nPYTHONPATH={ROOT} exec {sys.executable} -m signage_player.main "$@"\n',
        encoding="utf-8",
    )
    binary.chmod(0o755)
    config = tmp_path / "usb" / "adot-hall-1.toml"
    key = SigningKey.generate().public
    config.write_text(
        'device_id = "adot-hall-1"\ntoken = "tok"\nserver_url = "https://signage.example"\n'
        'mqtt_url = "mqtt://signage.example:1883"\nmqtt_password = "pw"\n'
        f'trusted_keys = ["{key.spec()}"]\ndata_dir = "/var/lib/border-signage"\n{extra}',
        encoding="utf-8",
    )
    return binary, config


def _install(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(INSTALL), *map(str, args)], capture_output=True, text=True, timeout=120
    )


@pytest.mark.live
def test_install_device_puts_each_file_where_the_units_expect_it(tmp_path: Path) -> None:
    binary, config = _device(tmp_path)
    root = tmp_path / "root"
    proc = _install("--binary", binary, "--config", config, "--root", root)
    assert proc.returncode == 0, proc.stderr
    installed = root / "usr/local/bin/signage-player"
    assert installed.read_bytes() == binary.read_bytes() and os.access(installed, os.X_OK)
    session = root / "usr/local/lib/border-signage/kiosk-session"
    assert session.read_bytes() == SESSION.read_bytes()
    device = root / "etc/border-signage/device.toml"
    assert device.read_text() == config.read_text()
    assert device.stat().st_mode & 0o777 == 0o640  # the token and MQTT password are in it
    for unit in ("signage-x.service", "signage-player.service"):
        text = (root / "etc/systemd/system" / unit).read_text()
        for path in re.findall(r"^Exec\w+=(/\S+)", text, re.M):
            assert (root / path.lstrip("/")).is_file(), f"{unit} runs {path}, not installed"
        assert "/etc/border-signage/device.toml" in text or unit == "signage-x.service"
    wrapper = (root / "etc/X11/Xwrapper.config").read_text()
    assert "allowed_users=anybody" in wrapper and "needs_root_rights=yes" in wrapper
    assert "would run: systemctl enable signage-x.service signage-player.service" in proc.stdout
    assert "would run: systemctl set-default graphical.target" in proc.stdout
    assert "good configuration for device adot-hall-1" in proc.stdout


@pytest.mark.live
def test_install_device_refuses_a_bad_config_and_enables_nothing(tmp_path: Path) -> None:
    binary, config = _device(tmp_path, extra="colour = 'red'\n")
    proc = _install("--binary", binary, "--config", config, "--root", tmp_path / "root")
    assert proc.returncode == 2
    assert "colour" in proc.stderr and "nothing was enabled" in proc.stderr
    assert "systemctl enable" not in proc.stdout


@pytest.mark.live
def test_install_device_wants_the_ca_the_config_names(tmp_path: Path) -> None:
    binary, config = _device(tmp_path, extra='mqtt_ca_file = "/etc/border-signage/mqtt-ca.pem"\n')
    proc = _install("--binary", binary, "--config", config, "--root", tmp_path / "root")
    assert proc.returncode == 2
    assert "--ca FILE" in proc.stderr
    assert not (tmp_path / "root" / "etc").exists()  # refused before anything was written
