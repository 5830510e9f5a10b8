"""The child process that decodes one media file: ``python -I -m content_server.decoder``.

OpenCV and FFmpeg are large decoders fed with files from the network; they
run here, never in the server, which holds the signing key. ``media.py``
starts this module with an empty environment and no inherited descriptors,
and sends one request as JSON on stdin::

    {"path": ..., "media_type": ..., "label": ..., "memory_bytes": ...,
     "cpu_s": ..., "max_pixels": ..., "test_hook": null}

Before touching the file the child limits itself (``RLIMIT_AS``,
``RLIMIT_CPU``, no core dumps, no new files) and, where the kernel offers
Landlock, gives up every file system access except reading the system and
Python folders and the one file: a decoder exploited by a crafted file
cannot read ``keys/`` or write anywhere. It answers one JSON line on stdout::

    {"ok": true, "facts": {...}, "sandbox": "landlock"}
    {"ok": false, "message": "..."}     (or "limit": "memory")

A crash, a kill by a limit or a hang is ``media.py``'s to judge; this module
only decodes. ``test_hook`` lets tests make the child hang, spin, allocate or crash
after its limits are set; the server never sends one.
"""

from __future__ import annotations

import base64
import ctypes
import json
import os
import resource
import signal
import sys
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np

THUMB_WIDTH = 320
IMAGE_TYPES = ("image/png", "image/jpeg")

# Landlock (linux/landlock.h): file system rights of ABI 1, and TRUNCATE from ABI 3.
_SYS_CREATE_RULESET, _SYS_ADD_RULE, _SYS_RESTRICT_SELF = 444, 445, 446
_PR_SET_NO_NEW_PRIVS = 38
_EXECUTE, _WRITE_FILE, _READ_FILE, _READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
_ABI1_ALL = (1 << 13) - 1
_TRUNCATE = 1 << 14


class DecodeError(Exception):
    """The file is not media we can play; the message says why, for a person."""


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64)]


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def limit_resources(memory_bytes: int, cpu_s: int) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_s, cpu_s + 1))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))


def landlock(readable: list[Path]) -> bool:
    """Allow only reading the folders and files ``readable``; False if the kernel cannot."""
    libc = ctypes.CDLL(None, use_errno=True)
    abi = libc.syscall(_SYS_CREATE_RULESET, None, ctypes.c_size_t(0), ctypes.c_uint32(1))
    if abi < 1:
        return False
    handled = _ABI1_ALL | (_TRUNCATE if abi >= 3 else 0)
    attr = _RulesetAttr(handled)
    ruleset = libc.syscall(
        _SYS_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(ctypes.sizeof(attr)), 0
    )
    if ruleset < 0:
        return False
    try:
        for path in readable:
            fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
            try:
                access = _READ_FILE | _EXECUTE | (_READ_DIR if path.is_dir() else 0)
                rule = _PathBeneathAttr(access, fd)
                if libc.syscall(_SYS_ADD_RULE, ruleset, 1, ctypes.byref(rule), 0) != 0:
                    return False
            finally:
                os.close(fd)
        if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            return False
        return bool(libc.syscall(_SYS_RESTRICT_SELF, ruleset, 0) == 0)
    finally:
        os.close(ruleset)


def _code_paths() -> list[Path]:
    """Where code may still be loaded from: the system's and Python's folders, never data."""
    paths = {Path(p) for p in ("/usr", "/lib", "/lib64", "/etc/ld.so.cache")}
    paths |= {Path(sys.prefix), Path(sys.base_prefix), Path(cv2.__file__).parent.parent}
    return sorted(p for p in paths if p.exists())


def inspect(path: Path, media_type: str, label: str, max_pixels: int) -> dict[str, Any]:
    if media_type in IMAGE_TYPES:
        return _image(path, media_type, label, max_pixels)
    return _video(path, media_type, label, max_pixels)


def _image(path: Path, media_type: str, label: str, max_pixels: int) -> dict[str, Any]:
    image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if image is None or image.size == 0:
        raise DecodeError(f"{label} looks like {media_type} but does not decode")
    height, width = image.shape[:2]
    if width * height > max_pixels:
        raise DecodeError(f"{label} has {width}×{height} pixels, more than the limit")
    return {"media_type": media_type, "width": int(width), "height": int(height)}


def _thumbnail(frame: np.ndarray) -> str:
    height, width = frame.shape[:2]
    scale = min(1.0, THUMB_WIDTH / max(width, 1))
    small = cv2.resize(frame, (max(1, int(width * scale)), max(1, int(height * scale))))
    ok, png = cv2.imencode(".png", small)
    if not ok:
        raise DecodeError("a thumbnail could not be made")
    return base64.b64encode(png.tobytes()).decode("ascii")


def _video(path: Path, media_type: str, label: str, max_pixels: int) -> dict[str, Any]:
    broken = DecodeError(
        f"{label} looks like {media_type} but does not play (truncated or damaged?); "
        "export it again and upload the whole file"
    )
    cap = cv2.VideoCapture(str(path))
    try:
        if not cap.isOpened():
            raise broken
        frames = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
        fps = float(cap.get(cv2.CAP_PROP_FPS))
        width = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH))
        height = int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
        if frames <= 0 or not fps > 0 or width <= 0 or height <= 0:
            raise broken
        if width * height > max_pixels:
            raise DecodeError(f"{label} has {width}×{height} pixels, more than the limit")
        ok, first = cap.read()
        if not ok:
            raise broken
        thumb = first
        if frames > 2:
            cap.set(cv2.CAP_PROP_POS_FRAMES, frames // 2)
            ok, middle = cap.read()
            thumb = middle if ok else first
        if frames > 1:
            cap.set(cv2.CAP_PROP_POS_FRAMES, frames - 1)
            ok, _ = cap.read()
            if not ok:
                raise broken
    finally:
        cap.release()
    return {
        "media_type": media_type,
        "width": width,
        "height": height,
        "duration_s": round(frames / fps, 3),
        "fps": round(fps, 3),
        "frames": frames,
        "thumbnail_png": _thumbnail(thumb),
    }


def _is_open(fd: int) -> bool:
    try:
        os.fstat(fd)
    except OSError:
        return False
    return True


def _test_hook(request: dict[str, Any]) -> dict[str, Any] | None:
    hook = request.get("test_hook")
    if hook == "hang":
        time.sleep(3600)
    elif hook == "spin":
        while True:
            pass
    elif hook == "crash":  # a decoder bug: the process dies on a signal
        os.kill(os.getpid(), signal.SIGSEGV)
    elif hook == "allocate":
        hog = []
        while True:
            hog.append(bytearray(64 * 1024 * 1024))
    elif hook == "report":  # what a decoder taken over by a crafted file could reach
        fds = [fd for fd in range(1024) if _is_open(fd)]
        read = {}
        for probe in request.get("probe", []):
            try:
                Path(probe).read_bytes()
                read[probe] = "read"
            except OSError as e:
                read[probe] = type(e).__name__
        return {"environ": dict(os.environ), "fds": fds, "read": read}
    return None


def main() -> None:
    request = json.loads(sys.stdin.readline())
    path = Path(request["path"])
    cv2.setNumThreads(1)
    limit_resources(int(request["memory_bytes"]), int(request["cpu_s"]))
    sandboxed = landlock([*_code_paths(), path])
    report = None
    try:
        report = _test_hook(request)
        facts = inspect(path, request["media_type"], request["label"], int(request["max_pixels"]))
        answer: dict[str, Any] = {"ok": True, "facts": facts}
    except DecodeError as e:
        answer = {"ok": False, "message": str(e)}
    except MemoryError:
        answer = {"ok": False, "limit": "memory"}
    except cv2.error as e:  # OpenCV's own refusal, often an allocation over RLIMIT_AS
        memory = "memory" in str(e).lower() or "alloc" in str(e).lower()
        broken = f"{request['label']} looks like {request['media_type']} but does not decode"
        answer = {"ok": False, "limit": "memory"} if memory else {"ok": False, "message": broken}
    answer["sandbox"] = "landlock" if sandboxed else "none"
    if report is not None:
        answer["report"] = report
    sys.stdout.write(json.dumps(answer) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
