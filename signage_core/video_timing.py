"""Which frame of a video is due when: the pacing rule of the player's video decoder.

A video plays at its file's own frame rate against a monotonic clock that the
caller reads and passes in (this module never reads a clock). Frame ``i`` is due
at ``start + i / fps``. When decoding falls behind, the frames already overdue
are dropped (decoded, not shown) so the picture catches up: playback never slows
down, and a 10 s clip takes 10 s on a weak machine too, with fewer frames shown.

``pace(next_index, elapsed_s, fps)`` answers what the decoder does with the frame
it is about to read: show it (and wait until its time), or drop it. It leaves the
decoding, the waiting and the drawing to the player (``signage_player/video.py``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# A file that states no usable frame rate (0, NaN, absurd) plays at this one.
DEFAULT_FPS = 25.0
MAX_FPS = 240.0


def usable_fps(reported: float) -> float:
    """The frame rate to play at, given what the container reports."""
    if not math.isfinite(reported) or reported <= 0 or reported > MAX_FPS:
        return DEFAULT_FPS
    return float(reported)


def due_at(index: int, fps: float) -> float:
    """Seconds after the start at which frame ``index`` is due."""
    return index / fps


def due_index(elapsed_s: float, fps: float) -> int:
    """The frame that should be on screen ``elapsed_s`` after the start."""
    if elapsed_s <= 0:
        return 0
    # A hair of tolerance: 1/30 * 30 must be frame 30, not 29.
    return math.floor(elapsed_s * fps + 1e-9)


@dataclass(frozen=True)
class Step:
    """What to do with frame ``index``: show it after ``wait_s`` seconds, or drop it."""

    index: int
    show: bool
    wait_s: float


def pace(index: int, elapsed_s: float, fps: float) -> Step:
    """The decision for frame ``index`` when ``elapsed_s`` have passed since the start.

    A frame is dropped when the next frame is already due (it would be on screen
    for no time at all); otherwise it is shown, after waiting for its time if early.
    The first frame is never dropped: it is the picture the switch shows.
    """
    if index > 0 and due_index(elapsed_s, fps) > index:
        return Step(index, False, 0.0)
    return Step(index, True, max(0.0, due_at(index, fps) - elapsed_s))
