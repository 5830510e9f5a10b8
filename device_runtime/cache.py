"""The content-addressed asset cache under ``data_dir/cache/``.

    cache/<sha256>             a verified asset, named by the sha256 of its bytes
    cache/tmp/<sha256>.part    a download in progress (kept to resume it with Range)

A download is written to its ``.part`` file, checked against the size the
signed manifest declares (more bytes than declared aborts it at once) and
against the sha256, fsynced, renamed into place and the folder fsynced: a
power cut leaves either the whole verified file or none. Nothing partial can
be opened by name. ``verify_all()`` (on start) removes stray temp files and any
file whose content does not match its name.

Which assets to fetch or delete is decided by ``signage_core.sync.plan``.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from .errors import CacheError, DownloadError, IntegrityError
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


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(_READ):
            h.update(block)
    return h.hexdigest()


@dataclass(frozen=True)
class Usage:
    bytes: int
    files: int


class AssetCache:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.tmp = root / "tmp"
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

    def verify_all(self) -> list[str]:
        """Remove stray temp files and every file whose content is not its name; list them."""
        removed = []
        for entry in list(os.scandir(self.tmp)):
            if not _PART.match(entry.name) or not entry.is_file():
                removed.append(f"tmp/{entry.name}")
                self._remove(Path(entry.path))
        for entry in list(os.scandir(self.root)):
            if entry.name == "tmp" and entry.is_dir():
                continue
            path = Path(entry.path)
            if _SHA.match(entry.name) and entry.is_file() and file_sha256(path) == entry.name:
                continue
            log.warning("cache: removing %s (its content does not match its name)", entry.name)
            removed.append(entry.name)
            self._remove(path)
        if removed:
            fsync_dir(self.root)
        return removed

    def prune_parts(self, wanted: Iterable[str]) -> None:
        """Delete partial downloads of assets no manifest wants any more."""
        keep = {f"{sha}.part" for sha in wanted}
        for entry in list(os.scandir(self.tmp)):
            if entry.name not in keep:
                self._remove(Path(entry.path))

    def delete(self, hashes: Iterable[str]) -> None:
        hashes = list(hashes)
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

        A part file left by an earlier attempt is resumed with ``Range`` and
        ``If-Range`` (the asset's strong ETag is its hash). ``IntegrityError``
        (too many bytes, wrong hash) deletes the part file; ``DownloadError``
        (link cut, stop requested) keeps it for the next attempt.
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
            if stream.offset:
                progress(stream.offset)
            try:
                with part.open(mode) as f:
                    for chunk in stream.chunks:
                        if should_stop():
                            raise DownloadError(f"asset {sha256[:12]}: stopped; will resume")
                        written += len(chunk)
                        if written > size:
                            raise IntegrityError(
                                f"asset {sha256[:12]}: the server sent more than the "
                                f"{size} bytes the manifest declares"
                            )
                        f.write(chunk)
                        h.update(chunk)
                        progress(len(chunk))
                    f.flush()
                    os.fsync(f.fileno())
            except IntegrityError:
                part.unlink(missing_ok=True)
                raise
            except OSError as e:
                raise CacheError(f"asset {sha256[:12]}: cannot write {part}: {e}") from e
        if written < size:
            raise DownloadError(
                f"asset {sha256[:12]}: the transfer ended after {written} of {size} bytes"
            )
        if h.hexdigest() != sha256:
            part.unlink(missing_ok=True)
            raise IntegrityError(
                f"asset {sha256[:12]}: the bytes received have another hash "
                f"({h.hexdigest()[:12]}); refused"
            )
        return self._store(sha256, part, final)

    def _store(self, sha256: str, part: Path, final: Path) -> Path:
        try:
            os.replace(part, final)
            fsync_dir(self.root)
        except OSError as e:
            raise CacheError(f"asset {sha256[:12]}: cannot store it: {e}") from e
        return final
