"""The console entry: ``--headless`` must run the runtime without importing Kivy."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from signage_player.main import parse_args
from tests.support.systemd import notifications_until_stopping

ROOT = Path(__file__).resolve().parent.parent.parent

HEADLESS = """
import sys, types

calls = []
settings = types.SimpleNamespace(device_id="adot-hall-1", data_dir="/tmp")
pkg = types.ModuleType("device_runtime")
pkg.__path__ = []
mod_errors = types.ModuleType("device_runtime.errors")
mod_errors.SettingsError = type("SettingsError", (Exception,), {})
mod_settings = types.ModuleType("device_runtime.settings")
mod_settings.load_settings = lambda path: calls.append(("load", path)) or settings
mod_headless = types.ModuleType("device_runtime.headless")
mod_headless.run_headless = lambda s, **kw: calls.append(("run", s.device_id, kw)) or 3
sys.modules.update({
    "device_runtime": pkg,
    "device_runtime.errors": mod_errors,
    "device_runtime.settings": mod_settings,
    "device_runtime.headless": mod_headless,
})

from signage_player.main import main

rc = main(["--config", "device.toml", "--headless"])
kivy = sorted(m for m in sys.modules if m == "kivy" or m.startswith("kivy."))
assert rc == 3, rc
app = {"app_name": "signage-player", "app_version": "0.1.0"}
assert calls == [("load", "device.toml"), ("run", "adot-hall-1", app)], calls
assert not kivy, kivy
print("headless ok")
"""


@pytest.mark.live
def test_headless_runs_the_runtime_and_never_imports_kivy() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", HEADLESS],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert "headless ok" in proc.stdout


def test_demo_options_parse() -> None:
    args = parse_args(
        ["--config", "d.toml", "--windowed", "--screenshot", "s.png", "--exit-after", "9"]
    )
    assert (args.config, args.windowed, args.headless) == ("d.toml", True, False)
    assert (args.screenshot, args.screenshot_after, args.exit_after) == ("s.png", 5.0, 9.0)


def _device_config(tmp_path: Path, **extra: str) -> Path:
    from signage_core.signing import SigningKey

    key = SigningKey.generate().public
    lines = {
        "device_id": '"adot-hall-1"',
        "token": '"tok"',
        # Nothing listens on port 9: an offline post.
        "server_url": '"http://127.0.0.1:9"',
        "mqtt_url": '"mqtt://127.0.0.1:9"',
        "mqtt_password": '"pw"',
        "trusted_keys": f'["{key.spec()}"]',
        "data_dir": f'"{tmp_path / "data"}"',
        **extra,
    }
    path = tmp_path / "device.toml"
    path.write_text("".join(f"{k} = {v}\n" for k, v in lines.items()), encoding="utf-8")
    return path


def _player(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "signage_player.main", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


@pytest.mark.live
def test_version_prints_the_version_and_exits() -> None:
    from signage_player import __version__

    proc = _player("--version")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"signage-player {__version__}"


@pytest.mark.live
def test_check_config_says_a_good_file_is_good_and_touches_nothing(tmp_path: Path) -> None:
    proc = _player("--check-config", str(_device_config(tmp_path)))
    assert proc.returncode == 0, proc.stderr
    assert "good configuration for device adot-hall-1" in proc.stdout
    assert not (tmp_path / "data").exists()  # no runtime started, no cache made


@pytest.mark.live
def test_check_config_says_what_is_wrong_with_a_bad_file(tmp_path: Path) -> None:
    proc = _player("--check-config", str(_device_config(tmp_path, colour='"red"')))
    assert proc.returncode == 2
    assert "colour" in proc.stderr and "device.toml" in proc.stderr
    assert _player("--check-config", str(tmp_path / "missing.toml")).returncode == 2


def test_config_or_check_config_is_required() -> None:
    with pytest.raises(SystemExit):
        parse_args([])
    with pytest.raises(SystemExit):
        parse_args(["--config", "a.toml", "--check-config", "a.toml"])


@pytest.mark.live
@pytest.mark.display
def test_under_systemd_the_window_says_ready_and_pings_the_watchdog(tmp_path: Path) -> None:
    import socket

    from tests.support.xvfb import xvfb

    with (
        xvfb(tmp_path / "x") as display,
        socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock,
    ):
        sock.bind(str(tmp_path / "notify"))
        sock.settimeout(60)
        env = display.env(NOTIFY_SOCKET=str(tmp_path / "notify"), WATCHDOG_USEC="400000")
        env.pop("WATCHDOG_PID", None)
        config = str(_device_config(tmp_path))
        command = [sys.executable, "-m", "signage_player.main", "--config", config]
        proc = subprocess.Popen(
            [*command, "--windowed", "--exit-after", "4"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        messages = notifications_until_stopping(sock, proc)
    assert messages[0] == b"READY=1"
    # 0.2 s apart over the 4 s the window ran: a generous lower bound for busy cores.
    assert messages[1:] == [b"WATCHDOG=1"] * (len(messages) - 1)
    assert len(messages) >= 4
