"""Backing up a data folder into one file, and restoring it into a new folder.

A backup is an uncompressed tar (media does not compress) holding:

    content.db                the database, copied with SQLite's online backup API,
                              so a running server keeps serving and writing meanwhile
    keys/…                    the signing key(s) and the server's MQTT password
    assets/<sha256>           every asset the database knows, checked against its name
    screenshots/…             the devices' last screenshots
    border-signage-backup.json  last: format, time, and the size and sha256 of every file

The file holds the signing key: whoever has it can sign for the fleet. It is written
0600 and must be kept like the key itself (docs/operations.md).

``restore`` writes nothing into the target until everything checked out: the archive is
unpacked beside the target, every file is compared with the list, every asset with its
name, the database passes ``PRAGMA integrity_check`` and opens (migrations included),
and the signing key loads; only then is the folder renamed into place. A restored server
has the same key and the same device tokens. The lost server may have handed out manifest
versions after the backup, and a device accepts only a version greater than the one it
holds: so ``restore`` leaves ``skip_versions`` version numbers unused and signs every
device's manifest again past them, before the folder goes into place. Devices go on
syncing without noticing. The archive's member names are checked against the layout
above: no links, no absolute paths, no ``..``.

Errors: ``BackupError`` (a ``ContentServerError``) with a message saying what to do.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import sqlite3
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Any

from signage_core.timefmt import format_time

from .durable import fsync_dir
from .errors import ContentServerError
from .keys import load_signing_keys
from .publishing import publish
from .settings import Settings
from .store import Store

FORMAT = "border-signage/backup@1"
LIST_NAME = "border-signage-backup.json"
_CHUNK = 1 << 20
# Versions left unused by a restore: more than a server publishes in years (an edit or
# a renewal is one version), so no device can hold one past them.
SKIP_VERSIONS = 100_000
_ALLOWED = re.compile(
    r"^(content\.db|keys/[A-Za-z0-9._-]+|keys/retired/[A-Za-z0-9._-]+"
    r"|assets/[0-9a-f]{64}|screenshots/[A-Za-z0-9._-]+)$"
)


class BackupError(ContentServerError):
    title = "Backup failed"
    code = "backup-failed"


@dataclass(frozen=True)
class BackupResult:
    path: Path
    files: int
    assets: int
    bytes: int


@dataclass(frozen=True)
class RestoreResult:
    data_dir: Path
    files: int
    assets: int
    devices: int
    manifest_version: int | None


class _HashingReader(io.RawIOBase):
    """Reads a file once: hands the bytes to tarfile and hashes them on the way."""

    def __init__(self, f: IO[bytes]) -> None:
        self.f = f
        self.sha = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        data = self.f.read(len(b))
        self.sha.update(data)
        b[: len(data)] = data
        return len(data)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def _snapshot_db(source: Path, target: Path) -> None:
    """SQLite's online backup: a consistent copy while the server goes on writing."""
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
    except sqlite3.Error as e:
        raise BackupError(f"cannot copy the database {source}: {e}") from e
    finally:
        dst.close()
        src.close()


def _files_to_copy(settings: Settings, snapshot: Path) -> list[tuple[str, Path]]:
    files: list[tuple[str, Path]] = []
    for path in sorted(settings.keys_dir.rglob("*")):
        if path.is_file():
            files.append((path.relative_to(settings.data_dir).as_posix(), path))
    store = Store.open(snapshot)
    try:
        hashes = sorted(store.asset_types())
    finally:
        store.close()
    for sha in hashes:
        path = settings.assets_dir / sha
        if not path.is_file():
            raise BackupError(
                f"asset {sha} is in the database but missing from {settings.assets_dir}: the "
                "data folder is damaged; restore its assets from an earlier backup first"
            )
        files.append((f"assets/{sha}", path))
    shots = settings.data_dir / "screenshots"
    if shots.is_dir():
        files += [(f"screenshots/{p.name}", p) for p in sorted(shots.iterdir()) if p.is_file()]
    return files


def backup(settings: Settings, out: Path, now: datetime) -> BackupResult:
    """Write a backup of ``settings.data_dir`` to ``out`` (replaced only when complete)."""
    if not settings.db_path.exists():
        raise BackupError(
            f"{settings.data_dir} holds no content-server database: nothing to back up"
        )
    out = out.resolve()
    if out.is_relative_to(settings.data_dir.resolve()):
        raise BackupError(f"write the backup outside the data folder {settings.data_dir}")
    out.parent.mkdir(parents=True, exist_ok=True)
    listed: dict[str, dict[str, Any]] = {}
    assets = total = 0
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=".backup-") as tmp:
        snapshot = Path(tmp) / "content.db"
        _snapshot_db(settings.db_path, snapshot)
        files = [("content.db", snapshot), *_files_to_copy(settings, snapshot)]
        partial = Path(tmp) / "backup.tar"
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w") as tar:
            for name, path in files:
                with path.open("rb") as f:
                    info = tar.gettarinfo(fileobj=f, arcname=name)
                    info.uid = info.gid = 0
                    info.uname = info.gname = ""
                    reader = _HashingReader(f)
                    tar.addfile(info, io.BufferedReader(reader, _CHUNK))
                digest = reader.sha.hexdigest()
                if name.startswith("assets/") and digest != name.removeprefix("assets/"):
                    raise BackupError(
                        f"asset {name} on disk does not match its hash: the file rotted; "
                        "upload it again or restore it from an earlier backup"
                    )
                listed[name] = {"size": info.size, "sha256": digest}
                assets += name.startswith("assets/")
                total += info.size
            doc = {"format": FORMAT, "created_at": format_time(now), "files": listed}
            body = json.dumps(doc, indent=1, sort_keys=True).encode()
            info = tarfile.TarInfo(LIST_NAME)
            info.size, info.mode, info.mtime = len(body), 0o600, int(now.timestamp())
            tar.addfile(info, io.BytesIO(body))
            tar.close()
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(partial, out)
        fsync_dir(out.parent)
    return BackupResult(out, len(listed), assets, total)


# -- restore --------------------------------------------------------------------------------


def _refuse_target(target: Path) -> None:
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise BackupError(
            f"{target} is not empty: restore into a new or empty folder (move the old data "
            "folder aside first; nothing was changed)"
        )


def _unpack(archive: Path, into: Path) -> dict[str, Any]:
    try:
        tar = tarfile.open(archive, mode="r:")  # noqa: SIM115 - closed by the with below
    except (OSError, tarfile.TarError) as e:
        raise BackupError(f"{archive} is not a backup made by `content-server backup`: {e}") from e
    doc: dict[str, Any] | None = None
    seen: set[str] = set()
    with tar:
        try:
            for member in tar:
                name = member.name
                if name == LIST_NAME and member.isfile():
                    f = tar.extractfile(member)
                    assert f is not None
                    doc = json.loads(f.read())
                    continue
                if not member.isfile() or not _ALLOWED.match(name) or name in seen:
                    raise BackupError(
                        f"{archive} holds an unexpected entry {name!r}: it was not made by "
                        "`content-server backup` or was altered; nothing was restored"
                    )
                seen.add(name)
                path = into / name
                path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
                source = tar.extractfile(member)
                assert source is not None
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "wb") as f:
                    shutil.copyfileobj(source, f, _CHUNK)
                    f.flush()
                    os.fsync(f.fileno())
        except (tarfile.TarError, EOFError, OSError, ValueError) as e:
            raise BackupError(
                f"{archive} is damaged or cut short: {e}; nothing was restored"
            ) from e
    if doc is None or doc.get("format") != FORMAT or not isinstance(doc.get("files"), dict):
        raise BackupError(
            f"{archive} has no list of its files (cut short, or not a backup of this "
            "format); nothing was restored"
        )
    missing = sorted(set(doc["files"]) - seen)
    extra = sorted(seen - set(doc["files"]))
    if missing or extra:
        raise BackupError(
            f"{archive} does not hold what its list says (missing: {missing[:3]}, "
            f"not listed: {extra[:3]}); nothing was restored"
        )
    return doc


def _check(unpacked: Path, doc: dict[str, Any]) -> int:
    for name, facts in doc["files"].items():
        path = unpacked / name
        if path.stat().st_size != facts.get("size") or _sha256(path) != facts.get("sha256"):
            raise BackupError(
                f"{name} in the backup is damaged (its hash differs); nothing was restored"
            )
        if name.startswith("assets/") and facts["sha256"] != name.removeprefix("assets/"):
            raise BackupError(f"{name} in the backup does not match its name; nothing was restored")
    db = sqlite3.connect(unpacked / "content.db")
    try:
        (verdict,) = db.execute("PRAGMA integrity_check").fetchone()
    except sqlite3.DatabaseError as e:
        raise BackupError(f"the database in the backup cannot be read: {e}") from e
    finally:
        db.close()
    if verdict != "ok":
        raise BackupError(
            f"the database in the backup is damaged ({verdict}); nothing was restored"
        )
    store = Store.open(unpacked / "content.db")
    try:
        known = set(store.asset_types())
    finally:
        store.close()
    absent = sorted(h for h in known if not (unpacked / "assets" / h).is_file())
    if absent:
        raise BackupError(
            f"the backup lacks {len(absent)} asset(s) its database uses ({absent[0]}, …); "
            "nothing was restored"
        )
    return len(known)


def _sign_past_lost_versions(
    settings: Settings, now: datetime, skip: int
) -> tuple[int, int | None]:
    """Leave ``skip`` versions unused, then sign every device's manifest past them."""
    try:
        keys = load_signing_keys(settings)
    except ContentServerError as e:
        raise BackupError(f"the signing key in the backup cannot be used: {e}") from e
    store = Store.open(settings.db_path)
    try:
        reason = f"restored from backup: {skip} versions left unused"
        store.skip_versions(skip, format_time(now), "content-server restore", reason)
        result = publish(
            store,
            keys,
            now,
            timedelta(days=settings.manifest_ttl_days),
            user="content-server restore",
            address="local",
            reason="restored from backup: signed again past the versions the lost server used",
        )
        return len(store.devices()), result.version
    finally:
        store.close()


@contextmanager
def _beside(target: Path) -> Iterator[Path]:
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.restoring-"))
    try:
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def restore(
    archive: Path, settings: Settings, now: datetime, skip_versions: int = SKIP_VERSIONS
) -> RestoreResult:
    """Restore ``archive`` into the new or empty ``settings.data_dir``: all of it, or nothing."""
    target = settings.data_dir.absolute()
    _refuse_target(target)
    with _beside(target) as tmp:
        unpacked = tmp / "data"
        unpacked.mkdir(mode=0o700)
        doc = _unpack(archive, unpacked)
        assets = _check(unpacked, doc)
        here = settings.model_copy(update={"data_dir": unpacked})
        devices, version = _sign_past_lost_versions(here, now, skip_versions)
        (unpacked / "assets").mkdir(mode=0o700, exist_ok=True)
        for folder in (unpacked / "keys", unpacked / "keys" / "retired"):
            if folder.is_dir():
                folder.chmod(0o700)
        _refuse_target(target)  # nobody wrote there meanwhile
        if target.exists():
            target.rmdir()
        unpacked.rename(target)
        fsync_dir(target.parent)
    return RestoreResult(target, len(doc["files"]), assets, devices, version)
