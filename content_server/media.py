"""Media checks: does an uploaded file really decode, and what is it?

The type comes from the first bytes (``assets.sniff``), never from the name.
Then OpenCV opens it: an image must decode; a video must open, report a
frame count and rate, and yield its first and its last frame (a truncated
file fails one of these). For a video the duration, resolution and frame
rate are recorded and a PNG thumbnail of a middle frame is made (stored by
the caller as an asset of its own). Blocking (OpenCV): call from a thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from .assets import IMAGE_TYPES, describe_types, sniff
from .errors import UnsupportedMediaError

THUMB_WIDTH = 320
MAX_PIXELS = 8192 * 8192


@dataclass(frozen=True)
class MediaFacts:
    media_type: str
    width: int
    height: int
    duration_s: float | None = None
    fps: float | None = None
    frames: int | None = None
    thumbnail_png: bytes | None = None


def inspect(path: Path, head: bytes, label: str) -> MediaFacts:
    """Facts about the file; ``UnsupportedMediaError`` if it is not media we can play."""
    media_type = sniff(head)
    if media_type is None:
        raise UnsupportedMediaError(
            f"{label} is not a {describe_types()} file (judged by its content, not its name)"
        )
    if media_type in IMAGE_TYPES:
        return _image(path, media_type, label)
    return _video(path, media_type, label)


def _image(path: Path, media_type: str, label: str) -> MediaFacts:
    image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if image is None or image.size == 0:
        raise UnsupportedMediaError(f"{label} looks like {media_type} but does not decode")
    height, width = image.shape[:2]
    if width * height > MAX_PIXELS:
        raise UnsupportedMediaError(f"{label} has {width}×{height} pixels; the limit is 8192×8192")
    return MediaFacts(media_type, int(width), int(height))


def _thumbnail(frame: np.ndarray) -> bytes:
    height, width = frame.shape[:2]
    scale = min(1.0, THUMB_WIDTH / max(width, 1))
    small = cv2.resize(frame, (max(1, int(width * scale)), max(1, int(height * scale))))
    ok, png = cv2.imencode(".png", small)
    if not ok:
        raise UnsupportedMediaError("a thumbnail could not be made")
    return png.tobytes()


def _video(path: Path, media_type: str, label: str) -> MediaFacts:
    broken = UnsupportedMediaError(
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
    return MediaFacts(
        media_type,
        width,
        height,
        duration_s=round(frames / fps, 3),
        fps=round(fps, 3),
        frames=frames,
        thumbnail_png=_thumbnail(thumb),
    )
