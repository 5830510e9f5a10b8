"""Making a file's creation, rename or removal survive a power cut."""

from __future__ import annotations

import os
from pathlib import Path


def fsync_dir(path: Path) -> None:
    """Flush the folder ``path`` itself: the names in it, after a file was linked,
    renamed or removed there (flushing the file alone does not keep its name)."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
