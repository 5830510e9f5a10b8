"""Media checks: does an uploaded file really decode, and what is it?

The type comes from the first bytes (``assets.sniff``), never from the name.
Then the size the header declares (``media_header``) is checked against the
limit before any decoder sees the file: a small PNG that declares
12000×12000 pixels is refused here, costing nothing.

Decoding happens in a child process (``decoder``), never in the server,
which holds the signing key: it starts with an empty environment and no
inherited descriptors, limits its own memory and CPU time, and is killed
after a wall-clock timeout. An image must decode; a video must open, report
a frame count and rate, and yield its first and its last frame (a truncated
file fails one of these). For a video the duration, resolution and frame
rate are recorded and a PNG thumbnail of a middle frame is made (stored by
the caller as an asset of its own). The facts of a file that decoded are
kept by its sha256 (a small LRU), so the same bytes are not decoded twice.
Blocking (waits for the child): call from a thread.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import selectors
import signal
import subprocess
import sys
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .assets import IMAGE_TYPES, describe_types, sniff
from .errors import MediaLimitError, MediaTooLargeError, UnsupportedMediaError
from .media_header import declared_size

if TYPE_CHECKING:
    from .settings import Settings

log = logging.getLogger(__name__)

MAX_PIXELS = 8192 * 8192  # images
MAX_VIDEO_PIXELS = 4096 * 4096  # videos: 4K (3840×2160, 4096×2160) and below
# Decoders running at once; more uploads wait for a free one (each may use the memory limit).
_SLOTS = threading.BoundedSemaphore(2)
_warned_unsandboxed = threading.Event()
# Facts of files that decoded, by content: the same bytes checked again (a folder imported
# again, an upload repeated) need no new decoder. Small: thumbnails are 320 px wide.
_CACHE: OrderedDict[tuple[str, DecodeLimits], MediaFacts] = OrderedDict()
_CACHE_SIZE = 128
_CACHE_LOCK = threading.Lock()


@dataclass(frozen=True)
class DecodeLimits:
    """What one decoding child may use (``CONTENT_SERVER_MEDIA_DECODE_*``)."""

    memory_mb: int = 1536  # address space, including ~450 MB of OpenCV itself
    cpu_s: int = 60
    timeout_s: float = 120.0

    @classmethod
    def of(cls, settings: Settings) -> DecodeLimits:
        return cls(
            settings.media_decode_memory_mb,
            settings.media_decode_cpu_s,
            settings.media_decode_timeout_s,
        )


@dataclass(frozen=True)
class MediaFacts:
    media_type: str
    width: int
    height: int
    duration_s: float | None = None
    fps: float | None = None
    frames: int | None = None
    thumbnail_png: bytes | None = None


def _limit_text(media_type: str) -> str:
    return "8192×8192 for images" if media_type in IMAGE_TYPES else "4096×4096 for videos"


def check_header(path: Path, media_type: str, label: str) -> tuple[int, int]:
    """The declared ``(width, height)``; refuse a file whose header is missing or too large."""
    with path.open("rb") as f:
        size = declared_size(f, media_type)
    if size is None and media_type in IMAGE_TYPES:
        raise UnsupportedMediaError(
            f"{label} looks like {media_type} but does not decode: its header does not say "
            "how large the picture is (damaged or truncated?)"
        )
    if size is None:
        raise UnsupportedMediaError(
            f"{label} looks like {media_type} but does not play (truncated or damaged?): "
            "its header does not say how large the picture is; export it again and upload "
            "the whole file"
        )
    width, height = size
    limit = MAX_PIXELS if media_type in IMAGE_TYPES else MAX_VIDEO_PIXELS
    if width * height > limit:
        raise MediaTooLargeError(
            f"{label} declares {width}×{height} pixels; the limit is {_limit_text(media_type)}. "
            "Export it smaller and upload it again"
        )
    return size


def inspect(
    path: Path,
    head: bytes,
    label: str,
    limits: DecodeLimits | None = None,
    *,
    test_hook: str | None = None,
    probe: tuple[str, ...] = (),
) -> MediaFacts:
    """Facts about the file; ``UnsupportedMediaError`` (or a subclass) if we cannot play it.

    ``test_hook`` and ``probe`` are for tests only (see ``decoder``).
    """
    media_type = sniff(head)
    if media_type is None:
        raise UnsupportedMediaError(
            f"{label} is not a {describe_types()} file (judged by its content, not its name)"
        )
    check_header(path, media_type, label)
    limits = limits or DecodeLimits()
    key = (_sha256(path), limits)
    with _CACHE_LOCK:
        cached = _CACHE.get(key) if test_hook is None else None
    if cached is not None:
        return cached
    answer = decode_in_child(path, media_type, label, limits, test_hook=test_hook, probe=probe)
    if not answer.get("ok"):
        if answer.get("limit") == "memory":
            raise _limit_error(label, limits, "memory")
        raise UnsupportedMediaError(str(answer.get("message") or f"{label} does not decode"))
    facts: dict[str, Any] = answer["facts"]
    thumb = facts.get("thumbnail_png")
    found = MediaFacts(
        facts["media_type"],
        int(facts["width"]),
        int(facts["height"]),
        duration_s=facts.get("duration_s"),
        fps=facts.get("fps"),
        frames=facts.get("frames"),
        thumbnail_png=base64.b64decode(thumb) if thumb else None,
    )
    with _CACHE_LOCK:
        _CACHE[key] = found
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return found


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def decode_in_child(
    path: Path,
    media_type: str,
    label: str,
    limits: DecodeLimits,
    *,
    test_hook: str | None = None,
    probe: tuple[str, ...] = (),
) -> dict[str, Any]:
    """The decoder's answer (see ``decoder``); ``MediaLimitError`` if a limit ended it."""
    request = {
        "path": str(path.resolve()),
        "media_type": media_type,
        "label": label,
        "memory_bytes": limits.memory_mb * 1024 * 1024,
        "cpu_s": limits.cpu_s,
        "max_pixels": MAX_PIXELS if media_type in IMAGE_TYPES else MAX_VIDEO_PIXELS,
        "test_hook": test_hook,
        "probe": list(probe),
    }
    with _SLOTS:
        answer = _run_child(request, label, limits)
    if answer.get("sandbox") != "landlock" and not _warned_unsandboxed.is_set():
        _warned_unsandboxed.set()
        log.warning(
            "this kernel offers no Landlock: media decoders run with limits and an empty "
            "environment, but could read the data folder if a crafted file took one over"
        )
    return answer


def _collect(
    proc: subprocess.Popen[bytes], request: bytes, timeout_s: float
) -> tuple[bytes, bytes, bool]:
    """Send the request, read the answer until the child exits; False if out of time.

    Waits with ``poll`` on the pipes and a pidfd, never with ``sleep``: the
    deadline is the monotonic clock's, whatever the wall clock says.
    """
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    try:
        proc.stdin.write(request)
        proc.stdin.close()
    except BrokenPipeError:  # it died at once; its exit status tells
        pass
    deadline = time.monotonic() + timeout_s
    chunks: dict[int, list[bytes]] = {proc.stdout.fileno(): [], proc.stderr.fileno(): []}
    pidfd = os.pidfd_open(proc.pid)
    try:
        with selectors.DefaultSelector() as sel:
            for fd in (*chunks, pidfd):
                sel.register(fd, selectors.EVENT_READ)
            open_fds = set(chunks) | {pidfd}
            while open_fds:
                left = deadline - time.monotonic()
                if left <= 0:
                    return b"", b"", False
                for key, _ in sel.select(left):
                    fd = int(key.fd)
                    data = os.read(fd, 65536) if fd != pidfd else b""
                    if data:
                        chunks[fd].append(data)
                    else:
                        sel.unregister(fd)
                        open_fds.discard(fd)
    finally:
        os.close(pidfd)
    proc.wait()  # it has exited: the pidfd said so
    return b"".join(chunks[proc.stdout.fileno()]), b"".join(chunks[proc.stderr.fileno()]), True


def _limit_error(label: str, limits: DecodeLimits, which: str) -> MediaLimitError:
    what = {
        "memory": f"more than {limits.memory_mb} MB of memory",
        "cpu": f"more than {limits.cpu_s} s of processor time",
        "time": f"more than {limits.timeout_s:g} s",
    }[which]
    return MediaLimitError(
        f"{label} could not be checked: decoding it took {what}, the server's limit. "
        "Export it smaller or shorter (or in H.264 / PNG / JPEG) and upload it again"
    )


def _run_child(request: dict[str, Any], label: str, limits: DecodeLimits) -> dict[str, Any]:
    proc = subprocess.Popen(
        [sys.executable, "-I", "-m", "content_server.decoder"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={"PATH": os.defpath, "MALLOC_ARENA_MAX": "2", "OPENCV_LOG_LEVEL": "ERROR"},
        cwd="/",
        close_fds=True,
        start_new_session=True,
    )
    try:
        out, err, in_time = _collect(proc, json.dumps(request).encode() + b"\n", limits.timeout_s)
    finally:
        if proc.poll() is None:  # out of time, or an exception of our own while waiting
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        for pipe in (proc.stdin, proc.stdout, proc.stderr):
            if pipe is not None:
                pipe.close()
    if not in_time:
        raise _limit_error(label, limits, "time")
    if err:
        log.debug("decoder of %s said: %s", label, err.decode(errors="replace")[-2000:])
    if proc.returncode in (-signal.SIGXCPU, -signal.SIGKILL):
        raise _limit_error(label, limits, "cpu")
    try:
        answer: dict[str, Any] = json.loads(out.decode().splitlines()[-1])
    except (ValueError, IndexError):
        # A decoder that died on the file (or could not allocate, MemoryError in C code).
        log.info("decoder of %s ended with %s: %s", label, proc.returncode, err[-500:])
        raise UnsupportedMediaError(
            f"{label} does not decode: the decoder stopped on it (damaged, or needs more "
            f"than the server's limit of {limits.memory_mb} MB); export it again"
        ) from None
    return answer
