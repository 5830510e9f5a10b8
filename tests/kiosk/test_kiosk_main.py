"""``kiosk-app``: its command line and its settings (the player's TOML plus ``kiosk_*`` keys)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from device_runtime.errors import SettingsError
from kiosk_app import __version__
from kiosk_app.config import KioskSettings, load_kiosk_config
from signage_core.signing import SigningKey

ROOT = Path(__file__).resolve().parents[2]
KEY = SigningKey.generate().public
DOC = ROOT / "docs" / "device-config.md"


def write(tmp_path: Path, extra: str = "") -> Path:
    path = tmp_path / "kiosk.toml"
    path.write_text(
        'device_id = "adot-kiosk-1"\ntoken = "tok"\nserver_url = "https://signage.example"\n'
        f'trusted_keys = ["{KEY.spec()}"]\nmqtt_url = "mqtt://broker.example:1883"\n'
        'mqtt_password = "pw"\ndata_dir = "data"\n' + extra,
        encoding="utf-8",
    )
    return path


def test_the_player_config_is_a_kiosk_config_with_defaults(tmp_path: Path) -> None:
    settings, kiosk = load_kiosk_config(write(tmp_path))
    assert settings.device_id == "adot-kiosk-1" and settings.data_dir == tmp_path / "data"
    assert kiosk == KioskSettings(idle_timeout_s=60.0, dpi=None)


def test_kiosk_keys_are_read(tmp_path: Path) -> None:
    _, kiosk = load_kiosk_config(write(tmp_path, "kiosk_idle_timeout_s = 90\nkiosk_dpi = 141.2\n"))
    assert kiosk == KioskSettings(idle_timeout_s=90.0, dpi=141.2)


@pytest.mark.parametrize(
    ("line", "words"),
    [
        ("kiosk_idle_timeout_s = 0", "'kiosk_idle_timeout_s' must be a positive number"),
        ("kiosk_idle_timeout_s = 'soon'", "'kiosk_idle_timeout_s' must be a positive number"),
        ("kiosk_dpi = 5", "is not a screen's dots per inch"),
        ("kiosk_colour = 'red'", "unknown kiosk key(s) kiosk_colour"),
        ("colour = 'red'", "unknown key(s) colour"),
    ],
)
def test_a_bad_key_is_named_with_the_file(tmp_path: Path, line: str, words: str) -> None:
    path = write(tmp_path, line + "\n")
    with pytest.raises(SettingsError) as e:
        load_kiosk_config(path)
    assert words in str(e.value) and str(path) in str(e.value)


def test_every_kiosk_key_is_documented() -> None:
    doc = DOC.read_text(encoding="utf-8")
    for name in KioskSettings.__dataclass_fields__:
        assert f"`kiosk_{name}`" in doc, f"docs/device-config.md does not describe kiosk_{name}"


def kiosk_app(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kiosk_app.main", *args],
        cwd=cwd, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


@pytest.mark.live
def test_version_and_check_config(tmp_path: Path) -> None:
    version = kiosk_app("--version")
    assert version.returncode == 0 and version.stdout.strip() == f"kiosk-app {__version__}"
    good = kiosk_app("--check-config", str(write(tmp_path, "kiosk_idle_timeout_s = 45\n")))
    assert good.returncode == 0, good.stderr
    assert "good configuration for kiosk adot-kiosk-1" in good.stdout and "45 s" in good.stdout
    assert not (tmp_path / "data").exists()  # touched nothing
    bad = kiosk_app("--check-config", str(write(tmp_path, "kiosk_idle_timeout_s = -1\n")))
    assert bad.returncode == 2 and "kiosk_idle_timeout_s" in bad.stderr
    assert "kivy" not in (bad.stderr + good.stderr).lower()  # no window opened to say so
