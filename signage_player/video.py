"""Video decoding for the player: one worker thread per file, frames handed to the main thread.

A ``VideoStream`` opens its file with OpenCV on a thread of its own and decodes the
first frame straight away, so a video card can be prepared while the card before
it is still on screen (the switch then shows a picture at once, never black).
``start()`` (main thread) starts the clock; the worker then decodes frame after
frame, paced by ``signage_core.video_timing.pace`` against ``time.monotonic``:
a frame is shown at its time, frames already overdue are dropped, playback never
slows down.

What crosses threads is one lock-protected slot: the latest decoded frame (RGB,
numpy, RGBA) and the stream's state. The main thread reads it from a Clock interval
(``take()``) and uploads the frame into a Kivy texture (``playback.VideoCard``);
the worker never touches Kivy.

States: ``opening`` → ``ready`` (first frame decoded, waiting for ``start``) →
``playing`` → ``ended`` (the last frame was shown), or ``failed`` from any of them
with a message for the operator (the file does not open, has no frame, or stops
decoding before its announced end). ``close()`` stops the worker; it releases
the file itself.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from signage_core.video_timing import pace, usable_fps

log = logging.getLogger(__name__)

Frame = npt.NDArray[np.uint8]
# A file whose header announces N frames may end a frame or two early (containers
# round their duration); more missing than this is a file cut short.
END_TOLERANCE_FRAMES = 3
END_TOLERANCE_SHARE = 0.02


@dataclass(frozen=True)
class Picked:
    """What the main thread takes from the slot: a new frame (or None) and the state."""

    frame: Frame | None
    index: int
    state: str
    error: str | None


class VideoStream:
    """Decodes ``path`` on a worker thread; the main thread calls ``start``, ``take``, ``close``."""

    def __init__(
        self,
        path: Path,
        label: str,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_size: tuple[int, int] | None = None,
    ) -> None:
        self.path = path
        self.label = label  # for messages: "playlist/item (lang)"
        # Frames larger than this (the screen) are shrunk on the worker, so a 4K file on
        # a 1080p screen never makes the main thread upload 4K textures.
        self.max_size = max_size
        self._clock = clock
        self._lock = threading.Lock()
        self._go = threading.Event()
        self._stop = threading.Event()
        # The slot (guarded by _lock):
        self._frame: Frame | None = None
        self._index = -1
        self._taken = -1
        self._state = "opening"
        self._error: str | None = None
        self._progress_at = clock()
        self._t0 = 0.0
        # Set once by the worker before "ready", read-only afterwards:
        self.fps = 0.0
        self.frame_count = 0
        self.size = (0, 0)
        # Counters for reports and benchmarks:
        self.decoded = 0
        self.dropped = 0
        self.shown = 0  # frames the main thread took (main thread only)
        self._thread = threading.Thread(
            target=self._work, name=f"video {path.name[:12]}", daemon=True
        )
        self._thread.start()

    # -- main thread ---------------------------------------------------------------------

    @property
    def state(self) -> str:
        with self._lock:
            return self._state

    @property
    def error(self) -> str | None:
        with self._lock:
            return self._error

    def stalled_for(self) -> float:
        """Seconds since the worker last made progress (a frame, or a state change)."""
        with self._lock:
            return self._clock() - self._progress_at

    def start(self) -> None:
        """Start the clock: frame 0 is due now. Only from the ``ready`` state."""
        with self._lock:
            if self._state != "ready":
                return
            self._t0 = self._clock()
            self._state = "playing"
            self._progress_at = self._t0
        self._go.set()

    def take(self) -> Picked:
        """The newest frame if the main thread has not taken it yet, and the state."""
        with self._lock:
            frame = self._frame if self._index != self._taken else None
            if frame is not None:
                self._taken = self._index
                self.shown += 1
            return Picked(frame, self._index, self._state, self._error)

    def close(self) -> None:
        self._stop.set()
        self._go.set()

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    # -- worker thread -------------------------------------------------------------------

    def _set(self, state: str, error: str | None = None) -> None:
        with self._lock:
            if self._state in ("ended", "failed"):
                return
            self._state = state
            self._error = error
            self._progress_at = self._clock()

    def _publish(self, frame: Frame, index: int) -> None:
        with self._lock:
            self._frame = frame
            self._index = index
            self._progress_at = self._clock()

    def _fail(self, why: str) -> None:
        message = f"video {self.label}: {why}; skipped"
        log.error("%s (%s)", message, self.path)
        self._set("failed", message)

    def _work(self) -> None:
        cap = None
        try:
            cap = cv2.VideoCapture(str(self.path))
            if not cap.isOpened():
                self._fail("the file does not open as a video (empty, damaged or not a video)")
                return
            self.fps = usable_fps(float(cap.get(cv2.CAP_PROP_FPS)))
            self.frame_count = max(0, int(cap.get(cv2.CAP_PROP_FRAME_COUNT)))
            ok, first = cap.read()
            if not ok or first is None:
                self._fail("the file has no frame that decodes")
                return
            self.decoded = 1
            self.size = (int(first.shape[1]), int(first.shape[0]))
            self._publish(self._rgba(first), 0)
            self._set("ready")
            self._go.wait()
            if not self._stop.is_set():
                self._play(cap)
        except Exception as e:  # an OpenCV error mid-way: skip the file, never crash
            self._fail(f"decoding stopped ({e})")
        finally:
            if cap is not None:
                cap.release()

    def _rgba(self, frame: npt.NDArray[Any]) -> Frame:
        return _rgba(_fit(frame, self.max_size))

    def _play(self, cap: cv2.VideoCapture) -> None:
        index = 1
        while not self._stop.is_set():
            step = pace(index, self._clock() - self._t0, self.fps)
            if not step.show:
                if not cap.grab():
                    break
                self.dropped += 1
                index += 1
                continue
            ok, frame = cap.read()
            if not ok or frame is None:
                break
            self.decoded += 1
            rgba = self._rgba(frame)
            wait = pace(index, self._clock() - self._t0, self.fps).wait_s
            if wait > 0 and self._stop.wait(wait):
                return
            self._publish(rgba, index)
            index += 1
        if self._stop.is_set():
            return
        # The last frame stays on screen for its own frame time before the end.
        wait = pace(index, self._clock() - self._t0, self.fps).wait_s
        if wait > 0 and self._stop.wait(wait):
            return
        missing = self.frame_count - index
        if missing > max(END_TOLERANCE_FRAMES, self.frame_count * END_TOLERANCE_SHARE):
            self._fail(f"decoding stopped at frame {index} of {self.frame_count} (file cut short?)")
        else:
            self._set("ended")


def _fit(frame: npt.NDArray[Any], max_size: tuple[int, int] | None) -> npt.NDArray[Any]:
    if max_size is None:
        return frame
    height, width = frame.shape[:2]
    scale = min(max_size[0] / width, max_size[1] / height)
    if scale >= 1:
        return frame
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return cv2.resize(frame, size, interpolation=cv2.INTER_AREA)


def _rgba(frame: npt.NDArray[Any]) -> Frame:
    # Four bytes a pixel: the GPU's (and llvmpipe's) own layout, uploaded without a
    # conversion on the main thread (RGB took four times as long under Xvfb).
    if frame.ndim == 2:
        return np.ascontiguousarray(cv2.cvtColor(frame, cv2.COLOR_GRAY2RGBA))
    return np.ascontiguousarray(cv2.cvtColor(frame, cv2.COLOR_BGR2RGBA))
