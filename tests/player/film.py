"""Filming an X display with ``ffmpeg -f x11grab``: what a camera in front of the screen sees.

``Film`` records the top-left ``size`` of the screen (where the player's window is),
scaled by ``scale`` and in gray (cheap enough on two busy cores), to a raw file
while a player runs; ``frames()`` then reads it back as an array of pictures.
``blank(picture)`` is the definition the seamless tests use: a picture whose
pixels are nearly all one colour (the background, or black).
"""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path
from types import TracebackType

import numpy as np
import numpy.typing as npt

Gray = npt.NDArray[np.uint8]
# A picture is blank when this share of its pixels is within TOLERANCE of one value.
BLANK_SHARE = 0.995
TOLERANCE = 8


class Film:
    def __init__(
        self,
        display: str,
        path: Path,
        *,
        fps: int,
        size: tuple[int, int] = (1280, 720),
        scale: float = 0.5,
    ) -> None:
        self.path = path
        self.fps = fps
        self.scale = scale
        self.width, self.height = int(size[0] * scale), int(size[1] * scale)
        ffmpeg = shutil.which("ffmpeg")
        assert ffmpeg, "ffmpeg is not installed (Debian package ffmpeg)"
        self._cmd = [
            *(ffmpeg, "-hide_banner", "-loglevel", "error", "-nostdin", "-y"),
            *("-f", "x11grab", "-draw_mouse", "0", "-framerate", str(fps)),
            *("-video_size", f"{size[0]}x{size[1]}", "-i", f"{display}+0,0"),
            *("-vf", f"scale={self.width}:{self.height}:flags=area,format=gray"),
            *("-f", "rawvideo", str(path)),
        ]
        self._proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Film:
        self._proc = subprocess.Popen(self._cmd, stderr=subprocess.PIPE)
        # Filming has begun once the first frame is written.
        deadline = time.monotonic() + 15
        while not (self.path.exists() and self.path.stat().st_size > 0):
            assert self._proc.poll() is None, self._proc.stderr.read() if self._proc.stderr else ""
            assert time.monotonic() < deadline, "ffmpeg x11grab wrote nothing"
            time.sleep(0.05)
        return self

    def __exit__(
        self,
        _t: type[BaseException] | None,
        _e: BaseException | None,
        _tb: TracebackType | None,
    ) -> None:
        proc = self._proc
        assert proc is not None
        proc.terminate()  # ffmpeg ends its output cleanly on SIGTERM
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def frames(self) -> npt.NDArray[np.uint8]:
        """Every filmed picture, shape (n, height, width)."""
        data = np.fromfile(self.path, np.uint8)
        n = data.size // (self.width * self.height)
        return data[: n * self.width * self.height].reshape(n, self.height, self.width)


def blank(picture: Gray) -> bool:
    """Nearly all one colour: the background alone, or black."""
    values = picture.ravel()
    mode = int(np.bincount(values, minlength=256).argmax())
    near = np.abs(values.astype(np.int16) - mode) <= TOLERANCE
    return float(near.mean()) >= BLANK_SHARE


def card_area(picture: Gray) -> Gray:
    """The card area of ``playback.kv`` (0.9 × 0.78 of the window, top at 0.89)."""
    h, w = picture.shape
    top = int(h * (1 - 0.89))
    return picture[top : top + int(h * 0.78), int(w * 0.05) : int(w * 0.95)]
