"""`content-server backup` and `restore`: one file holds a data folder; restore is all or none."""

from __future__ import annotations

import io
import json
import os
import stat
import subprocess
import sys
import tarfile
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from content_server.backup import LIST_NAME
from content_server.keys import load_signing_key
from content_server.settings import Settings
from content_server.store import Store
from signage_core.trust import TrustContext, accept_manifest
from tests.server.content_server_kit import CliResult, Server

Cli = Callable[..., CliResult]


def files_of(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.parent.name in ("assets", "keys", "retired", "screenshots")
    }


def take_backup(cli: Cli, settings: Settings, out: Path) -> Path:
    r = cli("backup", "--data-dir", settings.data_dir, "--out", out)
    assert r.returncode == 0, r.stderr
    return out


def test_a_restored_folder_serves_the_same_devices_with_the_same_key(
    server: Server, cli: Cli, tmp_path: Path
) -> None:
    archive = take_backup(cli, server.settings, tmp_path / "hue.backup")
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600  # it holds the signing key

    target = tmp_path / "restored"
    r = cli("restore", archive, "--data-dir", target)
    assert r.returncode == 0, r.stderr
    assert "2 devices" in r.stdout

    restored = Settings(data_dir=target)
    assert files_of(target) == files_of(server.settings.data_dir)
    assert stat.S_IMODE(restored.signing_key_path.stat().st_mode) == 0o600
    key = load_signing_key(restored.signing_key_path)
    assert key.keyid == load_signing_key(server.settings.signing_key_path).keyid
    before, after = Store.open(server.settings.db_path), Store.open(restored.db_path)
    try:
        assert [(d.id, d.token_hash) for d in after.devices()] == [
            (d.id, d.token_hash) for d in before.devices()
        ]
    finally:
        before.close()
        after.close()


def test_a_device_that_saw_versions_after_the_backup_accepts_the_restored_server(
    server: Server, cli: Cli, tmp_path: Path
) -> None:
    archive = take_backup(cli, server.settings, tmp_path / "hue.backup")
    for _ in range(3):  # the lost server goes on publishing after the backup
        assert cli("publish", "--data-dir", server.settings.data_dir).returncode == 0
    lost = Store.open(server.settings.db_path)
    try:
        held = lost.latest_manifest_versions()["adot-hall-1"][0]
    finally:
        lost.close()

    target = tmp_path / "restored"
    assert cli("restore", archive, "--data-dir", target, "--skip-versions", "50").returncode == 0

    store = Store.open(target / "content.db")
    try:
        version, _ = store.latest_manifest_versions()["adot-hall-1"]
        body = store.manifest_envelope("adot-hall-1", version)
    finally:
        store.close()
    assert body is not None and version > held
    key = load_signing_key(target / "keys" / "signing.key").public
    ctx = TrustContext("adot-hall-1", {key.keyid: key}, held, datetime.now(UTC))
    assert accept_manifest(json.loads(body), ctx).version == version


def test_a_backup_taken_while_the_server_writes_is_consistent(
    server: Server, cli: Cli, tmp_path: Path
) -> None:
    stop = threading.Event()

    def write() -> None:
        store = Store.open(server.settings.db_path)
        try:
            n = 0
            while not stop.is_set():
                store.audit("2026-01-01T00:00:00Z", "busy", "test", str(n), "")
                n += 1
        finally:
            store.close()

    writer = threading.Thread(target=write)
    writer.start()
    try:
        archive = take_backup(cli, server.settings, tmp_path / "busy.backup")
    finally:
        stop.set()
        writer.join()
    assert cli("restore", archive, "--data-dir", tmp_path / "r").returncode == 0


def rewrite(archive: Path, out: Path, change: Callable[[tarfile.TarInfo, bytes], bytes]) -> Path:
    """A copy of ``archive`` with each member's bytes passed through ``change``."""
    with tarfile.open(archive) as src, tarfile.open(out, "w") as dst:
        for member in src:
            f = src.extractfile(member)
            data = change(member, f.read() if f else b"")
            member.size = len(data)
            dst.addfile(member, io.BytesIO(data))
    return out


def flip_asset(member: tarfile.TarInfo, data: bytes) -> bytes:
    if member.name.startswith("assets/") and not getattr(flip_asset, "done", False):
        flip_asset.done = True  # type: ignore[attr-defined]
        return bytes([data[0] ^ 1]) + data[1:]
    return data


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        ("asset", "damaged"),
        ("truncated", "cut short"),
        ("traversal", "unexpected entry"),
        ("link", "unexpected entry"),
        ("no-list", "no list of its files"),
        ("not-a-tar", "not a backup"),
    ],
)
def test_a_damaged_or_forged_backup_restores_nothing(
    server: Server, cli: Cli, tmp_path: Path, damage: str, message: str
) -> None:
    good = take_backup(cli, server.settings, tmp_path / "good.backup")
    bad = tmp_path / "bad.backup"
    if damage == "asset":
        flip_asset.done = False  # type: ignore[attr-defined]
        rewrite(good, bad, flip_asset)
    elif damage == "truncated":
        bad.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    elif damage in ("traversal", "link"):
        with tarfile.open(good) as src, tarfile.open(bad, "w") as dst:
            evil = tarfile.TarInfo("../../evil" if damage == "traversal" else "keys/signing.key")
            if damage == "link":
                evil.type, evil.linkname = tarfile.SYMTYPE, "/etc/passwd"
            else:
                evil.size = 4
            dst.addfile(evil, io.BytesIO(b"evil") if damage == "traversal" else None)
            for member in src:
                dst.addfile(member, src.extractfile(member))
    elif damage == "no-list":
        with tarfile.open(good) as src, tarfile.open(bad, "w") as dst:
            for member in src:
                if member.name != LIST_NAME:
                    dst.addfile(member, src.extractfile(member))
    else:
        bad.write_bytes(b"PK\x03\x04 this is a zip file, not ours")

    target = tmp_path / "restored"
    r = cli("restore", bad, "--data-dir", target)

    assert r.returncode == 1 and message in r.stderr and "Traceback" not in r.stderr
    assert not target.exists()
    assert not (tmp_path / "evil").exists() and not (tmp_path.parent / "evil").exists()
    assert [p.name for p in tmp_path.iterdir() if "restoring" in p.name] == []


def test_restore_never_writes_into_a_folder_in_use(
    server: Server, cli: Cli, tmp_path: Path
) -> None:
    archive = take_backup(cli, server.settings, tmp_path / "b.backup")
    before = files_of(server.settings.data_dir)
    r = cli("restore", archive, "--data-dir", server.settings.data_dir)
    assert r.returncode == 1 and "not empty" in r.stderr
    assert files_of(server.settings.data_dir) == before
    empty = tmp_path / "empty"
    empty.mkdir()
    assert cli("restore", archive, "--data-dir", empty).returncode == 0


def test_a_backup_refuses_a_rotted_asset_and_writes_no_file(
    server: Server, cli: Cli, tmp_path: Path
) -> None:
    asset = next(server.settings.assets_dir.iterdir())
    os.chmod(asset, 0o644)
    asset.write_bytes(b"rotted")
    out = tmp_path / "x.backup"
    r = cli("backup", "--data-dir", server.settings.data_dir, "--out", out)
    assert r.returncode == 1 and "does not match its hash" in r.stderr
    assert not out.exists() and list(tmp_path.glob(".backup-*")) == []


def test_backup_inside_the_data_folder_is_refused(server: Server, cli: Cli) -> None:
    r = cli("backup", "--data-dir", server.settings.data_dir, "--out",
            server.settings.data_dir / "b.backup")  # fmt: skip
    assert r.returncode == 1 and "outside the data folder" in r.stderr


@pytest.mark.live
def test_the_real_commands_print_no_traceback(settings: Settings, tmp_path: Path) -> None:
    def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "content_server.cli", *map(str, args)],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip

    out = tmp_path / "ok.backup"
    assert run("backup", "--data-dir", settings.data_dir, "--out", out).returncode == 0
    r = run("restore", tmp_path / "missing.backup", "--data-dir", tmp_path / "new")
    assert r.returncode == 1 and "Traceback" not in r.stderr and "missing.backup" in r.stderr
