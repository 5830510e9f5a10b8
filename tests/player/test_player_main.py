"""The console entry: ``--headless`` must run the runtime without importing Kivy."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from signage_player.main import parse_args

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
