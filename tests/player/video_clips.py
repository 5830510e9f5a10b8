"""Test clips made on the spot (never committed), and reading frame numbers back off the screen.

Every frame of a clip carries its own number as a row of ``BITS`` black or white
blocks across the middle of the picture (most significant bit first), over a
colour band that is neither black nor the player's background. A film of the
screen (``ffmpeg -f x11grab``) can then say which frame of the file was on screen.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

BITS = 10  # up to 1024 frames
Image = npt.NDArray[np.uint8]


def clip_frame(index: int, width: int, height: int) -> Image:
    """Frame ``index`` (BGR): an orange band top and bottom, the number in blocks between."""
    img = np.full((height, width, 3), (40, 140, 230), np.uint8)  # orange
    top, bottom = height // 4, height * 3 // 4
    block = width // BITS
    for bit in range(BITS):
        on = (index >> (BITS - 1 - bit)) & 1
        x0 = bit * block
        img[top:bottom, x0 : x0 + block] = 255 if on else 0
    # A thin frame line per block so a person looking at a film can count them.
    for bit in range(1, BITS):
        img[top:bottom, bit * block - 1 : bit * block + 1] = (0, 0, 200)
    return img


def read_index(picture: Image) -> int:
    """The frame number shown in ``picture`` (BGR or gray, the clip's area only)."""
    gray = picture if picture.ndim == 2 else cv2.cvtColor(picture, cv2.COLOR_BGR2GRAY)
    h, w = gray.shape
    block = w / BITS
    index = 0
    for bit in range(BITS):
        x = int((bit + 0.5) * block)
        patch = gray[int(h * 0.4) : int(h * 0.6), max(0, x - 2) : x + 3]
        index = index * 2 + (1 if float(patch.mean()) > 127 else 0)
    return index


def make_clip(
    path: Path,
    *,
    fps: float,
    frames: int,
    size: tuple[int, int] = (320, 180),
    codec: str = "h264",
    start: int = 0,
    drawn_at: tuple[int, int] | None = None,
) -> Path:
    """Write a clip: ``codec`` "h264" (MP4, ffmpeg libx264), "vp8" (WebM, libvpx) or
    "mp4v" (MP4, OpenCV's own writer).

    ``drawn_at`` (ffmpeg codecs): draw the frames this small and let ffmpeg scale them
    up to ``size`` pixel for pixel (nearest neighbour), the blocks as sharp as drawn at
    full size. A 4K clip then takes seconds and little memory, not a minute and 9 GB
    of raw frames in one pipe."""
    width, height = size
    if codec == "mp4v":
        writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), fps, size)
        assert writer.isOpened(), "OpenCV cannot write mp4v"
        for i in range(frames):
            writer.write(clip_frame(start + i, width, height))
        writer.release()
        return path
    ffmpeg = shutil.which("ffmpeg")
    assert ffmpeg, "ffmpeg is not installed (Debian package ffmpeg)"
    encode = {
        "h264": ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"],
        "h264-faststart": [
            *("-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"),
            *("-movflags", "+faststart"),
        ],
        "vp8": ["-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "1M"],
    }[codec]
    draw_w, draw_h = drawn_at or size
    scale = [] if drawn_at is None else ["-vf", f"scale={width}:{height}:flags=neighbor"]
    raw = b"".join(clip_frame(start + i, draw_w, draw_h).tobytes() for i in range(frames))
    subprocess.run(
        [
            *(ffmpeg, "-hide_banner", "-loglevel", "error", "-y"),
            *("-f", "rawvideo", "-pix_fmt", "bgr24", "-s", f"{draw_w}x{draw_h}"),
            *("-r", str(fps), "-i", "-"),
            *scale,
            *encode,
            str(path),
        ],
        input=raw,
        check=True,
        timeout=60,
    )
    return path
