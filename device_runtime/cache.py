"""The content-addressed asset cache under ``data_dir/cache/``.

    cache/<sha256>             a verified asset, named by the sha256 of its bytes
    cache/tmp/<sha256>.part    a download in progress (kept to resume it with Range)

A download is written to its ``.part`` file, checked against the size the
signed manifest declares (more bytes than declared aborts it at once) and
against the sha256, fsynced, renamed into place and the folder fsynced: a
power cut leaves either the whole verified file or none. Nothing partial can
be opened by name. ``verify_all()`` removes stray temp files and any file whose
content does not match its name: at full speed on start, and again in the
background at low priority (``pause`` between files). A file is deleted only if
it is still the very file that was hashed (same inode), under ``lock``, so a
verification racing a fresh download never removes the good new copy.

A write that fails for lack of space (ENOSPC, EDQUOT) raises ``DiskFullError``;
the part file is kept so the download resumes once space is back.

Which assets to fetch or delete is decided by ``signage_core.sync.plan``.
"""

from __future__ import annotations

import errno
import hashlib
import io
import logging
import os
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from .errors import CacheError, DiskFullError, DownloadError, IntegrityError
from .fetcher import Fetcher

log = logging.getLogger(__name__)

_SHA = re.compile(r"^[0-9a-f]{64}$")
_PART = re.compile(r"^[0-9a-f]{64}\.part$")
_READ = 1024 * 1024


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


_NO_SPACE = (errno.ENOSPC, errno.EDQUOT)


def file_sha256(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _fd_sha256(f: io.BufferedReader) -> str:
    return hashlib.file_digest(f, "sha256").hexdigest()


def _write_error(sha256: str, where: Path, e: OSError) -> CacheError:
    if e.errno in _NO_SPACE:
        return DiskFullError(f"asset {sha256[:12]}: the disk is full writing {where}: {e}")
    return CacheError(f"asset {sha256[:12]}: cannot write {where}: {e}")


@dataclass(frozen=True)
class Usage:
    bytes: int
    files: int


class AssetCache:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.tmp = root / "tmp"
        self.lock = threading.Lock()  # held while a file is renamed into place or deleted
        # Hashes whose file was checked (or written and checked) by this process: a file
        # that rotted while the device was off is re-hashed before it is first shown.
        self.verified: set[str] = set()
        try:
            self.tmp.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise CacheError(f"cannot create the asset cache at {root}: {e}") from e

    def path(self, sha256: str) -> Path:
        return self.root / sha256

    def part_path(self, sha256: str) -> Path:
        return self.tmp / f"{sha256}.part"

    def has(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    def hashes(self) -> set[str]:
        """The hashes of the files in the cache (verified when they were stored)."""
        try:
            return {e.name for e in os.scandir(self.root) if _SHA.match(e.name) and e.is_file()}
        except OSError as e:
            raise CacheError(f"cannot list the asset cache at {self.root}: {e}") from e

    def usage(self) -> Usage:
        total = files = 0
        try:
            for e in os.scandir(self.root):
                if _SHA.match(e.name) and e.is_file():
                    total += e.stat().st_size
                    files += 1
        except OSError:
            pass
        return Usage(total, files)

    def missing(self, sizes: dict[str, int]) -> set[str]:
        """A quick check without hashing: the hashes absent or of the wrong size."""
        out = set()
        for sha, size in sizes.items():
            try:
                if self.path(sha).stat().st_size != size:
                    out.add(sha)
            except OSError:
                out.add(sha)
        return out

    def verify_all(
        self,
        pause: Callable[[], None] = lambda: None,
        should_stop: Callable[[], bool] = lambda: False,
    ) -> list[str]:
        """Remove stray temp files and every file whose content is not its name; list them.

        ``pause`` runs between two files (the background pass sleeps there);
        ``should_stop`` ends the pass early.
        """
        removed = []
        for entry in list(os.scandir(self.tmp)):
            if not _PART.match(entry.name) or not entry.is_file():
                removed.append(f"tmp/{entry.name}")
                self._remove(Path(entry.path))
        for entry in sorted(os.scandir(self.root), key=lambda e: e.name):
            if should_stop():
                break
            if entry.name == "tmp" and entry.is_dir():
                continue
            if _SHA.match(entry.name) and entry.is_file():
                if not self.verify_file(entry.name):
                    removed.append(entry.name)
                pause()
                continue
            path = Path(entry.path)
            log.warning("cache: removing %s (it is not an asset named by its hash)", entry.name)
            removed.append(entry.name)
            with self.lock:
                self._remove(path)
        if removed:
            fsync_dir(self.root)
        return removed

    def verify_file(self, sha256: str) -> bool:
        """Re-hash one cached file; delete it if its bytes are not its name. True if good."""
        path = self.path(sha256)
        try:
            with path.open("rb") as f:
                digest = _fd_sha256(f)
                inode = os.fstat(f.fileno()).st_ino
        except FileNotFoundError:
            return True  # deleted meanwhile: nothing to judge
        except OSError as e:
            log.warning("cache: cannot read %s: %s", sha256[:12], e)
            return True
        if digest == sha256:
            self.verified.add(sha256)
            return True
        self.verified.discard(sha256)
        with self.lock:
            try:
                if path.stat().st_ino != inode:
                    return True  # replaced by a fresh download since: judge that one later
            except FileNotFoundError:
                return True
            log.warning(
                "cache: removing %s: its bytes hash to %s (corrupt on disk); it will be "
                "fetched again",
                sha256[:12],
                digest[:12],
            )
            self._remove(path)
        return False

    def prune_parts(self, wanted: Iterable[str]) -> None:
        """Delete partial downloads of assets no manifest wants any more."""
        keep = {f"{sha}.part" for sha in wanted}
        for entry in list(os.scandir(self.tmp)):
            if entry.name not in keep:
                self._remove(Path(entry.path))

    def delete(self, hashes: Iterable[str]) -> None:
        hashes = list(hashes)
        with self.lock:
            for sha in hashes:
                self._remove(self.path(sha))
        if hashes:
            fsync_dir(self.root)

    @staticmethod
    def _remove(path: Path) -> None:
        try:
            if path.is_dir() and not path.is_symlink():
                for child in path.iterdir():
                    AssetCache._remove(child)
                path.rmdir()
            else:
                path.unlink(missing_ok=True)
        except OSError as e:
            log.warning("cache: cannot remove %s: %s", path, e)

    def download(
        self,
        fetcher: Fetcher,
        sha256: str,
        size: int,
        *,
        should_stop: Callable[[], bool] = lambda: False,
        progress: Callable[[int], None] = lambda n: None,
    ) -> Path:
        """Fetch one asset into the cache and return its path; raise on any failure.

        A part file left by an earlier attempt (or an earlier process) is
        resumed with ``Range`` and ``If-Range`` (the asset's strong ETag is its
        hash). ``IntegrityError`` (too many bytes, wrong hash) deletes the part
        file; ``DownloadError`` (link cut, stop requested) and ``DiskFullError``
        keep it for the next attempt. ``progress(n)``: n bytes of this asset
        are on disk now.
        """
        if not _SHA.match(sha256):
            raise CacheError(f"{sha256!r} is not a sha256")
        final, part = self.path(sha256), self.part_path(sha256)
        if final.is_file():
            return final
        offset = part.stat().st_size if part.is_file() else 0
        if offset == size and size and file_sha256(part) == sha256:
            return self._store(sha256, part, final)  # cut after the fsync, before the rename
        if offset >= size:  # an old part that is complete but wrong, or too long
            part.unlink(missing_ok=True)
            offset = 0
        try:
            stream = fetcher.fetch_asset(sha256, offset, f'"{sha256}"' if offset else None)
        except DownloadError as e:
            if e.status == 416:  # our part file is no prefix of the server's bytes
                part.unlink(missing_ok=True)
            raise
        with stream:
            h = hashlib.sha256()
            if stream.offset == offset and offset:
                with part.open("rb") as f:
                    while block := f.read(_READ):
                        h.update(block)
                mode, written = "ab", offset
            else:
                mode, written = "wb", 0
            progress(written)
            overflow = False
            try:
                with part.open(mode) as f:
                    for chunk in stream.chunks:
                        if should_stop():
                            raise DownloadError(f"asset {sha256[:12]}: stopped; will resume")
                        if written + len(chunk) > size:
                            # Abort at the declared size; the hash judges what came.
                            overflow = True
                            chunk = chunk[: size - written]
                        self._write(f, chunk)
                        written += len(chunk)
                        h.update(chunk)
                        progress(written)
                        if overflow:
                            break
                    f.flush()
                    os.fsync(f.fileno())
            except OSError as e:
                raise _write_error(sha256, part, e) from e
        if written < size:
            raise DownloadError(
                f"asset {sha256[:12]}: the transfer ended after {written} of {size} bytes"
            )
        if h.hexdigest() != sha256:
            part.unlink(missing_ok=True)
            if overflow:
                raise IntegrityError(
                    f"asset {sha256[:12]}: the server sent more than the {size} bytes the "
                    "manifest declares; aborted at that size, and they are not the asset"
                )
            raise IntegrityError(
                f"asset {sha256[:12]}: the bytes received have another hash "
                f"({h.hexdigest()[:12]}); refused"
            )
        if overflow:
            log.warning(
                "cache: asset %s: the server sent more than the %d bytes declared; the "
                "first %d are the asset (hash checked), the rest was not read",
                sha256[:12],
                size,
                size,
            )
        return self._store(sha256, part, final)

    def _write(self, f: IO[bytes], chunk: bytes) -> None:
        """Write one chunk of a download (tests replace this to fill the disk)."""
        f.write(chunk)

    def _store(self, sha256: str, part: Path, final: Path) -> Path:
        try:
            with self.lock:
                os.replace(part, final)
            fsync_dir(self.root)
        except OSError as e:
            raise _write_error(sha256, final, e) from e
        self.verified.add(sha256)
        return final

    def ensure_verified(self, sha256: str) -> bool:
        """Whether the file is there with the right bytes, hashing it if this process has not.

        Called before a file is first shown: the start-up pass may still be running.
        """
        if sha256 in self.verified:
            return self.path(sha256).is_file()
        return self.verify_file(sha256) and sha256 in self.verified
