"""The signing key is rotated while the fleet runs, without visiting the posts: a real
server process, Mosquitto and real device processes (``python -m device_runtime``)
provisioned with the old key only. A device that synced during the rotation goes on
under the new key; one that was offline the whole time refuses it and keeps playing."""

from __future__ import annotations

import json
import sys
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
import requests

from signage_core.signing import PublicKey
from tests.support import waiting
from tests.support.stack import Stack, read_db

pytestmark = pytest.mark.e2e
ONLINE = "adot-hall-1"  # syncs all along
OFFLINE = "hongvan-hall-1"  # synced once, then off the network for the whole rotation
T = TypeVar("T")


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    s = Stack.running(tmp_path / "stack", {ONLINE: "adot-hall", OFFLINE: "hongvan-hall"})
    for device in (ONLINE, OFFLINE):
        with config_path(s, device).open("a") as f:  # a technician's tuning: quick checks
            f.write("poll_interval_s = 2.0\nheartbeat_interval_s = 1.0\n")
    yield s
    s.stop()


def config_path(stack: Stack, device: str) -> Path:
    return stack.root / "devices" / f"{device}.toml"


def state_dir(stack: Stack, device: str) -> Path:
    return Path(tomllib.loads(config_path(stack, device).read_text())["data_dir"]) / "state"


def start(stack: Stack, device: str) -> None:
    argv = [sys.executable, "-m", "device_runtime", "--config", str(config_path(stack, device))]
    stack.start_device(device, argv)


def held(stack: Stack, device: str) -> dict[str, Any] | None:
    """The envelope the device keeps as its last good manifest."""
    try:
        doc: dict[str, Any] = json.loads((state_dir(stack, device) / "manifest.json").read_bytes())
    except FileNotFoundError:
        return None
    return doc


def learned(stack: Stack, device: str) -> list[str]:
    try:
        doc = json.loads((state_dir(stack, device) / "keys.json").read_bytes())
    except FileNotFoundError:
        return []
    keys: list[str] = doc["learned"]
    return keys


def heartbeat(stack: Stack, device: str) -> dict[str, Any]:
    """The device's newest heartbeat as the server stored it."""
    rows = read_db(stack, "SELECT heartbeat FROM device_health WHERE device_id = ?", device)
    beat: dict[str, Any] = json.loads(rows[0][0]) if rows and rows[0][0] else {}
    return beat


def plays(stack: Stack, device: str, version: int) -> Callable[[], bool]:
    """Whether the device's heartbeat reports playing ``version``."""
    return lambda: heartbeat(stack, device).get("manifest_version") == version


def served(stack: Stack, device: str) -> dict[str, Any]:
    token = tomllib.loads(config_path(stack, device).read_text())["token"]
    r = requests.get(
        f"{stack.server_url}/api/v1/devices/{device}/manifest",
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    )
    assert r.status_code == 200, r.text
    doc: dict[str, Any] = r.json()
    return doc


def served_if_signed_by(stack: Stack, device: str, keyids: list[str]) -> dict[str, Any] | None:
    envelope = served(stack, device)
    return envelope if signers(envelope) == keyids else None


def server_keys(stack: Stack) -> list[str]:
    r = requests.get(f"{stack.server_url}/api/v1/keys", timeout=5)
    return [k["spec"] for k in r.json()["keys"]]


def signers(envelope: dict[str, Any] | None) -> list[str]:
    return [s["keyid"] for s in envelope["signatures"]] if envelope else []


def wait_until(check: Callable[[], T | None], timeout: float, what: str, stack: Stack) -> T:
    def logs() -> str:
        return "\n".join(f"--- {n}\n{stack.log(n)[-2000:]}" for n in ("server", ONLINE, OFFLINE))

    return waiting.wait_until(check, timeout, what, step=0.2, logs=logs)  # type: ignore[return-value]


def caught_up(status: str) -> str:
    """The lines of ``rotate-key --status`` for devices that have caught up."""
    return "\n".join(line for line in status.splitlines() if line.endswith("caught up)"))


def refusal(beat: dict[str, Any], reason: str) -> dict[str, Any] | None:
    """The heartbeat, if it reports a manifest refused for ``reason``."""
    error = (beat.get("sync") or {}).get("last_error") or ""
    return beat if f"refused ({reason})" in error else None


def rotate_key(stack: Stack, *flags: str) -> Any:
    return stack.run("rotate-key", "--data-dir", str(stack.data_dir), *flags, check=False)


def test_rotating_the_key_while_devices_run(stack: Stack) -> None:
    (old_spec,) = tomllib.loads(config_path(stack, ONLINE).read_text())["trusted_keys"]
    old = PublicKey.parse(old_spec)

    # Both devices play what they were enrolled with; then one goes off the network.
    for device in (ONLINE, OFFLINE):
        start(stack, device)
        version = served(stack, device)["signed"]["version"]
        wait_until(plays(stack, device, version), 30, f"{device} to play {version}", stack)
    stack.kill(OFFLINE)
    last_good = held(stack, OFFLINE)
    assert last_good is not None and signers(last_good) == [old.keyid]

    # Start: the running server signs with both keys; the online device learns the new one.
    started = rotate_key(stack)
    assert started.returncode == 0, started.stderr
    new_spec = next(
        line.removeprefix("next signing key: ")
        for line in started.stdout.splitlines()
        if line.startswith("next signing key: ")
    )
    new = PublicKey.parse(new_spec)
    wait_until(lambda: server_keys(stack) == [old_spec, new_spec], 10, "/keys to list both", stack)
    wait_until(lambda: learned(stack, ONLINE) == [new_spec], 30, "the new key learned", stack)
    dual = served(stack, ONLINE)
    assert signers(dual) == [old.keyid, new.keyid]
    wait_until(
        lambda: f"{ONLINE} (" in caught_up(rotate_key(stack, "--status").stdout),
        30,
        "the online device's heartbeat to report the manifest signed by both",
        stack,
    )
    status = rotate_key(stack, "--status").stdout
    assert "1 of 2 device(s) have not caught up yet" in status, status

    # Finish is refused while the offline device lags, and names it.
    refused = rotate_key(stack, "--finish")
    assert refused.returncode == 1, refused.stdout
    assert len(refused.stderr.strip().splitlines()) == 1 and "Traceback" not in refused.stderr
    assert f"{OFFLINE} (version {last_good['signed']['version']} at " in refused.stderr
    assert f"{ONLINE} (" not in refused.stderr
    assert server_keys(stack) == [old_spec, new_spec]

    # --force: the new key alone signs from now on; the online device takes it.
    forced = rotate_key(stack, "--finish", "--force")
    assert forced.returncode == 0, forced.stderr
    assert "warning" in forced.stderr and OFFLINE in forced.stderr
    wait_until(lambda: server_keys(stack) == [new_spec], 10, "/keys to list the new key", stack)
    # The server follows the database within reload_interval_s (1 s) of the command.
    final = wait_until(
        lambda: served_if_signed_by(stack, ONLINE, [new.keyid]),
        10,
        "the server to serve the manifest signed by the new key alone",
        stack,
    )
    wait_until(
        lambda: (
            (held(stack, ONLINE) or {}).get("signed", {}).get("version")
            == final["signed"]["version"]
        ),
        30,
        "the online device to accept the manifest signed by the new key alone",
        stack,
    )
    assert signers(held(stack, ONLINE)) == [new.keyid]
    assert learned(stack, ONLINE) == [new_spec]  # kept: the new manifest lists it

    # The device that slept through it all refuses, says why, and keeps playing.
    start(stack, OFFLINE)
    beat = wait_until(
        lambda: refusal(heartbeat(stack, OFFLINE), "unknown_key"),
        30,
        "the offline device to report the refusal",
        stack,
    )
    assert beat["manifest_version"] == last_good["signed"]["version"]
    assert beat["now_playing"] is not None
    assert held(stack, OFFLINE) == last_good
    assert learned(stack, OFFLINE) == []
