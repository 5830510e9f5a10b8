"""Every unit in packaging/systemd passes ``systemd-analyze verify``, and says what the
operations guide promises (exit 75 restarts, never waits for the network, watchdog).

``verify`` runs offline against a throw-away root: systemd's own units copied from
this host (for the targets ours refer to) and an executable stand-in at every path
our ``Exec*=`` lines name, which do not exist on a build machine. ``verify`` answers 0
even for a misspelt key, so any line it prints fails the test.
"""

from __future__ import annotations

import configparser
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
UNITS = sorted((ROOT / "packaging" / "systemd").glob("*.service"))
SYSTEMD = Path("/usr/lib/systemd/system")
ANALYZE = shutil.which("systemd-analyze") or "/usr/bin/systemd-analyze"
_EXEC = re.compile(r"^Exec\w+=[-@:+!]*(/\S+)", re.M)


def _unit(path: Path) -> configparser.RawConfigParser:
    parser = configparser.RawConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(path, encoding="utf-8")
    return parser


def make_root(root: Path, units: list[Path]) -> None:
    lib = root / "usr/lib/systemd/system"
    lib.mkdir(parents=True)
    for p in SYSTEMD.iterdir():
        if p.is_file() and not p.is_symlink():
            shutil.copy(p, lib / p.name)
    etc = root / "etc/systemd/system"
    etc.mkdir(parents=True)
    for unit in units:
        shutil.copy(unit, etc / unit.name)
        for binary in _EXEC.findall(unit.read_text(encoding="utf-8")):
            stand_in = root / binary.lstrip("/")
            stand_in.parent.mkdir(parents=True, exist_ok=True)
            stand_in.write_text("#!/bin/sh\n", encoding="utf-8")
            stand_in.chmod(0o755)


def verify(root: Path, name: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [ANALYZE, "verify", "--man=no", f"--root={root}", name],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_units_are_there() -> None:
    names = {u.name for u in UNITS}
    expected = {"signage-player.service", "kiosk-app.service", "signage-x.service"}
    expected |= {"content-server.service", "signage-mosquitto.service"}
    assert names == expected


@pytest.mark.live
@pytest.mark.parametrize("unit", UNITS, ids=lambda p: p.name)
def test_systemd_analyze_verify_finds_nothing(unit: Path, tmp_path: Path) -> None:
    make_root(tmp_path, UNITS)
    proc = verify(tmp_path, unit.name)
    assert proc.returncode == 0 and not proc.stderr.strip() and not proc.stdout.strip(), (
        proc.stdout + proc.stderr
    )


@pytest.mark.live
def test_verify_in_this_root_does_catch_a_bad_line(tmp_path: Path) -> None:
    """The check above can fail: a misspelt value in a copy of the player's unit."""
    bad = tmp_path / "src" / "signage-player.service"
    bad.parent.mkdir()
    text = (ROOT / "packaging/systemd/signage-player.service").read_text(encoding="utf-8")
    bad.write_text(text.replace("Restart=on-failure", "Restart=sometimes"), encoding="utf-8")
    make_root(tmp_path / "root", [*(u for u in UNITS if u.name != bad.name), bad])
    proc = verify(tmp_path / "root", bad.name)
    assert "sometimes" in proc.stderr


@pytest.mark.parametrize("name", ["signage-player.service", "kiosk-app.service"])
def test_device_apps_restart_on_75_never_wait_for_the_network_and_are_watched(
    name: str,
) -> None:
    unit = _unit(ROOT / "packaging/systemd" / name)
    service = unit["Service"]
    assert service["Restart"] == "on-failure"
    assert "75" in service["RestartForceExitStatus"].split()
    assert service["User"] not in ("root", "0")
    # Ordering after network.target never waits for a link; network-online would.
    assert "network-online.target" not in " ".join(unit["Unit"].values())
    assert service["Type"] == "notify" and service["WatchdogSec"]


def test_server_and_broker_are_hardened_and_sized_for_the_fleet() -> None:
    server = _unit(ROOT / "packaging/systemd/content-server.service")["Service"]
    assert server["ProtectSystem"] == "strict"
    assert server["ReadWritePaths"] == "/var/lib/content-server"
    assert server["NoNewPrivileges"] == "yes" and server["PrivateTmp"] == "yes"
    broker = _unit(ROOT / "packaging/systemd/signage-mosquitto.service")["Service"]
    assert int(broker["LimitNOFILE"]) >= 16384
    assert "/etc/mosquitto/border-signage/mosquitto.conf" in broker["ExecStart"]
