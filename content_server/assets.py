"""The asset store: media files named by their sha256 under ``DATA/assets/``.

A file is copied to ``assets/tmp/`` while it is hashed, fsynced, then renamed
to its hash and the folder fsynced: a crash leaves either nothing or the whole
file, never part of one under a real name. The same bytes are stored once.
The media type comes from the first bytes (``sniff``), never from the name.
Recording assets in the database is the caller's job (``Store.add_asset``).
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from .durable import fsync_dir
from .errors import InvalidInputError

SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
CHUNK = 1024 * 1024
IMAGE_TYPES = ("image/png", "image/jpeg")
VIDEO_TYPES = ("video/mp4", "video/webm")
# ISO-BMFF brands of still images (HEIF, AVIF): an ``ftyp`` box that is not a video.
_IMAGE_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"mif1", b"msf1", b"avif", b"avis"}
SNIFF_BYTES = 64


def sniff(head: bytes) -> str | None:
    """The media type of a file from its first bytes, or None if we do not play it."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head[4:8] == b"ftyp" and head[8:12] not in _IMAGE_BRANDS:
        return "video/mp4"
    if head.startswith(b"\x1a\x45\xdf\xa3") and b"\x42\x82" in head and b"webm" in head:
        return "video/webm"
    return None


def describe_types() -> str:
    return "PNG, JPEG, MP4 or WebM"


@dataclass(frozen=True)
class StoredFile:
    sha256: str
    size: int
    media_type: str


class AssetStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.tmp = root / "tmp"

    def path(self, sha256: str) -> Path:
        if not SHA256_RE.match(sha256):
            raise ValueError(f"not a sha256: {sha256!r}")
        return self.root / sha256

    def has(self, sha256: str) -> bool:
        return SHA256_RE.match(sha256) is not None and self.path(sha256).is_file()

    def put_file(self, source: Path, max_bytes: int) -> StoredFile:
        with open(source, "rb") as f:
            return self.put_stream(f, max_bytes)

    def put_stream(self, stream: BinaryIO, max_bytes: int) -> StoredFile:
        """Store what ``stream`` holds; raise ``InvalidInputError`` if it is not playable media."""
        self.tmp.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        size = 0
        head = b""
        fd, tmp_name = tempfile.mkstemp(dir=self.tmp, suffix=".part")
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as out:
                while chunk := stream.read(CHUNK):
                    if len(head) < SNIFF_BYTES:
                        head += chunk[: SNIFF_BYTES - len(head)]
                    size += len(chunk)
                    if size > max_bytes:
                        raise InvalidInputError(
                            f"the file is larger than the limit of {max_bytes} bytes"
                        )
                    digest.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            media_type = sniff(head)
            if media_type is None:
                raise InvalidInputError(f"not a {describe_types()} file")
            sha = digest.hexdigest()
            final = self.path(sha)
            if final.exists():
                tmp.unlink()
            else:
                os.chmod(tmp, 0o644)
                os.replace(tmp, final)
                fsync_dir(self.root)
            return StoredFile(sha, size, media_type)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise


def sniff_file(path: Path) -> str | None:
    """The media type of a file on disk, from its first bytes."""
    with open(path, "rb") as f:
        return sniff(f.read(SNIFF_BYTES))


def adopt(store: AssetStore, tmp: Path, sha256: str) -> bool:
    """Move a verified temp file (inside ``store.tmp``) to its hash name; False if the same
    bytes were stored already (the temp file is then removed)."""
    final = store.path(sha256)
    if final.exists():
        tmp.unlink(missing_ok=True)
        return False
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())
    os.chmod(tmp, 0o644)
    os.replace(tmp, final)
    fsync_dir(store.root)
    return True
