"""Rotating the signing key: the key files, ``rotate-key``, and a running server following them.

Devices here are the core trust rules a device runs (``Screen`` keeps learned keys
as ``device_runtime.state.TrustState`` does); the real device process against a
real server process is ``tests/e2e/test_key_rotation.py``.
"""

from __future__ import annotations

import json
import logging
import os
import stat
import subprocess
import tomllib
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from content_server import keys as keys_module
from content_server.errors import ConflictError, ContentServerError
from content_server.keys import create_next_signing_key, load_signing_key, load_signing_keys
from content_server.publishing import publish
from content_server.settings import Settings
from content_server.state import ServerState
from content_server.store import FleetStore, Store
from signage_core.errors import RefusedError
from signage_core.manifest import Manifest
from signage_core.signing import PublicKey, SigningKey
from signage_core.timefmt import format_time
from signage_core.trust import TrustContext, accept_manifest, rotated_keys
from tests.server.api_kit import add_user
from tests.server.content_server_kit import (
    NOW,
    CliResult,
    Server,
    cli_add_device,
    newest_envelope,
    stored,
)

Cli = Callable[..., CliResult]
Run = Callable[..., subprocess.CompletedProcess[str]]
DEVICES = ("adot-hall-1", "hongvan-1")


class Screen:
    """A device's trust in keys: provisioned ones for good, learned ones from rotations."""

    def __init__(self, device_id: str, provisioned: list[PublicKey]) -> None:
        self.device_id = device_id
        self.provisioned = {k.keyid: k for k in provisioned}
        self.learned: dict[str, PublicKey] = {}

    def take(self, body: bytes) -> Manifest:
        envelope = json.loads(body)
        trusted = {**self.learned, **self.provisioned}
        manifest = accept_manifest(envelope, TrustContext(self.device_id, trusted, None, NOW))
        rotated = rotated_keys(envelope, trusted)
        if rotated is not None:
            self.learned = {k: v for k, v in rotated.items() if k not in self.provisioned}
        return manifest


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def signers(body: bytes) -> list[str]:
    return [s["keyid"] for s in json.loads(body)["signatures"]]


def listed(body: bytes) -> list[str]:
    keys: list[str] = json.loads(body)["signed"]["keys"]
    return keys


def version_of(body: bytes) -> int:
    version: int = json.loads(body)["signed"]["version"]
    return version


def report(settings: Settings, device_id: str, manifest_version: int) -> None:
    """A heartbeat as the MQTT ingest stores it."""
    store = Store.open(settings.db_path)
    try:
        beat = {"manifest_version": manifest_version}
        FleetStore(store).write_health([], [(device_id, format_time(NOW), beat, 30.0)])
    finally:
        store.close()


def rotate(cli: Cli, settings: Settings, *flags: str) -> CliResult:
    return cli("rotate-key", "--data-dir", settings.data_dir, *flags)


@pytest.fixture
def rotating(server: Server, cli: Cli) -> None:
    """The fixture server's data folder (``settings``) with a key rotation started."""
    rotate(cli, server.settings)


# -- the key files ----------------------------------------------------------------------------


def test_a_data_folder_signs_with_its_current_key_alone_until_a_rotation_starts(
    settings: Settings,
) -> None:
    (current,) = load_signing_keys(settings)
    new = create_next_signing_key(settings)
    assert mode(settings.next_signing_key_path) == 0o600
    assert [k.keyid for k in load_signing_keys(settings)] == [current.keyid, new.keyid]
    with pytest.raises(ConflictError, match="already under way"):
        create_next_signing_key(settings)
    assert load_signing_key(settings.next_signing_key_path).keyid == new.keyid  # not replaced
    assert not list(settings.keys_dir.glob(".*.tmp"))


def test_a_next_key_readable_by_other_users_is_refused(settings: Settings) -> None:
    create_next_signing_key(settings)
    settings.next_signing_key_path.chmod(0o644)
    with pytest.raises(ContentServerError, match="chmod 600"):
        load_signing_keys(settings)


def test_finishing_again_after_a_crash_midway_completes_the_rotation(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = load_signing_key(settings.signing_key_path)
    new = create_next_signing_key(settings)

    def power_cut(src: object, dst: object) -> None:
        raise OSError("power cut")

    with monkeypatch.context() as m:
        m.setattr(os, "replace", power_cut)
        with pytest.raises(OSError):
            keys_module.promote_next_key(settings)
    # The retired copy is written; the keys in use have not changed.
    assert [k.keyid for k in load_signing_keys(settings)] == [old.keyid, new.keyid]

    retired, current = keys_module.promote_next_key(settings)
    assert (retired.keyid, current.keyid) == (old.keyid, new.keyid)
    assert [k.keyid for k in load_signing_keys(settings)] == [new.keyid]
    retired_file = settings.retired_keys_dir / f"{old.keyid}.key"
    assert load_signing_key(retired_file).to_bytes() == old.to_bytes()
    assert mode(retired_file) == 0o600


# -- rotate-key -------------------------------------------------------------------------------


def test_rotate_key_signs_every_device_with_both_keys_and_devices_learn_the_new_one(
    server: Server, cli: Cli
) -> None:
    settings = server.settings
    old = load_signing_key(settings.signing_key_path)
    before = {d: version_of(newest_envelope(settings, d)) for d in DEVICES}

    result = rotate(cli, settings)

    assert result.returncode == 0, result.stderr
    new = load_signing_key(settings.next_signing_key_path)
    assert f"next signing key: {new.public.spec()}" in result.stdout
    assert "rotate-key --status" in result.stdout and "rotate-key --finish" in result.stdout
    for device_id in DEVICES:
        body = newest_envelope(settings, device_id)
        assert version_of(body) > before[device_id]
        assert signers(body) == [old.keyid, new.keyid]
        assert listed(body) == [old.public.spec(), new.public.spec()]
        screen = Screen(device_id, [old.public])
        screen.take(body)
        assert screen.learned == {new.keyid: new.public}


def test_rotate_key_while_a_rotation_is_under_way_is_refused(server: Server, cli: Cli) -> None:
    assert rotate(cli, server.settings).returncode == 0
    next_key = server.settings.next_signing_key_path.read_bytes()

    again = rotate(cli, server.settings)

    assert again.returncode == 1
    assert "already under way" in again.stderr and "--finish" in again.stderr
    assert len(again.stderr.strip().splitlines()) == 1
    assert server.settings.next_signing_key_path.read_bytes() == next_key


def test_finish_without_a_rotation_is_refused_in_one_line(run_cli: Run, settings: Settings) -> None:
    result = run_cli("rotate-key", "--data-dir", settings.data_dir, "--finish")
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "content-server rotate-key: no key rotation is under way "
        f"({settings.next_signing_key_path} does not exist); "
        "start one with `content-server rotate-key`"
    )
    status = run_cli("rotate-key", "--data-dir", settings.data_dir, "--status")
    assert status.returncode == 1 and "no key rotation is under way" in status.stderr


def test_force_without_finish_is_a_usage_error(server: Server, cli: Cli) -> None:
    for flags in (["--force"], ["--status", "--force"]):
        result = rotate(cli, server.settings, *flags)
        assert result.returncode == 2 and "--force goes with --finish" in result.stderr
    assert not server.settings.next_signing_key_path.exists()


@pytest.mark.usefixtures("rotating")
def test_finish_waits_until_every_device_reports_a_manifest_signed_by_both_keys(
    settings: Settings, cli: Cli
) -> None:
    old = load_signing_key(settings.signing_key_path)
    new = load_signing_key(settings.next_signing_key_path)
    dual = {d: version_of(newest_envelope(settings, d)) for d in DEVICES}

    refused = rotate(cli, settings, "--finish")
    assert refused.returncode == 1
    assert len(refused.stderr.strip().splitlines()) == 1
    assert "2 device(s) have not yet reported" in refused.stderr
    assert "adot-hall-1 (no heartbeat yet" in refused.stderr
    assert "hongvan-1 (no heartbeat yet" in refused.stderr

    report(settings, "adot-hall-1", dual["adot-hall-1"])
    report(settings, "hongvan-1", dual["hongvan-1"] - 1)  # still on the one signed by old only
    refused = rotate(cli, settings, "--finish")
    assert refused.returncode == 1
    assert "1 device(s)" in refused.stderr and "adot-hall-1" not in refused.stderr
    assert f"hongvan-1 (version {dual['hongvan-1'] - 1} at " in refused.stderr
    assert settings.next_signing_key_path.exists()  # nothing changed
    status = rotate(cli, settings, "--status")
    assert "adot-hall-1 (version" in status.stdout and "caught up" in status.stdout
    assert "1 of 2 device(s) have not caught up yet" in status.stdout

    report(settings, "hongvan-1", dual["hongvan-1"])
    screen = Screen("hongvan-1", [old.public])
    screen.take(newest_envelope(settings, "hongvan-1"))  # the device took the one signed by both
    done = rotate(cli, settings, "--finish")

    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert f"signing key is now {new.public.spec()}" in done.stdout
    assert [k.keyid for k in load_signing_keys(settings)] == [new.keyid]
    assert not settings.next_signing_key_path.exists()
    retired = settings.retired_keys_dir / f"{old.keyid}.key"
    assert mode(retired) == 0o600 and load_signing_key(retired).keyid == old.keyid
    body = newest_envelope(settings, "hongvan-1")
    assert signers(body) == [new.keyid] and listed(body) == [new.public.spec()]
    assert screen.take(body).version == version_of(body)
    assert screen.learned == {new.keyid: new.public}  # and kept: the new list names it
    # A screen that missed the rotation refuses it: only a technician can help it now.
    with pytest.raises(RefusedError) as refusal:
        Screen("hongvan-1", [old.public]).take(body)
    assert refusal.value.reason == "unknown_key"
    actions = [e.action for e in stored(settings, Store.audit_log)]
    assert "start key rotation" in actions and "finish key rotation" in actions


@pytest.mark.usefixtures("rotating")
def test_finish_with_force_leaves_lagging_devices_behind_with_a_warning(
    settings: Settings, cli: Cli
) -> None:
    old = load_signing_key(settings.signing_key_path)
    report(settings, "adot-hall-1", version_of(newest_envelope(settings, "adot-hall-1")))

    done = rotate(cli, settings, "--finish", "--force")

    assert done.returncode == 0, done.stderr
    (warning,) = done.stderr.strip().splitlines()
    assert warning.startswith("content-server rotate-key: warning: finished although 1 device")
    assert "hongvan-1 (no heartbeat yet" in warning and "adot-hall-1" not in warning
    assert "trusted_keys" in warning
    assert (settings.retired_keys_dir / f"{old.keyid}.key").exists()
    assert all(old.keyid not in signers(newest_envelope(settings, d)) for d in DEVICES)


@pytest.mark.usefixtures("rotating")
def test_add_device_during_a_rotation_trusts_both_keys(
    settings: Settings, cli: Cli, tmp_path: Path
) -> None:
    both = [k.public.spec() for k in load_signing_keys(settings)]
    config = tmp_path / "new.toml"

    result = cli_add_device(cli, settings, config, device_id="adot-hall-9")

    assert result.returncode == 0, result.stderr
    assert tomllib.loads(config.read_text())["trusted_keys"] == both
    assert listed(newest_envelope(settings, "adot-hall-9")) == both


# -- a running server -------------------------------------------------------------------------


def served_keys(server: Server) -> list[str]:
    r = server.client.get("/api/v1/keys")
    assert r.status_code == 200
    return [k["spec"] for k in r.json()["keys"]]


def renew_all(server: Server) -> dict[str, Any]:
    """What the server's own renewal signs (every manifest is near expiry 20 days on)."""
    result = server.state.refresh_expiring(NOW + timedelta(days=20))
    assert result is not None
    return {m.device_id: m.envelope for m in result.manifests}


def test_a_running_server_signs_with_the_keys_the_command_left_on_disk(
    server: Server, cli: Cli
) -> None:
    settings = server.settings
    old = load_signing_key(settings.signing_key_path)
    assert served_keys(server) == [old.public.spec()]

    rotate(cli, settings)
    new = load_signing_key(settings.next_signing_key_path)
    server.state.reload_if_changed()  # what the server does every reload_interval_s

    assert served_keys(server) == [old.public.spec(), new.public.spec()]
    for body in renew_all(server).values():
        assert signers(body) == [old.keyid, new.keyid]
        assert listed(body) == [old.public.spec(), new.public.spec()]
    admin = add_user(server, "chief", "admin", None)
    r = server.client.post(
        "/api/v1/alerts",
        headers=admin,
        json={
            "site_id": "hongvan",
            "severity": "emergency",
            "texts": {"vi": {"title": "Đóng cửa"}, "lo": {"title": "ປິດ"}},
            "expires_at": (NOW + timedelta(hours=1)).isoformat(),
        },
    )
    assert r.status_code == 201, r.text
    alert = FleetStore(server.state.store).alert(r.json()["id"])
    assert alert is not None and signers(alert.envelope.encode()) == [old.keyid, new.keyid]

    report(settings, "adot-hall-1", 10**6)
    report(settings, "hongvan-1", 10**6)
    assert rotate(cli, settings, "--finish").returncode == 0
    server.state.reload_if_changed()

    assert served_keys(server) == [new.public.spec()]
    for body in renew_all(server).values():
        assert signers(body) == [new.keyid] and listed(body) == [new.public.spec()]


@pytest.fixture
def state(settings: Settings) -> Iterator[ServerState]:
    """The server's in-memory state alone, without the app's background reloads."""
    st = ServerState.open(settings, lambda: NOW)
    yield st
    st.close()


def test_the_server_notices_a_new_key_file_even_without_a_database_change(
    state: ServerState,
) -> None:
    new = create_next_signing_key(state.settings)
    assert state.reload_if_changed() is True
    assert [k.keyid for k in state.keys][1] == new.keyid
    assert state.reload_if_changed() is False


def test_a_damaged_key_file_leaves_the_server_signing_with_the_keys_it_had(
    state: ServerState, caplog: pytest.LogCaptureFixture
) -> None:
    in_use = [k.keyid for k in state.keys]
    path = state.settings.next_signing_key_path
    path.write_text("not a key\n")
    path.chmod(0o600)

    with caplog.at_level(logging.ERROR, logger="content_server.state"):
        state.reload_if_changed()

    assert [k.keyid for k in state.keys] == in_use
    assert "signing keys not reloaded" in caplog.text and "damaged" in caplog.text

    path.unlink()
    create_next_signing_key(state.settings)  # put right: taken at the next look
    assert state.reload_if_changed() is True
    assert len(state.keys) == 2


def test_a_manifest_listing_the_current_key_alone_makes_devices_forget_an_old_rotation(
    settings: Settings, server: Server
) -> None:
    # A device enrolled long ago learned a key from an earlier rotation that is now retired.
    forgotten = SigningKey.generate()
    current = load_signing_key(settings.signing_key_path)
    screen = Screen("adot-hall-1", [current.public])
    screen.learned = {forgotten.keyid: forgotten.public}
    screen.take(newest_envelope(settings, "adot-hall-1"))
    assert screen.learned == {}


@pytest.mark.usefixtures("rotating")
def test_a_revoked_device_is_not_waited_for(settings: Settings, cli: Cli) -> None:
    report(settings, "adot-hall-1", version_of(newest_envelope(settings, "adot-hall-1")))
    assert rotate(cli, settings, "--finish").returncode == 1

    revoked = cli("revoke-device", "hongvan-1", "--data-dir", settings.data_dir)
    assert revoked.returncode == 0, revoked.stderr

    done = rotate(cli, settings, "--finish")
    assert done.returncode == 0, done.stderr
    assert "hongvan-1" not in done.stdout + done.stderr


@pytest.mark.usefixtures("rotating")
def test_a_device_whose_newest_manifest_lacks_the_new_key_is_named_with_what_to_do(
    settings: Settings, cli: Cli
) -> None:
    for device_id in DEVICES:
        report(settings, device_id, 10**6)
    store = Store.open(settings.db_path)
    try:  # signed by the old key alone (a tool that ignored the rotation)
        old = load_signing_key(settings.signing_key_path)
        publish(store, [old], NOW, timedelta(days=30), user="t", address="", reason="t")
    finally:
        store.close()

    refused = rotate(cli, settings, "--finish")

    assert refused.returncode == 1
    assert "adot-hall-1 (no manifest signed by the new key yet; run `content-server publish`)" in (
        refused.stderr
    )
    assert cli("publish", "--data-dir", settings.data_dir).returncode == 0
    assert rotate(cli, settings, "--finish").returncode == 0
